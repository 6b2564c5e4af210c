package report_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

func TestScrubRemovesEverySecretFromEveryText(t *testing.T) {
	const secret, token = "whsec_scrub_secret_91", "probe_token_scrub_27"
	both := "a " + secret + " and " + token
	h := http.Header{"X-Echo": {both}}
	r := report.New("https://staging.example.com/"+secret, report.Settings{})
	r.Error, r.Notes = both, []string{both}
	r.Results = []harness.Result{{
		ID: "SIG-09", Title: both, Requirement: both, Seed: both, Expected: both, Observed: both, Fix: both, Reason: both, Notes: []string{both},
		Evidence: []harness.Exchange{{
			Request: harness.Request{URL: both, Body: both, Header: h},
			// A header name may echo a secret too.
			Response: &harness.Response{Body: both, Header: http.Header{"X-Echo": {both}, "X-" + secret: {"1"}}},
			Err:      both,
		}},
	}}
	r.Load = &report.Load{Errors: []report.Count{{What: both, Count: 1}}}
	r.Scrub(secret, token, "")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, token} {
		if strings.Contains(string(b), s) {
			t.Errorf("the report still holds %q: %s", s, b)
		}
	}
	if !strings.Contains(string(b), harness.Redacted) {
		t.Error("nothing shows where the secrets were")
	}
}

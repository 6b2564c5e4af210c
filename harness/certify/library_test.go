package certify_test

// The suite against a receiver whose signature check is the provider's
// official library, in that provider's scheme: clean it passes every
// signature check (N/A where the scheme cannot express one); with the
// check removed, the checks that catch a receiver that verifies nothing
// fail.

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/signing"
)

func TestReceiversVerifyingWithTheOfficialLibraries(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the signature checks four times")
	}
	const secret harness.Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	std, err := standardwebhooks.NewWebhook(secret.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	libraries := map[string]func(http.Header, []byte) error{
		"standard-webhooks": func(h http.Header, body []byte) error { return std.Verify(body, h) },
		"stripe": func(h http.Header, body []byte) error {
			return webhook.ValidatePayload(body, h.Get("Stripe-Signature"), secret.Reveal())
		},
	}
	noCheck := func(http.Header, []byte) error { return nil }
	for scheme, verify := range libraries {
		for _, tc := range []struct {
			name   string
			verify func(http.Header, []byte) error
			broken []string
		}{
			{"the library", verify, nil},
			// SIG-06, SIG-07 and SIG-14 warn (SHOULD); SIG-07 is N/A in
			// stripe, SIG-14 in standard-webhooks.
			{"no check", noCheck, ids("SIG-02 SIG-03 SIG-04 SIG-05 SIG-06 SIG-07 SIG-11 SIG-12 SIG-14")},
		} {
			t.Run(scheme+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				sc, err := signing.Builtin(scheme)
				if err != nil {
					t.Fatal(err)
				}
				srv, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{secret}, Scheme: sc, Verify: tc.verify}, false)
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				s, err := certify.Prepare(context.Background(), certify.Settings{
					URL: srv.WebhookURL, ProbeURL: srv.ProbeURL, Secret: secret, Scheme: scheme, ReportDir: t.TempDir(), Timing: relaxed,
				})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				sigs := slices.DeleteFunc(slices.Clone(s.Scenarios), func(sc *scenario.Scenario) bool { return sc.Category != "signature" })
				var broken []string
				for _, r := range s.Run(context.Background(), sigs) {
					switch r.Verdict {
					case harness.Fail, harness.Warn:
						broken = append(broken, r.ID)
						if tc.broken == nil {
							t.Logf("%s", report.Failure(r))
						}
					case harness.Skip:
						t.Errorf("%s skipped: %s", r.ID, r.Reason)
					}
				}
				want := slices.DeleteFunc(slices.Clone(tc.broken), func(id string) bool { return slices.Contains(notApplicable(t, scheme), id) })
				sort.Strings(broken)
				if !slices.Equal(broken, want) && !(len(broken) == 0 && len(want) == 0) {
					t.Errorf("a %s receiver verifying with %s broke %v, want exactly %v", scheme, tc.name, broken, want)
				}
			})
		}
	}
}

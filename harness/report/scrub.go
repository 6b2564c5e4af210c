package report

import (
	"net/http"
	"strings"

	"github.com/realm-ai/hookcert/harness"
)

// Scrub replaces every occurrence of the given secrets in the report's text
// with harness.Redacted. The sender and the probe already scrub their own
// secret from what they record; this last pass before a report is written
// also catches one echoed where the other's evidence is (the webhook secret
// in a probe answer, the probe token in a delivery's) and anything a
// message quoted.
func (r *Report) Scrub(secrets ...harness.Secret) {
	var pairs []string
	for _, s := range secrets {
		if v := s.Reveal(); v != "" {
			pairs = append(pairs, v, harness.Redacted)
		}
	}
	if len(pairs) == 0 {
		return
	}
	rep := strings.NewReplacer(pairs...)
	str := func(p *string) { *p = rep.Replace(*p) }
	strs := func(ss []string) {
		for i := range ss {
			str(&ss[i])
		}
	}
	header := func(h http.Header) {
		for _, vs := range h {
			strs(vs)
		}
	}
	str(&r.Target)
	str(&r.Error)
	strs(r.Notes)
	for i := range r.Results {
		res := &r.Results[i]
		for _, p := range []*string{&res.Title, &res.Requirement, &res.Seed, &res.Expected, &res.Observed, &res.Reason} {
			str(p)
		}
		strs(res.Notes)
		for j := range res.Evidence {
			ex := &res.Evidence[j]
			str(&ex.Request.URL)
			str(&ex.Request.Body)
			header(ex.Request.Header)
			str(&ex.Err)
			if ex.Response != nil {
				str(&ex.Response.Body)
				header(ex.Response.Header)
			}
		}
	}
	if r.Load != nil {
		for i := range r.Load.Errors {
			str(&r.Load.Errors[i].What)
		}
	}
}

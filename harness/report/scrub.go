package report

import "github.com/realm-ai/hookcert/harness"

// Scrub replaces every occurrence of the given secrets in the report's text
// with harness.Redacted, header names included. The sender and the probe
// already scrub their own secret from what they record; this last pass
// before a report is written also catches one echoed where the other's
// evidence is (the webhook secret in a probe answer, the probe token in a
// delivery's) and anything a message quoted.
func (r *Report) Scrub(secrets ...harness.Secret) {
	str := func(p *string) { *p = harness.Scrub(*p, secrets...) }
	strs := func(ss []string) {
		for i := range ss {
			str(&ss[i])
		}
	}
	str(&r.Target)
	str(&r.Error)
	strs(r.Notes)
	for i := range r.Results {
		res := &r.Results[i]
		for _, p := range []*string{&res.Title, &res.Requirement, &res.Seed, &res.Expected, &res.Observed, &res.Fix, &res.Reason} {
			str(p)
		}
		strs(res.Notes)
		for j := range res.Evidence {
			ex := &res.Evidence[j]
			str(&ex.Request.URL)
			str(&ex.Request.Body)
			// The whole body kept for re-sending, when there is one.
			ex.Request.KeepBody([]byte(harness.Scrub(string(ex.Request.Sent()), secrets...)))
			ex.Request.Header = harness.ScrubHeader(ex.Request.Header, secrets...)
			str(&ex.Err)
			if ex.Response != nil {
				str(&ex.Response.Body)
				ex.Response.Header = harness.ScrubHeader(ex.Response.Header, secrets...)
			}
		}
	}
	if r.Load != nil {
		for i := range r.Load.Errors {
			str(&r.Load.Errors[i].What)
		}
	}
}

package report

import (
	"net/http"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/redact"
)

// Scrub replaces every occurrence of the given secrets in the report's text
// with harness.Redacted, header names included. The sender and the probe
// already scrub their own secret from what they record; this last pass
// before a report is written also catches one echoed where the other's
// evidence is (the webhook secret in a probe answer, the probe token in a
// delivery's) and anything a message quoted.
func (r *Report) Scrub(secrets ...harness.Secret) {
	r.each(func(s string) string { return redact.Scrub(s, secrets...) },
		func(h http.Header) http.Header { return redact.Header(h, secrets...) })
}

// ScrubURLs takes the credentials of the run's URLs (redact.URLs)
// out of the report's text: an error that names the URL, an answer that
// echoes its key, a URL recorded as given. A nil scrub changes nothing.
func (r *Report) ScrubURLs(u *redact.URLs) {
	if u == nil {
		return
	}
	r.each(u.Scrub, u.Header)
}

// each applies str to every text of the report and hdr to every header.
func (r *Report) each(str func(string) string, hdr func(http.Header) http.Header) {
	one := func(p *string) { *p = str(*p) }
	all := func(ss []string) {
		for i := range ss {
			one(&ss[i])
		}
	}
	one(&r.Target)
	one(&r.Error)
	all(r.Notes)
	for i := range r.Results {
		res := &r.Results[i]
		for _, p := range []*string{&res.Title, &res.Requirement, &res.Seed, &res.Expected, &res.Observed, &res.Reason, &res.Fix} {
			one(p)
		}
		all(res.Notes)
		for j := range res.Evidence {
			ex := &res.Evidence[j]
			one(&ex.Request.URL)
			one(&ex.Request.Body)
			// The whole body kept for re-sending, when there is one.
			ex.Request.KeepBody([]byte(str(string(ex.Request.Sent()))))
			ex.Request.Header = hdr(ex.Request.Header)
			one(&ex.Err)
			if ex.Response != nil {
				one(&ex.Response.Body)
				ex.Response.Header = hdr(ex.Response.Header)
			}
		}
	}
	if r.Load != nil {
		for i := range r.Load.Errors {
			one(&r.Load.Errors[i].What)
		}
	}
}

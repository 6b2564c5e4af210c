package redact

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/realm-ai/hookcert/harness"
)

// URL returns raw as reports and messages may show it: the
// credentials a URL can carry, its userinfo (user:password@) and the value
// of every query parameter (a serverless function key such as ?code=...),
// replaced by harness.Redacted, and the rest as given. What is sent is the URL as
// given; only what is shown changes. It reads raw as text, so a URL that
// does not parse (and is shown in the error saying so) is redacted too.
func URL(raw string) string {
	userinfo, query := credentials(raw)
	if userinfo != "" {
		raw = strings.Replace(raw, userinfo+"@", harness.Redacted+"@", 1)
	}
	if query != "" {
		raw = strings.Replace(raw, "?"+query, "?"+redactQuery(query), 1)
	}
	return raw
}

// userinfoRE matches a URL's scheme and userinfo, up to its '@'.
var userinfoRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)@`)

// credentials returns the userinfo of a URL (without its '@') and its raw
// query (without '?' and the fragment), read as text.
func credentials(raw string) (userinfo, query string) {
	if m := userinfoRE.FindStringSubmatch(raw); m != nil {
		userinfo = m[1]
	}
	if _, q, ok := strings.Cut(raw, "?"); ok {
		query, _, _ = strings.Cut(q, "#")
	}
	return userinfo, query
}

// redactQuery replaces each value of a raw query by harness.Redacted, keeping the
// names.
func redactQuery(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if name, _, ok := strings.Cut(p, "="); ok {
			parts[i] = name + "=" + harness.Redacted
		}
	}
	return strings.Join(parts, "&")
}

// URLs takes the credentials of a run's URLs out of text that may
// quote them: an error that names the URL, an answer that echoes it. It
// is what URL is to a URL, for any text. The zero value (or nil)
// scrubs nothing.
type URLs struct {
	// users are the userinfo parts as written, "user:password@".
	users []string
	// pairs match the query's name=value pairs as written, the value
	// between two groups that are kept.
	pairs []*regexp.Regexp
	// long are the values long enough to be replaced wherever they stand
	// (shortSecret characters or more), decoded and as written.
	long []harness.Secret
}

// NewURLs returns the scrub of the credentials of urls; URLs without
// any are passed over, and nil is returned when none has any.
func NewURLs(urls ...string) *URLs {
	s := &URLs{}
	add := func(v string) {
		if len(v) >= shortSecret && !slices.Contains(s.long, harness.Secret(v)) {
			s.long = append(s.long, harness.Secret(v))
		}
	}
	for _, raw := range urls {
		userinfo, query := credentials(raw)
		if userinfo != "" {
			// user:password@ as written, wherever the URL is quoted.
			s.users = append(s.users, userinfo+"@")
			user, pass, _ := strings.Cut(userinfo, ":")
			for _, v := range []string{user, pass} {
				add(v)
				if dec, err := url.PathUnescape(v); err == nil {
					add(dec)
				}
			}
		}
		for _, part := range strings.Split(query, "&") {
			name, value, ok := strings.Cut(part, "=")
			if !ok || value == "" {
				continue
			}
			// name=value after ? or &, up to where a value ends.
			s.pairs = append(s.pairs, regexp.MustCompile(`([?&]`+regexp.QuoteMeta(name)+`=)`+regexp.QuoteMeta(value)+`([&#"'\s\\]|$)`))
			add(value)
			if dec, err := url.QueryUnescape(value); err == nil {
				add(dec)
			}
		}
	}
	if len(s.users)+len(s.pairs) == 0 {
		return nil
	}
	return s
}

// Scrub returns text with the URLs' credentials replaced by harness.Redacted.
func (s *URLs) Scrub(text string) string {
	if s == nil || text == "" {
		return text
	}
	for _, u := range s.users {
		text = strings.ReplaceAll(text, u, harness.Redacted+"@")
	}
	for _, re := range s.pairs {
		text = re.ReplaceAllString(text, "${1}"+harness.Redacted+"${2}")
	}
	return Scrub(text, s.long...)
}

// Header returns a copy of h with the URLs' credentials taken out of its
// names and values.
func (s *URLs) Header(h http.Header) http.Header { return mapHeader(h, s.Scrub, s.Scrub) }

// Secrets returns the credentials long enough to be looked for anywhere,
// for what checks a text for secrets (Echoes).
func (s *URLs) Secrets() []harness.Secret {
	if s == nil {
		return nil
	}
	return s.long
}

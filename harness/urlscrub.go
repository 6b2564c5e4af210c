package harness

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// RedactURL returns raw as reports and messages may show it: the
// credentials a URL can carry, its userinfo (user:password@) and the value
// of every query parameter (a serverless function key such as ?code=...),
// replaced by Redacted, and the rest as given. What is sent is the URL as
// given; only what is shown changes. Anything that does not parse as a
// URL with a host is returned as is.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User == nil && u.RawQuery == "" {
		return raw
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		b.WriteString(Redacted + "@")
	}
	b.WriteString(u.Host + u.EscapedPath())
	if u.RawQuery != "" {
		b.WriteString("?" + redactQuery(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#" + u.EscapedFragment())
	}
	return b.String()
}

// redactQuery replaces each value of a raw query by Redacted, keeping the
// names.
func redactQuery(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if name, _, ok := strings.Cut(p, "="); ok {
			parts[i] = name + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// URLScrub takes the credentials of a run's URLs out of text that may
// quote them: an error that names the URL, an answer that echoes it. It
// is what RedactURL is to a URL, for any text. The zero value (or nil)
// scrubs nothing.
type URLScrub struct {
	// users are the userinfo parts as written, "user:password@".
	users []string
	// pairs match the query's name=value pairs as written, the value
	// between two groups that are kept.
	pairs []*regexp.Regexp
	// long are the values long enough to be replaced wherever they stand
	// (ShortSecret characters or more), decoded and as written.
	long []Secret
}

// NewURLScrub returns the scrub of the credentials of urls; URLs without
// any are passed over, and nil is returned when none has any.
func NewURLScrub(urls ...string) *URLScrub {
	s := &URLScrub{}
	add := func(v string) {
		if len(v) >= ShortSecret && !slices.Contains(s.long, Secret(v)) {
			s.long = append(s.long, Secret(v))
		}
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		if u.User != nil {
			// user:password@ as written, wherever the URL is quoted.
			s.users = append(s.users, u.User.String()+"@")
			add(u.User.Username())
			p, _ := u.User.Password()
			add(p)
		}
		for _, part := range strings.Split(u.RawQuery, "&") {
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

// Scrub returns text with the URLs' credentials replaced by Redacted.
func (s *URLScrub) Scrub(text string) string {
	if s == nil || text == "" {
		return text
	}
	for _, u := range s.users {
		text = strings.ReplaceAll(text, u, Redacted+"@")
	}
	for _, re := range s.pairs {
		text = re.ReplaceAllString(text, "${1}"+Redacted+"${2}")
	}
	return Scrub(text, s.long...)
}

// Secrets returns the credentials long enough to be looked for anywhere,
// for what checks a text for secrets (Echoes).
func (s *URLScrub) Secrets() []Secret {
	if s == nil {
		return nil
	}
	return s.long
}

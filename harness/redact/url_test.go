package redact

import (
	"strings"
	"testing"
)

// TestURL: what a URL may carry as a credential is hidden, the
// rest shown as given, so a report still says where the receiver is.
func TestURL(t *testing.T) {
	for _, tc := range []struct{ why, in, want string }{
		{"a URL without credentials is shown as is", "https://hooks.example.com/realm", "https://hooks.example.com/realm"},
		{"a function key in the query", "https://fn.example.net/api/hook?code=abcDEF123456==", "https://fn.example.net/api/hook?code=[redacted]"},
		{"every query value, the names kept", "https://h.example/p?code=k1&clientId=default&x", "https://h.example/p?code=[redacted]&clientId=[redacted]&x"},
		{"user and password", "https://alice:s3cr3t@h.example:8443/hook", "https://[redacted]@h.example:8443/hook"},
		{"a user alone", "http://token@127.0.0.1:9/webhook", "http://[redacted]@127.0.0.1:9/webhook"},
		{"the fragment is kept (the load's attempt)", "http://h.example/w?k=v#attempt=2/4", "http://h.example/w?k=[redacted]#attempt=2/4"},
		{"not a URL", "not a url", "not a url"},
		{"a URL that does not parse is redacted too", "http://u:p@127.0.0.1:1:9/w?code=k", "http://[redacted]@127.0.0.1:1:9/w?code=[redacted]"},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("%s: URL(%q) = %q, want %q", tc.why, tc.in, got, tc.want)
		}
	}
}

// TestURLs: a text that quotes the URL (Go's client errors do, a
// receiver may echo it) loses the credentials; a long key goes wherever
// it stands, a short value only where it stands as the query's value,
// so "v=1" does not redact every 1 of a report.
func TestURLs(t *testing.T) {
	const key = "Zx9_fnKey-0123456789=="
	s := NewURLs("https://bob:hunter2hunter2@fn.example.net/api/hook?code="+strings.ReplaceAll(key, "=", "%3D")+"&v=1", "https://plain.example/probe")
	for _, tc := range []struct{ why, in, want string }{
		{"an error naming the URL", `Post "https://bob:hunter2hunter2@fn.example.net/api/hook?code=Zx9_fnKey-0123456789%3D%3D&v=1": EOF`,
			`Post "https://[redacted]@fn.example.net/api/hook?code=[redacted]&v=[redacted]": EOF`},
		{"the decoded key echoed in a body", `{"error":"bad key ` + key + `"}`, `{"error":"bad key [redacted]"}`},
		{"the password alone", "password hunter2hunter2 refused", "password [redacted] refused"},
		{"a short value elsewhere is left", "X-Webhook-Attempt: 1, v=10", "X-Webhook-Attempt: 1, v=10"},
	} {
		if got := s.Scrub(tc.in); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.why, got, tc.want)
		}
	}
	if NewURLs("https://plain.example/hook", "::bad") != nil {
		t.Error("URLs without credentials give a scrub")
	}
	var none *URLs
	if none.Scrub("a?code=x") != "a?code=x" {
		t.Error("a nil scrub changes text")
	}
}

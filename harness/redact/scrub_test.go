package redact_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/redact"
)

func TestScrub(t *testing.T) {
	const r = harness.Redacted
	tests := []struct {
		why     string
		text    string
		secrets []harness.Secret
		want    string
	}{
		{"text without the secret is kept as it is", "bad signature", []harness.Secret{"whsec_abc"}, "bad signature"},
		{"every occurrence is replaced", "whsec_abc and whsec_abc", []harness.Secret{"whsec_abc"}, r + " and " + r},
		{"an empty secret hides nothing and breaks nothing", "abc", []harness.Secret{""}, "abc"},
		{"no secrets at all", "abc", nil, "abc"},
		{"two secrets are both replaced", "whsec_abc, tok_123", []harness.Secret{"whsec_abc", "tok_123"}, r + ", " + r},
		{"where two secrets start at the same place the earlier one wins", "whsec_abcdef", []harness.Secret{"whsec_abc", "whsec_abcdef"}, r + "def"},
		{"the comparison is exact: another case is not the secret", "WHSEC_ABC", []harness.Secret{"whsec_abc"}, "WHSEC_ABC"},
		// SECRET=s: inside words a short secret is ordinary text, so a
		// report keeps its words; alone it is still hidden.
		{"a short secret inside words is kept", `{"error":"invalid signature"}`, []harness.Secret{"s"}, `{"error":"invalid signature"}`},
		{"a short secret standing alone is replaced", `{"secret":"s","k":"s"} s`, []harness.Secret{"s"}, `{"secret":"` + r + `","k":"` + r + `"} ` + r},
		{"a short secret is a word beside punctuation", "key=abc1234;", []harness.Secret{"abc1234"}, "key=" + r + ";"},
		{"a short secret beside a letter or digit is part of a word", "xabc1234 abc12345", []harness.Secret{"abc1234"}, "xabc1234 abc12345"},
		{"a secret of eight characters is replaced anywhere", "xabcd12345y", []harness.Secret{"abcd1234"}, "x" + r + "5y"},
		{"long and short secrets together", "whsec_abc s sense", []harness.Secret{"whsec_abc", "s"}, r + " " + r + " sense"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := redact.Scrub(tt.text, tt.secrets...); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	const secret harness.Secret = "whsec_Hdr9"
	tests := []struct {
		why  string
		in   http.Header
		want http.Header
	}{
		{"values lose the secret", http.Header{"X-Echo": {"key=whsec_Hdr9", "fine"}}, http.Header{"X-Echo": {"key=" + harness.Redacted, "fine"}}},
		{"a canonicalised name holding the secret is redacted whole", http.Header{"X-Whsec_hdr9": {"1"}}, http.Header{harness.Redacted: {"1"}}},
		{"names without the secret are kept", http.Header{"Content-Type": {"text/plain"}}, http.Header{"Content-Type": {"text/plain"}}},
		{"nil stays nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			in := tt.in.Clone()
			got := redact.Header(tt.in, secret)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Header(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !reflect.DeepEqual(tt.in, in) {
				t.Errorf("Header changed its input: %v, was %v", tt.in, in)
			}
		})
	}
}

func TestEchoes(t *testing.T) {
	const secret harness.Secret = "whsec_Echo7"
	tests := []struct {
		why     string
		body    string
		h       http.Header
		secrets []harness.Secret
		want    bool
	}{
		{"the secret in the body", `{"secret":"whsec_Echo7"}`, nil, []harness.Secret{secret}, true},
		{"the secret in a header value", "", http.Header{"X-Debug": {"key=whsec_Echo7"}}, []harness.Secret{secret}, true},
		{"the secret as a header name, whatever its case", "", http.Header{"X-Whsec_echo7": {"1"}}, []harness.Secret{secret}, true},
		{"the second of two secrets", "tok_55", nil, []harness.Secret{secret, "tok_55"}, true},
		{"an answer that says nothing of it", "bad signature", http.Header{"X-Debug": {"fine"}}, []harness.Secret{secret}, false},
		{"an empty secret is never echoed", "anything", http.Header{"X-Debug": {"x"}}, []harness.Secret{""}, false},
		{"a short secret inside the words of a 401", `{"error":"invalid signature"}`, http.Header{"Content-Type": {"application/json"}}, []harness.Secret{"s"}, false},
		{"a short secret echoed as a value", `{"expected":"s"}`, nil, []harness.Secret{"s"}, true},
		{"a short secret echoed as a header value", "", http.Header{"X-Debug": {"s"}}, []harness.Secret{"s"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := redact.Echoes([]byte(tt.body), tt.h, tt.secrets...); got != tt.want {
				t.Errorf("Echoes = %v, want %v", got, tt.want)
			}
		})
	}
}

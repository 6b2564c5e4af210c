package harness_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/realm-ai/hookcert/harness"
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
		// Today's behaviour, kept on purpose: a one-letter secret is
		// scrubbed like any other (SECRET=s hides every s).
		{"a one-letter secret is scrubbed wherever it occurs", "sense", []harness.Secret{"s"}, r + "en" + r + "e"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := harness.Scrub(tt.text, tt.secrets...); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestScrubHeader(t *testing.T) {
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
			got := harness.ScrubHeader(tt.in, secret)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ScrubHeader(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !reflect.DeepEqual(tt.in, in) {
				t.Errorf("ScrubHeader changed its input: %v, was %v", tt.in, in)
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
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := harness.Echoes([]byte(tt.body), tt.h, tt.secrets...); got != tt.want {
				t.Errorf("Echoes = %v, want %v", got, tt.want)
			}
		})
	}
}

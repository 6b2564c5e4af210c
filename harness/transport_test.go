package harness_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/dial"
)

func TestParseHTTPVersion(t *testing.T) {
	tests := []struct {
		why, in string
		want    harness.HTTPVersion
		bad     bool
	}{
		{"empty is auto", "", harness.HTTPAuto, false},
		{"auto may be written out", "auto", harness.HTTPAuto, false},
		{"HTTP/1.1", "1.1", harness.HTTP1, false},
		{"HTTP/2", " 2 ", harness.HTTP2, false},
		{"HTTP/1.0 is not spoken", "1.0", "", true},
		{"a protocol name is not a version", "h2", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			v, err := harness.ParseHTTPVersion(tt.in)
			switch {
			case tt.bad && (!errors.Is(err, harness.ErrHTTPVersion) || !strings.Contains(err.Error(), "1.1 or 2")):
				t.Errorf("ParseHTTPVersion(%q) error %v; want ErrHTTPVersion saying what to write", tt.in, err)
			case !tt.bad && (err != nil || v != tt.want):
				t.Errorf("ParseHTTPVersion(%q) = %q, %v; want %q", tt.in, v, err, tt.want)
			}
		})
	}
}

// TestHTTPVersionProtocols: what each version offers in a TLS handshake,
// and which protocols its transports get: h2c with prior knowledge only
// when HTTP/2 is all a sender speaks.
func TestHTTPVersionProtocols(t *testing.T) {
	tests := []struct {
		v                 harness.HTTPVersion
		alpn              string
		http1, http2, h2c bool
	}{
		{harness.HTTPAuto, "h2,http/1.1", true, true, false},
		{harness.HTTP1, "http/1.1", true, false, false},
		{harness.HTTP2, "h2", false, true, true},
	}
	for _, tt := range tests {
		p := tt.v.Protocols()
		if got := strings.Join(tt.v.ALPN(), ","); got != tt.alpn {
			t.Errorf("%s offers %s, want %s", tt.v, got, tt.alpn)
		}
		if p.HTTP1() != tt.http1 || p.HTTP2() != tt.http2 || p.UnencryptedHTTP2() != tt.h2c {
			t.Errorf("%s speaks %s, want HTTP/1 %v, HTTP/2 %v, h2c %v", tt.v, p, tt.http1, tt.http2, tt.h2c)
		}
	}
	if p := dial.Transport(nil, time.Second, 1).Protocols; p == nil || !p.HTTP1() || p.HTTP2() {
		t.Errorf("dial.Transport speaks %v, want HTTP/1.1 only unless its caller says otherwise", p)
	}
}

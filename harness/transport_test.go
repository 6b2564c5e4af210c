package harness_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

func TestHostPort(t *testing.T) {
	tests := []struct {
		why, url, want string
	}{
		{"http without a port dials 80", "http://example.com/hook", "example.com:80"},
		{"https without a port dials 443", "https://example.com/hook", "example.com:443"},
		{"an explicit port is kept", "https://example.com:8443/hook", "example.com:8443"},
		{"credentials are not part of the address", "https://user:pw@example.com/hook", "example.com:443"},
		{"an IPv6 host is bracketed", "https://[::1]/hook", "[::1]:443"},
		{"an IPv6 host keeps its port", "http://[::1]:8080/hook", "[::1]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := harness.HostPort(u); got != tt.want {
				t.Errorf("HostPort(%s) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestNewTransport(t *testing.T) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "receiver.example"}
	tr := harness.NewTransport(cfg, 2*time.Second, 7)
	cfg.ServerName = "changed later"
	switch {
	case tr.TLSClientConfig == cfg || tr.TLSClientConfig.ServerName != "receiver.example":
		t.Error("the TLS configuration is not a copy taken when the transport was made")
	case tr.Proxy != nil:
		t.Error("the transport may go through a proxy; REALM does not")
	case tr.TLSHandshakeTimeout != 2*time.Second:
		t.Errorf("TLS handshake timeout %s, want the timeout given", tr.TLSHandshakeTimeout)
	case tr.MaxIdleConnsPerHost != 7:
		t.Errorf("%d idle connections per host, want 7", tr.MaxIdleConnsPerHost)
	}
	if d := harness.NewTransport(nil, time.Second, 1).TLSClientConfig; d == nil || d.MinVersion != tls.VersionTLS12 {
		t.Errorf("without a configuration, TLS %+v, want TLS 1.2 at least", d)
	}
}

// TestNewTransportSendsTheBytesAsTheyAre: no transparent gzip, so the
// receiver sees only the headers REALM sends.
func TestNewTransportSendsTheBytesAsTheyAre(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Accept-Encoding")
	}))
	defer srv.Close()
	tr := harness.NewTransport(nil, time.Second, 1)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if enc := <-got; enc != "" {
		t.Errorf("the request asked for Accept-Encoding %q; REALM asks for none", enc)
	}
}

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
	if p := harness.NewTransport(nil, time.Second, 1).Protocols; p == nil || !p.HTTP1() || p.HTTP2() {
		t.Errorf("NewTransport speaks %v, want HTTP/1.1 only unless its caller says otherwise", p)
	}
}

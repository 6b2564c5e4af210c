package dial_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/dial"
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
			if got := dial.HostPort(u); got != tt.want {
				t.Errorf("HostPort(%s) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestTransport(t *testing.T) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "receiver.example"}
	tr := dial.Transport(cfg, 2*time.Second, 7)
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
	if d := dial.Transport(nil, time.Second, 1).TLSClientConfig; d == nil || d.MinVersion != tls.VersionTLS12 {
		t.Errorf("without a configuration, TLS %+v, want TLS 1.2 at least", d)
	}
}

// TestTransportSendsTheBytesAsTheyAre: no transparent gzip, so the
// receiver sees only the headers REALM sends.
func TestTransportSendsTheBytesAsTheyAre(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Accept-Encoding")
	}))
	defer srv.Close()
	tr := dial.Transport(nil, time.Second, 1)
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

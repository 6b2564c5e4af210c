package receiver

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// startServer starts a server and closes it when the test ends.
func startServer(t *testing.T, cfg Config, useTLS bool) *Server {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []harness.Secret{testSecret}
	}
	s, err := Start("127.0.0.1:0", cfg, useTLS)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// handshake dials s with a client trusting its certificate and limited to
// TLS versions min..max; it returns the negotiated version.
func handshake(t *testing.T, s *Server, min, max uint16) (uint16, error) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(s.CertPEM) {
		t.Fatal("CertPEM holds no certificate")
	}
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: 5 * time.Second},
		Config:    &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: min, MaxVersion: max},
	}
	conn, err := d.Dial("tcp", s.URL[len("https://"):])
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().Version, nil
}

func TestServerDeliversOverHTTPAndHTTPS(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		s := startServer(t, Config{}, useTLS)
		if useTLS != (s.CertPEM != nil) || s.WebhookURL != s.URL+WebhookPath || s.ProbeURL != s.URL+ProbePath {
			t.Fatalf("useTLS=%v: URL %q, WebhookURL %q, ProbeURL %q, %d bytes of CertPEM", useTLS, s.URL, s.WebhookURL, s.ProbeURL, len(s.CertPEM))
		}
		c := s.client()
		id := newID("evt")
		body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
		req, err := http.NewRequest(http.MethodPost, s.WebhookURL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(harness.HeaderSignature, sigHeader(testSecret, time.Now(), body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("useTLS=%v: deliver: %v", useTLS, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("useTLS=%v: answered %d, want 202", useTLS, resp.StatusCode)
		}
		deadline := time.Now().Add(settleTimeout)
		for s.receiver().TimesProcessed(id) != 1 && time.Now().Before(deadline) {
			time.Sleep(pollEvery)
		}
		resp, err = c.Get(s.ProbeURL + "/events/" + id)
		if err != nil {
			t.Fatalf("useTLS=%v: probe: %v", useTLS, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("useTLS=%v: probe answered %d, want 200", useTLS, resp.StatusCode)
		}
		// Without idle connections an HTTP/2 shutdown need not wait for the
		// client to acknowledge GOAWAY.
		c.CloseIdleConnections()
		if err := s.Close(); err != nil {
			t.Fatalf("useTLS=%v: Close: %v", useTLS, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("useTLS=%v: second Close: %v", useTLS, err)
		}
		if _, err := c.Get(s.ProbeURL + "/events/" + id); err == nil {
			t.Fatalf("useTLS=%v: the server still answers after Close", useTLS)
		}
	}
}

func TestStartRefusesBadConfig(t *testing.T) {
	t.Parallel()
	if _, err := Start("127.0.0.1:0", Config{}, false); !errors.Is(err, errNoSecret) {
		t.Fatalf("Start without a secret: %v, want ErrNoSecret", err)
	}
}

func TestSelfSigned(t *testing.T) {
	t.Parallel()
	now := time.Now()
	cert, certPEM, err := selfSigned([]string{"127.0.0.1", "::1", "localhost"}, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || !bytes.Equal(block.Bytes, cert.Certificate[0]) {
		t.Fatal("the PEM is not the certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	// Each host must verify against the PEM as the only root: that is how
	// the harness trusts the reference receiver (CA_CERT).
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("not valid for %s: %v", host, err)
		}
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "example.com"}); err == nil {
		t.Error("valid for a host it was not made for")
	}
	if _, _, err := selfSigned(nil, now, now.Add(time.Hour)); err == nil {
		t.Error("made a certificate for no host")
	}
}

// TestTLSVersions: TLS-03 wants 1.0 and 1.1 refused; the tls-legacy fault
// must make a real Go client with MaxVersion TLS 1.1 (and 1.0) complete the
// handshake.
func TestTLSVersions(t *testing.T) {
	t.Parallel()
	correct := startServer(t, Config{}, true)
	legacy := startServer(t, Config{Faults: []Fault{faultTLSLegacy}}, true)
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if _, err := handshake(t, correct, v, v); err == nil {
			t.Errorf("the correct server completed a %s handshake", tls.VersionName(v))
		}
		got, err := handshake(t, legacy, v, v)
		if err != nil || got != v {
			t.Errorf("tls-legacy: %s handshake: version %s, %v; want the bug: it succeeds", tls.VersionName(v), tls.VersionName(got), err)
		}
	}
	for _, s := range []*Server{correct, legacy} {
		if got, err := handshake(t, s, tls.VersionTLS12, 0); err != nil || got < tls.VersionTLS12 {
			t.Errorf("a modern handshake: version %s, %v", tls.VersionName(got), err)
		}
	}
}

func TestFaultExpiredCert(t *testing.T) {
	t.Parallel()
	for _, fault := range []bool{false, true} {
		cfg := Config{}
		if fault {
			cfg.Faults = []Fault{faultExpiredCert}
		}
		s := startServer(t, cfg, true)
		c := s.client()
		resp, err := c.Get(s.ProbeURL + "/events/evt_none")
		if !fault {
			if err != nil {
				t.Fatalf("the correct server's certificate does not verify: %v", err)
			}
			resp.Body.Close()
			c.CloseIdleConnections()
			continue
		}
		if err == nil {
			resp.Body.Close()
			t.Fatal("the expired certificate verified, want the bug: an expiry error")
		}
		var invalid x509.CertificateInvalidError
		if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
			t.Fatalf("error %v, want an x509 expiry error", err)
		}
	}
}

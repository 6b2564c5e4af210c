package certify_test

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/schema"
)

// h2Receiver is the reference receiver served by a server that speaks
// HTTP/2 only, as some receivers behind HTTP/2-only proxies and gateways
// do: over TLS it offers only h2 and closes a connection that would speak
// HTTP/1.1; without TLS it speaks h2c with prior knowledge and nothing
// else.
type h2Receiver struct {
	WebhookURL, ProbeURL string
	// CAFile is the PEM of the certificate to trust (CA_CERT); empty
	// without TLS.
	CAFile string
}

func startH2Receiver(t *testing.T, sec harness.Secret, secure bool) h2Receiver {
	t.Helper()
	rcv, err := receiver.New(receiver.Config{Secrets: []harness.Secret{sec}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protos http.Protocols
	srv := &http.Server{
		Handler:           rcv,
		ReadHeaderTimeout: 5 * time.Second,
		Protocols:         &protos,
		// The TLS checks' refused handshakes are expected.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	base := "http://" + ln.Addr().String()
	var h2 h2Receiver
	if secure {
		protos.SetHTTP2(true)
		// net/http/httptest's certificate for 127.0.0.1, its own CA.
		ts := httptest.NewUnstartedServer(http.NotFoundHandler())
		ts.StartTLS()
		ts.Close()
		cert := ts.TLS.Certificates[0]
		caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
		h2.CAFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(h2.CAFile, caPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		base = "https://" + ln.Addr().String()
		go srv.ServeTLS(ln, "", "")
	} else {
		protos.SetUnencryptedHTTP2(true)
		go srv.Serve(ln)
	}
	t.Cleanup(func() {
		srv.Close()
		rcv.Close()
	})
	h2.WebhookURL, h2.ProbeURL = base+receiver.WebhookPath, base+receiver.ProbePath
	return h2
}

// TestAnHTTP2OnlyReceiverIsCertified: a correct receiver that speaks only
// HTTP/2 over TLS is certified COMPLIANT by the whole catalogue, its
// abandoned attempts (the retry checks) and its early 413 (ROB-05)
// included, and every delivery, TLS-04 and the report say HTTP/2.0.
func TestAnHTTP2OnlyReceiverIsCertified(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the catalogue")
	}
	const sec harness.Secret = "whsec_h2_only"
	h2 := startH2Receiver(t, sec, true)
	dir := t.TempDir()
	s, results := certifyOverHTTP2(t, certify.Settings{
		URL: h2.WebhookURL, ProbeURL: h2.ProbeURL, CACert: h2.CAFile, Secret: sec, ReportDir: dir, Timing: relaxed,
	})
	if s.Report.Overall != harness.Compliant {
		t.Errorf("overall %s, want %s", s.Report.Overall, harness.Compliant)
	}
	if tls04 := resultOf(t, results, "TLS-04"); !strings.Contains(tls04.Observed, "the deliveries were made in HTTP/2.0") {
		t.Errorf("TLS-04 observed %q; want it to say the deliveries were made in HTTP/2.0", tls04.Observed)
	}
	html, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "<dt>HTTP</dt><dd>HTTP/2.0</dd>") {
		t.Error("the report's banner does not say that the deliveries were made in HTTP/2.0")
	}
}

// TestHTTP2WithPriorKnowledge: HTTP_VERSION=2 certifies a receiver that
// speaks only h2c over http:// (the TLS checks skip, as for any http://
// URL): every delivery, abandoned attempts included, is made in HTTP/2.
func TestHTTP2WithPriorKnowledge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the catalogue")
	}
	const sec harness.Secret = "whsec_h2c_only"
	h2 := startH2Receiver(t, sec, false)
	env := map[string]string{certify.Env(certify.Setting("HTTP_VERSION")): "2"}
	set, err := certify.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	set.URL, set.ProbeURL, set.Secret, set.ReportDir, set.Timing = h2.WebhookURL, h2.ProbeURL, sec, t.TempDir(), relaxed
	s, _ := certifyOverHTTP2(t, set)
	if s.Report.Settings.HTTPVersion != harness.HTTP2 {
		t.Errorf("the report's settings say HTTP version %q, want 2", s.Report.Settings.HTTPVersion)
	}
}

// certifyOverHTTP2 runs the whole catalogue with set against a correct
// receiver that speaks only HTTP/2 and writes the report. Every check
// must pass or measure (the TLS checks of an http:// URL skip), every
// delivery answered or abandoned must have been made in HTTP/2, and
// report.json, which says so, must follow its schema.
func certifyOverHTTP2(t *testing.T, set certify.Settings) (*certify.Session, []harness.Result) {
	t.Helper()
	s, err := certify.Prepare(context.Background(), set)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	t.Cleanup(s.Close)
	results := s.Run(context.Background(), s.Scenarios)
	if err := s.Finish(results, true, nil); err != nil {
		t.Fatal(err)
	}
	plain := strings.HasPrefix(set.URL, "http://")
	for _, r := range results {
		skipped := plain && r.Verdict == harness.Skip && r.Category == "tls"
		if r.Verdict != harness.Pass && r.Verdict != harness.InfoVerdict && !skipped {
			t.Errorf("%s: %s against a correct HTTP/2-only receiver\n%s", r.ID, r.Verdict, report.Failure(r))
		}
	}
	if deliveries := protocolsOf(t, results); !slices.Equal(deliveries, []string{"HTTP/2.0"}) {
		t.Errorf("the deliveries were made in %v, want HTTP/2.0 only", deliveries)
	}
	doc, err := os.ReadFile(filepath.Join(s.ReportDir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Default().Validate("report", doc); err != nil {
		t.Errorf("report.json does not match its schema: %v", err)
	}
	return s, results
}

// TestHTTP1AgainstAnHTTP2OnlyReceiver: HTTP_VERSION=1.1 against a
// receiver that speaks only HTTP/2 ends at once and says why: with a
// probe the run cannot be made, and without one the deliveries fail with
// the reason in their evidence; nothing waits for a timeout.
func TestHTTP1AgainstAnHTTP2OnlyReceiver(t *testing.T) {
	t.Parallel()
	const sec harness.Secret = "whsec_h2_only_told_h1"
	h2 := startH2Receiver(t, sec, true)
	settings := func(probe string) certify.Settings {
		return certify.Settings{URL: h2.WebhookURL, ProbeURL: probe, CACert: h2.CAFile, Secret: sec,
			ReportDir: t.TempDir(), Timing: fast, HTTPVersion: harness.HTTP1}
	}
	start := time.Now()
	_, err := certify.Prepare(context.Background(), settings(h2.ProbeURL))
	if !errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), "does it speak HTTP/1.1") {
		t.Errorf("prepare with a probe: %v; want a run that cannot be made, asking whether the receiver speaks HTTP/1.1", err)
	}
	s, err := certify.Prepare(context.Background(), settings(""))
	if err != nil {
		t.Fatalf("prepare without a probe: %v", err)
	}
	defer s.Close()
	sig01 := s.Run(context.Background(), only(t, s.Scenarios, "SIG-01"))[0]
	if sig01.Verdict != harness.Fail || !strings.Contains(sig01.Observed, "the sender speaks only HTTP/1.1") {
		t.Errorf("SIG-01: %s, observed %q; want FAIL saying the sender speaks only HTTP/1.1", sig01.Verdict, sig01.Observed)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s; a receiver that closes the connection is judged at once, not after a timeout", took)
	}
}

// protocolsOf returns the HTTP versions of the deliveries in the evidence
// of results, and fails the test if a delivery answered or abandoned has
// none.
func protocolsOf(t *testing.T, results []harness.Result) []string {
	t.Helper()
	var out []string
	for _, r := range results {
		for _, ex := range r.Evidence {
			if ex.Attempt == 0 || (ex.Response == nil && !ex.Abandoned) {
				continue
			}
			if ex.Proto == "" {
				t.Errorf("%s: a delivery (attempt %d) without its HTTP version in the evidence", r.ID, ex.Attempt)
			}
			if !slices.Contains(out, ex.Proto) {
				out = append(out, ex.Proto)
			}
		}
	}
	return out
}

func resultOf(t *testing.T, results []harness.Result, id string) harness.Result {
	t.Helper()
	for _, r := range results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return harness.Result{}
}

func only(t *testing.T, scs []*scenario.Scenario, id string) []*scenario.Scenario {
	t.Helper()
	for _, sc := range scs {
		if sc.ID == id {
			return []*scenario.Scenario{sc}
		}
	}
	t.Fatalf("no scenario %s", id)
	return nil
}

// TestHTTPVersionSetting: HTTP_VERSION is read as the other settings are,
// and a value the harness cannot speak stops the run before it starts,
// saying what to write.
func TestHTTPVersionSetting(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  harness.HTTPVersion
		err   string
	}{
		{"", harness.HTTPAuto, ""},
		{"1.1", harness.HTTP1, ""},
		{"2", harness.HTTP2, ""},
		{"3", "", "HTTP_VERSION: invalid HTTP version \"3\": write 1.1 or 2"},
	} {
		set, err := certify.FromEnv(func(k string) string {
			return map[string]string{certify.Env(certify.Setting("HTTP_VERSION")): tc.value}[k]
		})
		switch {
		case tc.err != "" && (!errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("HTTP_VERSION=%s: %v; want a run that cannot be made, saying %q", tc.value, err, tc.err)
		case tc.err == "" && (err != nil || set.HTTPVersion != tc.want):
			t.Errorf("HTTP_VERSION=%s: %q, %v; want %q", tc.value, set.HTTPVersion, err, tc.want)
		}
	}
}

// TestAnHTTP2OnlyReceiverCarriesTheLoad: the load speaks HTTP/2 as the
// conformance sender does, offered over TLS and with prior knowledge over
// http:// under HTTP_VERSION=2, so a receiver that speaks only HTTP/2
// gets every event, acknowledges and processes each once, and the report
// says which version the load was answered in.
func TestAnHTTP2OnlyReceiverCarriesTheLoad(t *testing.T) {
	t.Parallel()
	const sec harness.Secret = "whsec_h2_load"
	for _, tc := range []struct {
		name    string
		secure  bool
		version harness.HTTPVersion
	}{{"over TLS", true, harness.HTTPAuto}, {"h2c", false, harness.HTTP2}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h2 := startH2Receiver(t, sec, tc.secure)
			s := prepareLoad(t, certify.Settings{URL: h2.WebhookURL, ProbeURL: h2.ProbeURL, CACert: h2.CAFile, Secret: sec,
				HTTPVersion: tc.version, Timing: loadTiming, Load: shortLoad(50, time.Second)})
			out, err := s.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			writeLoadReport(t, s, out)
			l := out.Load
			for id, r := range verdictsOf(out) {
				if r.Verdict != harness.Pass && r.Verdict != harness.InfoVerdict {
					t.Errorf("%s %s against a correct HTTP/2-only receiver: %s", id, r.Verdict, r.Observed)
				}
			}
			if !slices.Equal(l.Protocols, []string{"HTTP/2.0"}) || l.Requests == 0 || l.OK != l.Requests {
				t.Fatalf("%d of %d events acknowledged, answered in %v: want all, in HTTP/2.0 only", l.OK, l.Requests, l.Protocols)
			}
			if p := l.Processed; p == nil || p.Checked != l.Requests || p.Once != p.Checked {
				t.Fatalf("processed %+v: want every one of the %d events processed once", p, l.Requests)
			}
			html, err := os.ReadFile(filepath.Join(s.ReportDir, report.HTMLFile))
			if err != nil || !strings.Contains(string(html), "<dt>answered in</dt><dd>HTTP/2.0</dd>") {
				t.Fatalf("index.html does not say the load was answered in HTTP/2.0 (%v)", err)
			}
		})
	}
}

package engine_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/probe"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/signing"
)

const secret harness.Secret = "whsec_engine_test"

// builtin returns the built-in scenarios with the given IDs.
func builtin(t *testing.T, ids ...string) []*scenario.Scenario {
	t.Helper()
	all, err := scenario.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var out []*scenario.Scenario
	for _, id := range ids {
		for _, sc := range all {
			if sc.ID == id {
				out = append(out, sc)
			}
		}
	}
	if len(out) != len(ids) {
		t.Fatalf("found %d of the scenarios %v", len(out), ids)
	}
	return out
}

// reference starts the reference receiver and an engine against it.
func reference(t *testing.T, useTLS, withProbe bool, mutate func(*engine.Config), faults ...receiver.Fault) *engine.Engine {
	t.Helper()
	srv, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{secret}, Faults: faults}, useTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var opts []delivery.Option
	roots := x509.NewCertPool()
	if useTLS {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, srv.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, delivery.WithCAFile(caFile))
		roots.AppendCertsFromPEM(srv.CertPEM)
	}
	sender, err := delivery.NewSender(srv.WebhookURL, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Sender: sender, Secret: secret, RootCAs: roots}
	if withProbe {
		// A short settle time: the checks that prove nothing was processed
		// wait it out.
		cfg.Probe, err = probe.New(srv.ProbeURL, probe.WithTLSConfig(sender.TLSConfig()), probe.WithSettle(time.Second))
		if err != nil {
			t.Fatal(err)
		}
	}
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestTLS01FailsWithoutTLS(t *testing.T) {
	t.Parallel()
	// An https:// URL whose endpoint speaks plain HTTP: TLS-01 must fail,
	// not pass or skip.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	sender, err := delivery.NewSender(strings.Replace(srv.URL, "http://", "https://", 1)+"/webhook", secret, delivery.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Sender: sender, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	r := e.RunAll(context.Background(), builtin(t, "TLS-01"))[0]
	if r.Verdict != harness.Fail || !strings.Contains(r.Observed, "no TLS handshake") {
		t.Fatalf("TLS-01 against plain HTTP: %s, observed %q; want FAIL for no TLS handshake", r.Verdict, r.Observed)
	}
}

func TestTLSChecksSkipOnAnHTTPURL(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := inMemory(t, newFakeReceiver(), true, nil)
		for _, r := range e.RunAll(t.Context(), builtin(t, "TLS-01", "TLS-02", "TLS-03", "TLS-04")) {
			if r.Verdict != harness.Skip || !strings.Contains(r.Reason, "http://") {
				t.Errorf("%s on an http:// URL: %s (%s), want SKIP saying why", r.ID, r.Verdict, r.Reason)
			}
		}
	})
}

func TestSIG09FailsWhenTheSecretIsEchoed(t *testing.T) {
	// leak-signature proves the expected-signature half of SIG-09; this
	// receiver leaks the secret itself, which the evidence redacts.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "signature mismatch; our secret is "+secret.Reveal(), http.StatusUnauthorized)
	}))
	defer srv.Close()
	sender, err := delivery.NewSender(srv.URL+"/webhook", secret)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Sender: sender, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	r := e.RunAll(context.Background(), builtin(t, "SIG-09"))[0]
	if r.Verdict != harness.Fail || !strings.Contains(r.Observed, "the secret") {
		t.Fatalf("SIG-09 against a receiver that echoes the secret: %s, observed %q; want FAIL naming the secret", r.Verdict, r.Observed)
	}
}

// echoingReceiver is the reference receiver behind a debugging aid many
// frameworks have: a refusal's body lists the headers of the request it
// refuses. That reveals nothing the sender did not send.
func echoingReceiver(t *testing.T, sec harness.Secret) string {
	t.Helper()
	rcv, err := receiver.New(receiver.Config{Secrets: []harness.Secret{sec}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rcv.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		rcv.ServeHTTP(rec, r)
		if rec.Code < 400 {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		var b strings.Builder
		b.WriteString(strings.TrimSpace(rec.Body.String()) + "\nrequest headers:\n")
		for k, vs := range r.Header {
			b.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
		}
		http.Error(w, b.String(), rec.Code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + receiver.WebhookPath
}

func TestSIG09DoesNotBlameAnEchoOfTheRequest(t *testing.T) {
	t.Parallel()
	// The stale-timestamp step's expected signature is the one the request
	// carried; a one-letter secret occurs inside the words of any refusal
	// ("invalid signature"). Neither is a leak.
	for _, sec := range []harness.Secret{secret, "s"} {
		sender, err := delivery.NewSender(echoingReceiver(t, sec), sec)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(engine.Config{Sender: sender, Secret: sec})
		if err != nil {
			t.Fatal(err)
		}
		r := e.RunAll(context.Background(), builtin(t, "SIG-09"))[0]
		if r.Verdict != harness.Pass {
			t.Errorf("SIG-09 with a %d-character secret against a receiver that echoes the request's headers: %s, observed %q; want PASS",
				len(sec.Reveal()), r.Verdict, r.Observed)
		}
		for _, ex := range r.Evidence {
			if ex.Response != nil && strings.Contains(ex.Response.Body, harness.Redacted) {
				t.Errorf("a %d-character secret redacted a response that does not hold it: %q", len(sec.Reveal()), ex.Response.Body)
			}
		}
	}
}

// TestStrictTurnsABrokenShouldIntoAFailure runs ROB-04, a SHOULD, against
// a receiver that acknowledges every method without processing it.
func TestStrictTurnsABrokenShouldIntoAFailure(t *testing.T) {
	t.Parallel()
	for _, strict := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			rcv := newFakeReceiver()
			rcv.script = func(arrival) reply { return reply{status: http.StatusOK} }
			e := inMemory(t, rcv, true, func(c *engine.Config) { c.Strict = strict })
			r := e.RunAll(t.Context(), builtin(t, "ROB-04"))[0]
			want := harness.Warn
			if strict {
				want = harness.Fail
			}
			if r.Verdict != want {
				t.Errorf("ROB-04 against a receiver that takes any method, strict=%v: %s, want %s", strict, r.Verdict, want)
			}
		})
	}
}

func TestInsecureTurnsACertificateFailureIntoAWarning(t *testing.T) {
	e := reference(t, true, false, func(c *engine.Config) { c.Insecure = true }, receiver.Fault("expired-cert"))
	r := e.RunAll(context.Background(), builtin(t, "TLS-02"))[0]
	if r.Verdict != harness.Warn || !strings.Contains(r.Observed, "expired") {
		t.Fatalf("TLS-02 against an expired certificate under INSECURE: %s, observed %q; want WARN naming the expiry", r.Verdict, r.Observed)
	}
}

func TestAfterAndExclusiveOrderTheRun(t *testing.T) {
	t.Parallel()
	e := reference(t, false, true, nil)
	scs := builtin(t, "ROB-06", "ROB-01", "ROB-02", "ROB-03", "ROB-04", "ROB-05", "ACK-02")
	rs := e.RunAll(context.Background(), scs)
	byID := map[string]harness.Result{}
	for i, r := range rs {
		if r.ID != scs[i].ID {
			t.Fatalf("result %d is %s, want %s: results must come back in the order given", i, r.ID, scs[i].ID)
		}
		byID[r.ID] = r
	}
	rob6 := byID["ROB-06"]
	for _, id := range []string{"ROB-01", "ROB-02", "ROB-03", "ROB-04", "ROB-05"} {
		if end := byID[id].Start.Add(byID[id].Duration); rob6.Start.Before(end) {
			t.Errorf("ROB-06 started %s before %s ended", end.Sub(rob6.Start), id)
		}
	}
	// Exclusive checks run alone: ACK-02 and ROB-06 do not overlap.
	a := byID["ACK-02"]
	if a.Start.Before(rob6.Start.Add(rob6.Duration)) && rob6.Start.Before(a.Start.Add(a.Duration)) {
		t.Error("the exclusive checks ACK-02 and ROB-06 overlapped")
	}
	for _, r := range rs {
		if r.Verdict != harness.Pass {
			t.Errorf("%s: %s against the correct receiver: %s", r.ID, r.Verdict, r.Observed)
		}
	}
}

func TestAfterChainsThroughExclusiveChecksDoNotDeadlock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := inMemory(t, newFakeReceiver(), false, nil)
		// X-01 (exclusive) comes after a later exclusive X-02, and the
		// concurrent X-03 comes after X-01: both orders must be honoured.
		scs := []*scenario.Scenario{sends(t, "X-01", true, "X-02"), sends(t, "X-02", true), sends(t, "X-03", false, "X-01"), sends(t, "X-04", false)}
		rs := runBounded(t, e, scs)
		end := func(r harness.Result) time.Time { return r.Start.Add(r.Duration) }
		if rs[0].Start.Before(end(rs[1])) || rs[2].Start.Before(end(rs[0])) {
			t.Fatalf("after order broken: X-02 ended %v, X-01 ran %v..%v, X-03 started %v", end(rs[1]), rs[0].Start, end(rs[0]), rs[2].Start)
		}
		for _, r := range rs {
			if r.Verdict != harness.Pass {
				t.Errorf("%s: %s: %s", r.ID, r.Verdict, r.Observed)
			}
		}
	})
}

func TestAnInterruptedRunSkipsWhatDidNotRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rcv := newFakeReceiver()
		e := inMemory(t, rcv, true, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for _, r := range e.RunAll(ctx, builtin(t, "SIG-01", "RETRY-04")) {
			if r.Verdict != harness.Skip || !strings.Contains(r.Reason, "interrupted") {
				t.Errorf("%s after Ctrl-C: %s (%s), want SKIP saying the run was interrupted", r.ID, r.Verdict, r.Reason)
			}
		}
		if n := len(rcv.all()); n != 0 {
			t.Errorf("%d deliveries after Ctrl-C, want none", n)
		}
	})
}

// TestEveryResultCarriesItsFix: the engine copies a scenario's fix into
// its result whatever the verdict; the renderers decide when to show it.
func TestEveryResultCarriesItsFix(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// A receiver that skips verification: it acknowledges and
		// processes an unsigned delivery.
		rcv := newFakeReceiver()
		rcv.script = func(arrival) reply { return reply{status: http.StatusOK, process: true} }
		e := inMemory(t, rcv, true, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		rs := append(e.RunAll(t.Context(), builtin(t, "SIG-01", "SIG-02")), e.RunAll(ctx, builtin(t, "SIG-03"))...)
		for i, tc := range []struct {
			verdict harness.Verdict
			why     string
		}{
			{harness.Pass, "a passing check keeps it too: report.json holds everything"},
			{harness.Fail, "a receiver that acknowledges an unsigned delivery: the fix is what the reader needs"},
			{harness.Skip, "a check the run never started still says how to fix it"},
		} {
			r := rs[i]
			want := builtin(t, r.ID)[0].Fix
			if r.Verdict != tc.verdict || want == "" || r.Fix != want {
				t.Errorf("%s: %s with fix %q, want %s with the scenario's fix %q: %s", r.ID, r.Verdict, r.Fix, tc.verdict, want, tc.why)
			}
		}
	})
}

func TestAScenarioWithoutExpectationsCannotPass(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := inMemory(t, newFakeReceiver(), true, nil)
		r := e.RunAll(t.Context(), []*scenario.Scenario{custom(t, "X-01", "", "  - send:\n      build: {type: job.completed}\n")})[0]
		if r.Verdict != harness.Fail {
			t.Fatalf("a scenario that observes nothing: %s, want FAIL", r.Verdict)
		}
	})
}

func TestEvidenceNeverHoldsTheSecret(t *testing.T) {
	t.Parallel()
	e := reference(t, true, true, nil, receiver.Fault("leak-signature"))
	for _, r := range e.RunAll(context.Background(), builtin(t, "SIG-03", "SIG-05", "SIG-09")) {
		for _, ex := range r.Evidence {
			text := ex.Request.Body + ex.Request.URL + ex.Err
			for _, vs := range ex.Request.Header {
				text += strings.Join(vs, " ")
			}
			if ex.Response != nil {
				text += ex.Response.Body
			}
			if strings.Contains(text, secret.Reveal()) {
				t.Fatalf("%s evidence holds the secret", r.ID)
			}
		}
	}
}

// TestASequenceStopsAtItsFirstUnansweredDelivery runs ACK-02, a sequential
// sample of several deliveries per event type, against a receiver that
// never answers: the check fails once the first delivery has waited out
// the sender timeout, exactly, instead of waiting it out for every
// delivery.
func TestASequenceStopsAtItsFirstUnansweredDelivery(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rcv := newFakeReceiver()
		rcv.script = func(arrival) reply { return reply{} }
		e := inMemory(t, rcv, false, nil)
		r := e.RunAll(t.Context(), builtin(t, "ACK-02"))[0]
		if r.Verdict != harness.Fail || len(r.Evidence) != 1 {
			t.Fatalf("ACK-02 against a receiver that never answers: %s with %d deliveries, want FAIL after the first", r.Verdict, len(r.Evidence))
		}
		timeout := harness.DefaultTiming().SenderTimeout
		if r.Duration != timeout || !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "stopped after delivery 1 of") }) {
			t.Fatalf("ACK-02 took %s with notes %v: want the sender timeout of %s, and a note that it stopped after the first unanswered delivery", r.Duration, r.Notes, timeout)
		}
	})
}

// TestADeliveryCutByTheInterruptIsNoVerdict interrupts checks whose
// deliveries are under way, plain and abandoned alike: each is SKIP as
// cut short, never FAIL for the answer the interrupt took away.
func TestADeliveryCutByTheInterruptIsNoVerdict(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	arrived := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer srv.Close()
	defer close(hang)
	sender, err := delivery.NewSender(srv.URL+"/webhook", secret, delivery.WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Sender: sender, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Both checks' first deliveries have reached the receiver.
		<-arrived
		<-arrived
		cancel()
	}()
	done := make(chan []harness.Result)
	go func() { done <- e.RunAll(ctx, builtin(t, "SIG-01", "RETRY-01")) }()
	select {
	case rs := <-done:
		for _, r := range rs {
			if r.Verdict != harness.Skip || r.Reason != "the run was interrupted while this check ran" {
				t.Errorf("%s cut short by the interrupt: %s (%s %s), want SKIP as interrupted", r.ID, r.Verdict, r.Reason, r.Observed)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end after the interrupt")
	}
}

// TestHeadersAreShownAsSent checks that a check reports the signature
// headers it sent, their {t} and {v1} filled in, not the scenario's
// templates.
func TestHeadersAreShownAsSent(t *testing.T) {
	t.Parallel()
	e := reference(t, false, false, nil)
	r := e.RunAll(context.Background(), builtin(t, "SIG-05"))[0]
	if r.Verdict != harness.Pass {
		t.Fatalf("SIG-05 against the reference receiver: %s: %s", r.Verdict, r.Observed)
	}
	if strings.Contains(r.Expected, "{t}") || strings.Contains(r.Expected, "{v1") || !regexp.MustCompile(`t=\d{10}`).MatchString(r.Expected) {
		t.Fatalf("SIG-05 shows templates, not the headers as sent:\n%s", r.Expected)
	}
}

// TestALiteralSignatureKeepsItsSecond: in a scheme with a timestamp header
// of its own, the header must carry the second a check's literal signature
// was made for. The sender's clock here runs a second ahead of the
// engine's, as it does for a moment whenever an attempt leaves just after
// a second ended; SIG-13 against the correct receiver must still pass.
func TestALiteralSignatureKeepsItsSecond(t *testing.T) {
	t.Parallel()
	sc, err := signing.Builtin("standard-webhooks")
	if err != nil {
		t.Fatal(err)
	}
	// A standard-webhooks secret is base64 after whsec_.
	const secret harness.Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	srv, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{secret}, Scheme: sc}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	sender, err := delivery.NewSender(srv.WebhookURL, secret, delivery.WithScheme(sc))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := probe.New(srv.ProbeURL, probe.WithSettle(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Sender: aheadSender{sender}, Secret: secret, Scheme: sc, Probe: pc})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.RunAll(context.Background(), builtin(t, "SIG-13"))[0]; r.Verdict != harness.Pass {
		t.Fatalf("SIG-13 in standard-webhooks with the sender's clock a second ahead: %s (%s), want PASS", r.Verdict, r.Observed)
	}
}

// aheadSender is a sender whose clock runs a second ahead: an attempt it
// signs at its own clock is signed a second later, while one made for a
// given time (SignedAt) keeps it, as the sender's clock then plays no part.
type aheadSender struct{ *delivery.Sender }

func (s aheadSender) Send(ctx context.Context, a delivery.Attempt) harness.Exchange {
	if a.SignedAt.IsZero() {
		a.TimeOffset += time.Second
	}
	return s.Sender.Send(ctx, a)
}

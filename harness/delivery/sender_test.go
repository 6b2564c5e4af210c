package delivery

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

func TestNewSenderRejects(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.pem")
	tests := []struct {
		why     string
		url     string
		secret  harness.Secret
		opts    []Option
		wantErr error
	}{
		{"another scheme is not a webhook endpoint", "ftp://example.com/hook", testSecret, nil, errInvalidURL},
		{"a relative URL has no host to send to", "/hooks/realm", testSecret, nil, errInvalidURL},
		{"a scheme without host", "https:///hooks", testSecret, nil, errInvalidURL},
		{"an empty URL, the usual forgotten variable", "", testSecret, nil, errInvalidURL},
		{"an unparsable URL", "http://exa mple.com/%zz", testSecret, nil, errInvalidURL},
		{"an empty secret cannot sign", "http://127.0.0.1/", "", nil, errNoSecret},
		{"a zero timeout would fail every attempt", "http://127.0.0.1/", testSecret, []Option{WithTimeout(0)}, errInvalidOption},
		{"a zero body limit would read nothing", "http://127.0.0.1/", testSecret, []Option{withBodyLimit(0)}, errInvalidOption},
		{"garbage PEM must not silently trust nothing", "https://127.0.0.1/", testSecret, []Option{withCACert([]byte("not a certificate"))}, errInvalidCA},
		{"an unreadable CA file", "https://127.0.0.1/", testSecret, []Option{WithCAFile(missing)}, errInvalidCA},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			s, err := NewSender(tt.url, tt.secret, tt.opts...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewSender error = %v, want %v", err, tt.wantErr)
			}
			if s != nil {
				t.Errorf("NewSender returned a sender alongside an error")
			}
			if !strings.HasPrefix(err.Error(), "delivery: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if strings.Contains(err.Error(), testSecret.Reveal()) {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

func TestNewSenderAccepts(t *testing.T) {
	s, err := NewSender("https://user:hunter2@staging.example.com:8443/hooks/realm", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.URL(); strings.Contains(got, "hunter2") || !strings.Contains(got, "staging.example.com:8443/hooks/realm") {
		t.Errorf("URL() = %q, want the target with its password redacted", got)
	}
	if s.Timeout() != harness.DefaultTiming().SenderTimeout {
		t.Errorf("default timeout = %s, want %s", s.Timeout(), harness.DefaultTiming().SenderTimeout)
	}
	for _, out := range []string{s.String(), s.GoString()} {
		if strings.Contains(out, testSecret.Reveal()) || strings.Contains(out, "hunter2") {
			t.Errorf("the sender prints a credential: %s", out)
		}
	}
}

func certPEM(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func TestHTTPS(t *testing.T) {
	srv := quietTLSServer(t, &recorder{})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM(t, srv), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		why  string
		opts []Option
		want harness.FailureKind
	}{
		{"the test server's certificate is trusted through the CA option", []Option{withCACert(certPEM(t, srv))}, ""},
		{"the same CA read from a file", []Option{WithCAFile(caFile)}, ""},
		{"an unknown CA fails the handshake", nil, harness.FailureTLS},
		{"insecure skips verification", []Option{WithInsecure()}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			s := newSender(t, srv.URL, tt.opts...)
			ex := s.Send(context.Background(), s.Attempt(testEvent()))
			if ex.Failure != tt.want {
				t.Fatalf("Failure = %q (err %q), want %q", ex.Failure, ex.Err, tt.want)
			}
			if tt.want == "" && !ex.OK() {
				t.Errorf("status %d, want 2xx", ex.Status())
			}
			if tt.want == harness.FailureTLS && (ex.Response != nil || !strings.Contains(ex.Err, "private CA")) {
				t.Errorf("TLS failure evidence = %+v, want no response and advice on trusting a private CA", ex)
			}
		})
	}
}

func TestTLSConfigIsAClone(t *testing.T) {
	s := newSender(t, "https://127.0.0.1/", WithInsecure())
	c := s.TLSConfig()
	if !c.InsecureSkipVerify {
		t.Fatalf("TLSConfig lost the insecure setting")
	}
	c.InsecureSkipVerify = false
	if !s.TLSConfig().InsecureSkipVerify {
		t.Errorf("changing the returned config changed the sender's")
	}
}

func TestDeliverRetriesUntil2xx(t *testing.T) {
	t.Parallel()
	srv, rc := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	// Each reading of the clock is 7 s later, so every re-signature has
	// its own t.
	var ticks atomic.Int64
	clock := func() time.Time { return t0.Add(time.Duration(ticks.Add(1)) * 7 * time.Second) }
	s := newSender(t, srv.URL, withClock(clock))
	ev := testEvent()
	exs := s.deliver(context.Background(), ev, []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond})
	if len(exs) != 3 {
		t.Fatalf("Deliver made %d attempts, want 3 (stop at the first 2xx)", len(exs))
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	lastT := int64(0)
	for i, r := range reqs {
		if got := r.Header.Get(harness.HeaderAttempt); got != strconv.Itoa(i+1) {
			t.Errorf("request %d: %s = %q, want %d", i, harness.HeaderAttempt, got, i+1)
		}
		if exs[i].Attempt != i+1 {
			t.Errorf("exchange %d: Attempt = %d, want %d", i, exs[i].Attempt, i+1)
		}
		if got := r.Header.Get(harness.HeaderID); got != ev.ID {
			t.Errorf("request %d: %s = %q, want the same id %q on every retry", i, harness.HeaderID, got, ev.ID)
		}
		sig, err := signing.ParseHeader(r.Header.Get(harness.HeaderSignature))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if sig.Timestamp <= lastT {
			t.Errorf("request %d signed at t=%d, not after the previous %d: retries must be re-signed", i, sig.Timestamp, lastT)
		}
		lastT = sig.Timestamp
		if err := verifyRealm(t, r.Header.Get(harness.HeaderSignature), r.Body, time.Unix(sig.Timestamp, 0)); err != nil {
			t.Errorf("request %d: signature does not verify: %v", i, err)
		}
	}
	if exs[0].Status() != 503 || exs[1].Status() != 503 || exs[2].Status() != 204 {
		t.Errorf("statuses %d %d %d, want 503 503 204", exs[0].Status(), exs[1].Status(), exs[2].Status())
	}
}

func TestDeliverStops(t *testing.T) {
	t.Parallel()
	t.Run("after the schedule is exhausted", func(t *testing.T) {
		srv, rc := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(500) })
		s := newSender(t, srv.URL)
		exs := s.deliver(context.Background(), testEvent(), []time.Duration{time.Millisecond, time.Millisecond})
		if len(exs) != 3 || len(rc.requests()) != 3 {
			t.Errorf("made %d attempts, receiver saw %d; want 3 and 3", len(exs), len(rc.requests()))
		}
	})
	t.Run("a nil schedule is a single attempt", func(t *testing.T) {
		srv, rc := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(500) })
		s := newSender(t, srv.URL)
		if exs := s.deliver(context.Background(), testEvent(), nil); len(exs) != 1 || len(rc.requests()) != 1 {
			t.Errorf("made %d attempts, want 1", len(exs))
		}
	})
	t.Run("when the context ends during a wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
			cancel()
			w.WriteHeader(500)
		})
		s := newSender(t, srv.URL)
		start := time.Now()
		exs := s.deliver(ctx, testEvent(), []time.Duration{time.Minute})
		if len(exs) != 1 {
			t.Errorf("made %d attempts, want 1", len(exs))
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Deliver took %s after cancellation; it must not sit out the schedule", d)
		}
	})
}

// TestConcurrentSends runs attempts in parallel, as IDEM-04 and ORD-05 do;
// the race detector checks the sender's shared state.
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	srv, rc := serve(t, nil)
	s := newSender(t, srv.URL)
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := range 20 {
		wg.Go(func() {
			a := s.Attempt(testEvent())
			a.Number = i + 1
			if ex := s.Send(context.Background(), a); !ex.OK() {
				errs <- ex.Err
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent send failed: %s", e)
	}
	if n := len(rc.requests()); n != 20 {
		t.Errorf("receiver got %d requests, want 20", n)
	}
}

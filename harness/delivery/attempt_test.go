package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

func TestSendHeadersAndEvidence(t *testing.T) {
	srv, rc := serve(t, nil)
	s := newSender(t, srv.URL+"/hooks/realm", withClock(fixedClock(t0)))
	ev := testEvent()
	ex := s.Send(context.Background(), s.Attempt(ev))
	if ex.Err != "" || !ex.OK() {
		t.Fatalf("Send: status %d, err %q", ex.Status(), ex.Err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	want := map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "REALM-Webhooks/1.0",
		"X-Webhook-Id":      ev.ID,
		"X-Webhook-Event":   ev.Type,
		"X-Webhook-Attempt": "1",
	}
	for k, v := range want {
		if got.Header.Get(k) != v || len(got.Header.Values(k)) != 1 {
			t.Errorf("header %s = %q, want exactly %q", k, got.Header.Values(k), v)
		}
	}
	if ae := got.Header.Get("Accept-Encoding"); ae != "" {
		t.Errorf("Accept-Encoding %q sent; REALM sends none", ae)
	}
	if got.Method != http.MethodPost || got.Path != "/hooks/realm" || !bytes.Equal(got.Body, ev.Body) {
		t.Errorf("request = %s %s %q, want POST /hooks/realm with the event body", got.Method, got.Path, got.Body)
	}
	sigHeader := got.Header.Get(harness.HeaderSignature)
	if err := verifyRealm(t, sigHeader, got.Body, t0); err != nil {
		t.Errorf("signature %q does not verify: %v", sigHeader, err)
	}
	if sig, _ := signing.ParseHeader(sigHeader); sig.Timestamp != t0.Unix() || len(sig.V1) != 1 {
		t.Errorf("signature %+v, want one v1 at the clock's time %d", sig, t0.Unix())
	}

	// The evidence holds what was sent and what came back.
	if ex.Attempt != 1 || ex.Request.Method != "POST" || ex.Request.URL != srv.URL+"/hooks/realm" {
		t.Errorf("evidence request = %d %s %s", ex.Attempt, ex.Request.Method, ex.Request.URL)
	}
	if ex.Request.Header.Get(harness.HeaderSignature) != sigHeader || ex.Request.Header.Get(harness.HeaderID) != ev.ID {
		t.Errorf("evidence headers %v differ from those sent", ex.Request.Header)
	}
	if ex.Request.Body != string(ev.Body) || ex.Request.BodySize != len(ev.Body) {
		t.Errorf("evidence body %q (%d), want the event body", ex.Request.Body, ex.Request.BodySize)
	}
	if ex.Response.Status != 200 || ex.Response.Body != `{"received":true}` || ex.Response.BodySize != 17 ||
		ex.Response.Header.Get("Content-Type") != "application/json" {
		t.Errorf("evidence response = %+v", ex.Response)
	}
	if !ex.Start.Equal(t0) || ex.Latency <= 0 || ex.Latency > 5*time.Second {
		t.Errorf("evidence start %s latency %s, want the clock's time and a positive latency", ex.Start, ex.Latency)
	}
}

// attemptMutation is an Attempt that changes what a normal delivery
// sends, and the check of what the receiver got.
type attemptMutation struct {
	why   string
	a     Attempt
	check func(t *testing.T, r received)
}

// signatureMutations returns the cases of TestAttemptMutations that
// change the signature; their checks verify it at the clock's time t0.
func signatureMutations(t *testing.T) []attemptMutation {
	body := testEvent().Body
	other := []byte(`{"eventId":"evt_other"}`)
	verbatim := "t=1,v1=nothex"
	empty := ""
	verify := func(h string, b []byte, secrets ...harness.Secret) error {
		return verifyRealm(t, h, b, t0, secrets...)
	}
	return []attemptMutation{
		{"NoSignature omits the header (SIG-02)", Attempt{Body: body, NoSignature: true},
			func(t *testing.T, r received) {
				if _, ok := r.Header[harness.HeaderSignature]; ok {
					t.Errorf("signature header present: %q", r.Header.Get(harness.HeaderSignature))
				}
			}},
		{"Signature is sent verbatim (SIG-05)", Attempt{Body: body, Signature: &verbatim},
			func(t *testing.T, r received) {
				if got := r.Header.Values(harness.HeaderSignature); len(got) != 1 || got[0] != verbatim {
					t.Errorf("signature header = %q, want %q", got, verbatim)
				}
			}},
		{"an empty verbatim signature is sent as an empty header, not omitted", Attempt{Body: body, Signature: &empty},
			func(t *testing.T, r received) {
				if got, ok := r.Header[harness.HeaderSignature]; !ok || len(got) != 1 || got[0] != "" {
					t.Errorf("signature header = %q (present %v), want one empty value", got, ok)
				}
			}},
		{"TimeOffset shifts t from the clock (SIG-06)", Attempt{Body: body, TimeOffset: -10 * time.Minute},
			func(t *testing.T, r received) {
				h := r.Header.Get(harness.HeaderSignature)
				sig, _ := signing.ParseHeader(h)
				if sig.Timestamp != t0.Add(-10*time.Minute).Unix() {
					t.Errorf("t = %d, want 10 min before %d", sig.Timestamp, t0.Unix())
				}
				if err := verify(h, r.Body); !errors.Is(err, signing.ErrTooOld) {
					t.Errorf("Verify = %v, want ErrTooOld: correctly signed but stale", err)
				}
			}},
		{"SignedBody is signed while Body is sent (SIG-04)", Attempt{Body: body, SignedBody: other},
			func(t *testing.T, r received) {
				h := r.Header.Get(harness.HeaderSignature)
				if !bytes.Equal(r.Body, body) {
					t.Errorf("sent body %q, want Body", r.Body)
				}
				if err := verify(h, r.Body); !errors.Is(err, signing.ErrNoMatch) {
					t.Errorf("Verify(sent body) = %v, want ErrNoMatch", err)
				}
				if err := verify(h, other); err != nil {
					t.Errorf("Verify(SignedBody) = %v, want nil", err)
				}
			}},
		{"several secrets give several v1 in order (SIG-08)", Attempt{Body: body, Secrets: []harness.Secret{"whsec_old", testSecret}},
			func(t *testing.T, r received) {
				h := r.Header.Get(harness.HeaderSignature)
				sig, _ := signing.ParseHeader(h)
				if len(sig.V1) != 2 || sig.V1[0] != signing.Sign("whsec_old", t0.Unix(), body) || sig.V1[1] != signing.Sign(testSecret, t0.Unix(), body) {
					t.Errorf("header %q, want v1 under whsec_old then the sender's secret", h)
				}
				if err := verify(h, r.Body); err != nil {
					t.Errorf("Verify = %v, want the last entry to match", err)
				}
			}},
		{"a wrong secret does not verify (SIG-03)", Attempt{Body: body, Secrets: []harness.Secret{"whsec_wrong"}},
			func(t *testing.T, r received) {
				if err := verify(r.Header.Get(harness.HeaderSignature), r.Body); !errors.Is(err, signing.ErrNoMatch) {
					t.Errorf("Verify = %v, want ErrNoMatch", err)
				}
			}},
		{"an empty secrets list gives t without v1 (SIG-05 no v1)", Attempt{Body: body, Secrets: []harness.Secret{}},
			func(t *testing.T, r received) {
				if got := r.Header.Get(harness.HeaderSignature); got != "t=1710083175" {
					t.Errorf("header %q, want t only", got)
				}
			}},
	}
}

// requestMutations returns the cases of TestAttemptMutations that change
// the rest of the request: its attempt number, method, headers and body.
func requestMutations(t *testing.T) []attemptMutation {
	body := testEvent().Body
	verify := func(h string, b []byte, secrets ...harness.Secret) error {
		return verifyRealm(t, h, b, t0, secrets...)
	}
	return []attemptMutation{
		{"Number sets X-Webhook-Attempt (RETRY-04)", Attempt{Body: body, Number: 3},
			func(t *testing.T, r received) {
				if got := r.Header.Get(harness.HeaderAttempt); got != "3" {
					t.Errorf("attempt header %q, want 3", got)
				}
			}},
		{"Method changes the verb (ROB-04)", Attempt{Method: http.MethodPut, Body: body},
			func(t *testing.T, r received) {
				if r.Method != http.MethodPut {
					t.Errorf("method %s, want PUT", r.Method)
				}
			}},
		{"Header overrides REALM headers and removes with no values", Attempt{Body: body, EventID: "evt_x",
			Header: http.Header{"content-type": {"text/plain"}, "X-Webhook-Id": nil, "X-Extra": {"1", "2"}}},
			func(t *testing.T, r received) {
				if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != "text/plain" {
					t.Errorf("Content-Type %q, want text/plain", got)
				}
				if _, ok := r.Header[harness.HeaderID]; ok {
					t.Errorf("X-Webhook-Id present, want removed")
				}
				if got := r.Header.Values("X-Extra"); len(got) != 2 {
					t.Errorf("X-Extra %q, want both values", got)
				}
			}},
		{"an empty body is sent and signed as empty (ROB-03)", Attempt{Body: nil},
			func(t *testing.T, r received) {
				if len(r.Body) != 0 {
					t.Errorf("body %q, want empty", r.Body)
				}
				if err := verify(r.Header.Get(harness.HeaderSignature), nil); err != nil {
					t.Errorf("Verify = %v", err)
				}
			}},
	}
}

func TestAttemptMutations(t *testing.T) {
	for _, tt := range append(signatureMutations(t), requestMutations(t)...) {
		t.Run(tt.why, func(t *testing.T) {
			srv, rc := serve(t, nil)
			s := newSender(t, srv.URL, withClock(fixedClock(t0)))
			ex := s.Send(context.Background(), tt.a)
			if ex.Err != "" {
				t.Fatalf("Send: %s", ex.Err)
			}
			reqs := rc.requests()
			if len(reqs) != 1 {
				t.Fatalf("receiver got %d requests, want 1", len(reqs))
			}
			tt.check(t, reqs[0])
			// The evidence shows the mutated request, not a normal one.
			if got, want := ex.Request.Header.Values(harness.HeaderSignature), reqs[0].Header.Values(harness.HeaderSignature); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("evidence signature %q, receiver saw %q", got, want)
			}
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	srv, rc := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/hook" {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(200)
	})
	s := newSender(t, srv.URL+"/hook")
	ex := s.Send(context.Background(), s.Attempt(testEvent()))
	if ex.Status() != http.StatusTemporaryRedirect || ex.OK() {
		t.Errorf("status %d (OK %v), want the 307 itself as a failure", ex.Status(), ex.OK())
	}
	if ex.Response.Header.Get("Location") != "/elsewhere" {
		t.Errorf("evidence lost the Location header: %v", ex.Response.Header)
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1: the redirect must not be followed", n)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	t.Run("no response headers", func(t *testing.T) {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		s := newSender(t, srv.URL, WithTimeout(timeout))
		start := time.Now()
		ex := s.Send(context.Background(), s.Attempt(testEvent()))
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %s with a %s timeout", d, timeout)
		}
		if ex.Failure != harness.FailureTimeout || ex.Response != nil || !strings.Contains(ex.Err, timeout.String()) {
			t.Errorf("evidence = %s %q (response %v), want a timeout naming %s", ex.Failure, ex.Err, ex.Response, timeout)
		}
		if ex.Latency < timeout {
			t.Errorf("latency %s, want at least the timeout", ex.Latency)
		}
	})
	t.Run("headers then a hanging body", func(t *testing.T) {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
			w.WriteHeader(200)
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		s := newSender(t, srv.URL, WithTimeout(timeout))
		start := time.Now()
		ex := s.Send(context.Background(), s.Attempt(testEvent()))
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %s with a %s timeout: the body read must be bounded too", d, timeout)
		}
		if ex.Status() != 200 || ex.Response.Body != "partial" || ex.Failure != harness.FailureTimeout {
			t.Errorf("evidence = status %d body %q failure %q err %q, want the 200, the partial body and a timeout", ex.Status(), ex.Response.Body, ex.Failure, ex.Err)
		}
	})
	t.Run("no TLS handshake", func(t *testing.T) {
		// A listener that accepts and never speaks: the handshake must
		// time out too.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		s := newSender(t, "https://"+ln.Addr().String()+"/", WithTimeout(timeout), WithInsecure())
		start := time.Now()
		ex := s.Send(context.Background(), s.Attempt(testEvent()))
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %s with a %s timeout", d, timeout)
		}
		if ex.Failure != harness.FailureTimeout {
			t.Errorf("Failure = %q (%s), want timeout", ex.Failure, ex.Err)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	big := bytes.Repeat([]byte("é"), 1<<19) // 1 MiB of two-byte runes
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { w.Write(big) })
	tests := []struct {
		why  string
		opts []Option
		want int
	}{
		{"the default reads 64 KiB", nil, harness.DefaultBodyLimit},
		{"a smaller limit is honoured", []Option{withBodyLimit(1001)}, 1001},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			s := newSender(t, srv.URL, tt.opts...)
			ex := s.Send(context.Background(), s.Attempt(testEvent()))
			if ex.Status() != 200 || ex.Err != "" {
				t.Fatalf("status %d err %q", ex.Status(), ex.Err)
			}
			if ex.Response.BodySize != tt.want {
				t.Errorf("BodySize = %d, want %d", ex.Response.BodySize, tt.want)
			}
			if n := len(ex.Response.Body); n > excerptLimit || n < excerptLimit-4 && tt.want > excerptLimit {
				t.Errorf("excerpt is %d bytes, want about %d", n, excerptLimit)
			}
			if !strings.HasPrefix(string(big), ex.Response.Body) || !isValidUTF8(ex.Response.Body) {
				t.Errorf("excerpt is not a clean prefix of the body")
			}
		})
	}
}

// TestEvidenceKeepsTheBodySent: a report re-sends a failing exchange
// exactly, so the evidence knows the body sent whole, also when its
// excerpt is cut, up to harness.MaxKeptBody; a larger one is only excerpted.
func TestEvidenceKeepsTheBodySent(t *testing.T) {
	srv, _ := serve(t, nil)
	s := newSender(t, srv.URL)
	for _, tt := range []struct {
		why   string
		body  []byte
		whole bool
	}{
		{"a body the excerpt holds whole", testEvent().Body, true},
		{"a 100 KiB event, as ACK-09 sends", bytes.Repeat([]byte("a"), 100<<10), true},
		{"a short body ending inside a rune, which the excerpt drops", []byte("ab\xe2\x82"), true},
		{"the largest body kept", bytes.Repeat([]byte("a"), harness.MaxKeptBody), true},
		{"a body past the bound, as ROB-05's 5 MiB", bytes.Repeat([]byte("a"), harness.MaxKeptBody+1), false},
	} {
		t.Run(tt.why, func(t *testing.T) {
			a := s.Attempt(testEvent())
			a.Body = tt.body
			ex := s.Send(context.Background(), a)
			got := ex.Request.Sent()
			if whole := bytes.Equal(got, tt.body); whole != tt.whole {
				t.Errorf("the evidence holds the body whole: %v, want %v (%d of %d bytes)", whole, tt.whole, len(got), len(tt.body))
			}
			if !bytes.HasPrefix(tt.body, got) || ex.Request.BodySize != len(tt.body) {
				t.Errorf("the evidence holds %d bytes that do not begin the %d sent (BodySize %d)", len(got), len(tt.body), ex.Request.BodySize)
			}
		})
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestAbandon: an abandoned attempt reaches the receiver whole, over
// HTTP/1.1 and HTTP/2 (TLS that chose h2, or h2c), an empty body and one
// larger than HTTP/2's initial flow-control window included, and the
// sender returns without waiting for the answer. Over HTTP/2, closing
// the connection before the receiver has read the request lost its tail
// in a quarter of the attempts with a 1 MiB body; each case makes five.
func TestAbandon(t *testing.T) {
	t.Parallel()
	const rounds = 5
	type got struct {
		proto string
		body  []byte
	}
	for _, tc := range []struct {
		name    string
		secure  bool
		server  protocols
		version harness.HTTPVersion
		proto   string
	}{
		{"http", false, protocols{http1: true}, harness.HTTPAuto, "HTTP/1.1"},
		{"https", true, protocols{http1: true}, harness.HTTPAuto, "HTTP/1.1"},
		{"h2", true, protocols{http1: true, http2: true}, harness.HTTPAuto, "HTTP/2.0"},
		{"h2c", false, protocols{h2c: true}, harness.HTTP2, "HTTP/2.0"},
	} {
		// A body large enough to need several segments (and, over HTTP/2,
		// window updates), so that "the whole body arrived" means
		// something.
		for _, size := range []int{0, 1 << 20} {
			t.Run(fmt.Sprintf("%s, %d bytes", tc.name, size), func(t *testing.T) {
				t.Parallel()
				arrived := make(chan got, rounds)
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					arrived <- got{r.Proto, b}
					// Answer only long after the sender should be gone.
					select {
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
					w.WriteHeader(200)
				})
				s := senderFor(t, startHTTP(t, h, tc.secure, tc.server, false), WithHTTPVersion(tc.version))
				body := bytes.Repeat([]byte("x"), size)
				a := s.Attempt(testEvent())
				a.Body, a.Abandon = body, true
				for i := range rounds {
					start := time.Now()
					ex := s.Send(context.Background(), a)
					if d := time.Since(start); d > 2500*time.Millisecond {
						t.Errorf("attempt %d: Send took %s; an abandoned attempt must not wait for the answer", i+1, d)
					}
					if !ex.Abandoned || ex.Response != nil || ex.Err != "" || ex.Proto != tc.proto {
						t.Fatalf("attempt %d: evidence abandoned %v response %v err %q proto %q, want abandoned in %s with no response", i+1, ex.Abandoned, ex.Response, ex.Err, ex.Proto, tc.proto)
					}
					if ex.Request.BodySize != len(body) || ex.Request.Header.Get(harness.HeaderSignature) == "" {
						t.Errorf("attempt %d: evidence request lost its body size or signature", i+1)
					}
					select {
					case g := <-arrived:
						if g.proto != tc.proto || !bytes.Equal(g.body, body) {
							t.Errorf("attempt %d: receiver got %d bytes in %s, want the whole %d in %s", i+1, len(g.body), g.proto, len(body), tc.proto)
						}
					case <-time.After(5 * time.Second):
						t.Fatalf("attempt %d: the receiver never got the abandoned request", i+1)
					}
				}
			})
		}
	}
	t.Run("refused", func(t *testing.T) {
		s := newSender(t, "http://"+closedAddr(t)+"/")
		a := s.Attempt(testEvent())
		a.Abandon = true
		ex := s.Send(context.Background(), a)
		if ex.Abandoned || ex.Failure != harness.FailureRefused {
			t.Errorf("evidence abandoned %v err %q, want a refused, not abandoned, attempt", ex.Abandoned, ex.Err)
		}
	})
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRefusedIsClassified(t *testing.T) {
	s := newSender(t, "http://"+closedAddr(t)+"/hook")
	ex := s.Send(context.Background(), s.Attempt(testEvent()))
	if ex.Failure != harness.FailureRefused || ex.Response != nil {
		t.Fatalf("evidence %s %q, want a refused connection", ex.Failure, ex.Err)
	}
	// People read the kind in the error too.
	if !strings.HasPrefix(ex.Err, string(harness.FailureRefused)+": ") {
		t.Errorf("error %q does not say the connection was refused", ex.Err)
	}
	// The kind survives report.json.
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	var back harness.Exchange
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Failure != harness.FailureRefused || back.Err != ex.Err {
		t.Errorf("after a JSON round trip Failure = %q, error %q", back.Failure, back.Err)
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	s := newSender(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	ex := s.Send(ctx, s.Attempt(testEvent()))
	if ex.Failure != harness.FailureCanceled {
		t.Errorf("Failure = %q (%s), want canceled", ex.Failure, ex.Err)
	}
}

// TestSecretNeverInEvidence marshals the evidence of every kind of attempt,
// including a receiver that echoes the secret back, and searches it for the
// secret.
func TestSecretNeverInEvidence(t *testing.T) {
	t.Parallel()
	raw := testSecret.Reveal()
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("X-Echo", "secret="+raw)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"bad signature","secret":"`+raw+`"}`)
	})
	hang, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	tlsSrv := quietTLSServer(t, &recorder{})
	ctx := context.Background()
	var exs []harness.Exchange
	for _, url := range []string{srv.URL, hang.URL, tlsSrv.URL, "http://" + closedAddr(t)} {
		s := newSender(t, url, WithTimeout(200*time.Millisecond))
		ev := testEvent()
		exs = append(exs, s.deliver(ctx, ev, []time.Duration{time.Millisecond})...)
		a := s.Attempt(ev)
		a.Abandon = true
		exs = append(exs, s.Send(ctx, a))
		a = s.Attempt(ev)
		a.Secrets = []harness.Secret{"whsec_other", testSecret}
		exs = append(exs, s.Send(ctx, a))
	}
	b, err := json.Marshal(exs)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(raw)) {
		t.Errorf("the secret appears in the evidence: %s", b)
	}
	if !bytes.Contains(b, []byte(harness.Redacted)) {
		t.Errorf("the echoed secret was not visibly redacted: %s", b)
	}
}

// TestSecretEchoedIsFlagged shows that scrubbing the secret out of the
// evidence does not hide the leak from the checks: the response says so.
func TestSecretEchoedIsFlagged(t *testing.T) {
	raw := testSecret.Reveal()
	tests := []struct {
		why    string
		header string
		name   string
		body   string
		want   bool
	}{
		{"a receiver that echoes the secret in its body", "", "", "expected secret " + raw, true},
		{"a receiver that echoes the secret in a header", "key=" + raw, "", "no", true},
		{"a receiver that echoes the secret as a header name", "", "X-" + raw, "no", true},
		{"a receiver that says nothing of it", "fine", "", "bad signature", false},
		{"a secret across the end of the evidence excerpt", "", "", strings.Repeat("x", excerptLimit-8) + raw, true},
	}
	for _, tc := range tests {
		t.Run(tc.why, func(t *testing.T) {
			srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("X-Debug", tc.header)
				if tc.name != "" {
					w.Header().Set(tc.name, "1")
				}
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, tc.body)
			})
			s := newSender(t, srv.URL)
			ex := s.Send(context.Background(), s.Attempt(testEvent()))
			if ex.Response == nil || ex.Response.SecretEchoed != tc.want {
				t.Fatalf("response %+v, want SecretEchoed %v", ex.Response, tc.want)
			}
			if strings.Contains(ex.Response.Body, raw[:8]) {
				t.Fatalf("the evidence holds a piece of the secret: %q", ex.Response.Body[max(0, len(ex.Response.Body)-40):])
			}
			for k := range ex.Response.Header {
				if strings.Contains(strings.ToLower(k), strings.ToLower(raw)) {
					t.Fatalf("a header name in the evidence holds the secret: %s", k)
				}
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		why  string
		in   []byte
		want int
	}{
		{"short bodies are kept whole", []byte("abc"), 3},
		{"exactly the limit is kept whole", bytes.Repeat([]byte("a"), excerptLimit), excerptLimit},
		{"long ASCII is cut at the limit", bytes.Repeat([]byte("a"), excerptLimit+10), excerptLimit},
		{"a cut inside a rune backs off to its start", append(bytes.Repeat([]byte("a"), excerptLimit-1), "€€"...), excerptLimit - 1},
		{"a body already cut inside a rune loses the broken tail", []byte("ab\xe2\x82"), 2},
		{"a complete multi-byte rune at the end is kept", []byte("ab€"), 5},
		{"invalid bytes are not mistaken for a cut rune", []byte("ab\xff"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			got := excerpt(tt.in)
			if len(got) != tt.want || (utf8.Valid(tt.in[:tt.want]) && !isValidUTF8(got)) {
				t.Errorf("Excerpt gave %d bytes (valid %v), want %d", len(got), isValidUTF8(got), tt.want)
			}
		})
	}
}

// ExampleSender_Send sends one signed delivery to a loopback receiver.
func ExampleSender_Send() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	s, err := NewSender(srv.URL, "whsec_example")
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := harness.Event{ID: "evt_1", Type: harness.JobQueued, Body: []byte(`{"eventId":"evt_1"}`)}
	ex := s.Send(context.Background(), s.Attempt(ev))
	fmt.Println(ex.Status(), ex.OK(), ex.Request.Header.Get(harness.HeaderAttempt))
	// Output: 202 true 1
}

// verifyRealm checks a REALM v1 signature header at time at with the
// built-in scheme file's verifier, which shares no code with the sender's
// REALM signing path; no secrets means the test secret.
func verifyRealm(t testing.TB, header string, body []byte, at time.Time, secrets ...harness.Secret) error {
	t.Helper()
	sc, err := signing.Builtin("realm-v1")
	if err != nil {
		t.Fatal(err)
	}
	if secrets == nil {
		secrets = []harness.Secret{testSecret}
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		if keys[i], err = sc.KeyOf(s); err != nil {
			t.Fatal(err)
		}
	}
	h := http.Header{}
	h.Set(harness.HeaderSignature, header)
	return sc.Verify(keys, h, body, at)
}

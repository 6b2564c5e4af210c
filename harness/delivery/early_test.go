package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// oversize is ROB-05's body: far more than any socket buffer holds, so the
// receiver answers while the sender is still writing.
const oversize = 5 << 20

// tooLarge is the early answer of the receivers below. It echoes the
// secret, so that the tests also see it scrubbed from the evidence.
var tooLarge = "HTTP/1.1 413 Request Entity Too Large\r\n" +
	"Content-Type: text/plain\r\n" +
	"X-Echo: " + testSecret.Reveal() + "\r\n" +
	"Content-Length: " + fmt.Sprint(len(tooLargeBody)) + "\r\n" +
	"Connection: close\r\n\r\n" + tooLargeBody

const tooLargeBody = "body too large, secret " + string(testSecret)

// earlyReceivers are receivers that answer 413 as soon as they have read
// the request headers, without reading a byte of the body, over http and
// https: on raw connections that close at once (the kernel then resets the
// connection, since the body is unread) or keep it open unread; on
// net/http with a hijacked connection closed at once; and on net/http left
// to close the connection its own way.
func earlyReceivers(t *testing.T) map[string]rawServer {
	raw := func(c net.Conn) {
		if _, _, err := readHead(c); err != nil {
			return
		}
		io.WriteString(c, tooLarge)
		// The deferred Close of startRaw closes with the body unread.
	}
	// hijack is the same on net/http: a handler that takes the connection
	// over, answers and closes it.
	hijack := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		io.WriteString(c, tooLarge)
		c.Close()
	})
	// plain is what most Go receivers do: refuse without reading, and let
	// net/http close the connection.
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		http.Error(w, tooLargeBody, http.StatusRequestEntityTooLarge)
	})
	// open answers as early but keeps the connection, unread, until the
	// test ends: the sender must not wait for the body to be taken.
	stop := make(chan struct{})
	open := func(c net.Conn) {
		if _, _, err := readHead(c); err != nil {
			return
		}
		io.WriteString(c, tooLarge)
		select {
		case <-stop:
		case <-time.After(rawConnDeadline):
		}
	}
	out := map[string]rawServer{
		"raw http":             startRaw(t, false, raw),
		"raw https":            startRaw(t, true, raw),
		"raw http, kept open":  startRaw(t, false, open),
		"raw https, kept open": startRaw(t, true, open),
	}
	// Registered after the servers, so run before they wait for their
	// handlers.
	t.Cleanup(func() { close(stop) })
	for name, h := range map[string]http.Handler{"net/http hijack": hijack, "net/http close": plain} {
		for _, secure := range []bool{false, true} {
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			var ca []byte
			if secure {
				srv.StartTLS()
				ca = certPEM(t, srv)
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			out[name+" "+schemeName(secure)] = rawServer{URL: srv.URL, CA: ca}
		}
	}
	return out
}

func senderFor(t *testing.T, srv rawServer, opts ...Option) *Sender {
	t.Helper()
	if srv.CA != nil {
		opts = append(opts, withCACert(srv.CA))
	}
	return newSender(t, srv.URL+"/hooks/realm", opts...)
}

// TestEarly413IsTheAnswer is ROB-05 against receivers that refuse a 5 MiB
// body from its headers alone, without reading it (earlyReceivers): the
// 413 they sent is the answer, not a reset, in every one of 20 attempts
// against each, with complete and scrubbed evidence.
func TestEarly413IsTheAnswer(t *testing.T) {
	t.Parallel()
	const rounds = 20
	body := bytes.Repeat([]byte("x"), oversize)
	for name, srv := range earlyReceivers(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := senderFor(t, srv, WithTimeout(10*time.Second))
			ok := 0
			for i := range rounds {
				a := s.Attempt(testEvent())
				a.Body = body
				start := time.Now()
				ex := s.Send(context.Background(), a)
				took := time.Since(start)
				if ex.Failure != "" || ex.Status() != http.StatusRequestEntityTooLarge {
					t.Errorf("attempt %d: status %d failure %q err %q, want the 413", i+1, ex.Status(), ex.Failure, ex.Err)
					continue
				}
				if took > 5*time.Second {
					t.Errorf("attempt %d took %s: the early answer must end the attempt", i+1, took)
				}
				ok++
				if i > 0 {
					continue
				}
				// The evidence of the early answer is as complete as any.
				r := ex.Response
				if !strings.Contains(r.Body, "body too large") || r.BodySize == 0 || r.Header.Get("Content-Type") == "" {
					t.Errorf("evidence response %+v lost the body or headers", r)
				}
				if !r.SecretEchoed {
					t.Errorf("the echoed secret is not flagged")
				}
				if ex.Latency <= 0 || ex.Latency > took {
					t.Errorf("latency %s, want positive and within the %s the attempt took", ex.Latency, took)
				}
				if ex.Request.BodySize != oversize || ex.Request.Header.Get(harness.HeaderSignature) == "" ||
					ex.Request.Method != http.MethodPost || !strings.HasSuffix(ex.Request.URL, "/hooks/realm") {
					t.Errorf("evidence request %s %s (%d bytes) lost what was sent", ex.Request.Method, ex.Request.URL, ex.Request.BodySize)
				}
				b, err := json.Marshal(ex)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte(testSecret.Reveal())) {
					t.Errorf("the secret is in the evidence: %s", b)
				}
			}
			t.Logf("%s: %d of %d attempts reported the 413", name, ok, rounds)
		})
	}
}

// TestResetWithoutAnswerIsAReset keeps the other side of the early answer:
// a receiver that closes the connection without a word is a reset, whether
// the body is small or oversize, over http or https.
func TestResetWithoutAnswerIsAReset(t *testing.T) {
	t.Parallel()
	abort := func(c net.Conn) {
		if _, _, err := readHead(c); err != nil {
			return
		}
		// SO_LINGER 0: the close is a TCP reset, whatever was read.
		raw := c
		if tc, ok := c.(*tls.Conn); ok {
			raw = tc.NetConn()
		}
		raw.(*net.TCPConn).SetLinger(0)
		raw.Close()
	}
	closeUnread := func(c net.Conn) {
		readHead(c)
	}
	readAllThenClose := func(c net.Conn) {
		req, _, err := readHead(c)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
	}
	handlers := map[string]func(net.Conn){
		"linger 0 after the headers": abort,
		"close after the headers":    closeUnread,
		"close after the body":       readAllThenClose,
	}
	for hname, h := range handlers {
		for _, secure := range []bool{false, true} {
			srv := startRaw(t, secure, h)
			for _, size := range []int{len(testEvent().Body), oversize} {
				name := fmt.Sprintf("%s/%s/%d bytes", hname, schemeName(secure), size)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					s := senderFor(t, srv, WithTimeout(10*time.Second))
					a := s.Attempt(testEvent())
					a.Body = bytes.Repeat([]byte("x"), size)
					start := time.Now()
					ex := s.Send(context.Background(), a)
					if ex.Failure != harness.FailureReset || ex.Response != nil {
						t.Errorf("status %d failure %q err %q, want a reset without response", ex.Status(), ex.Failure, ex.Err)
					}
					// Far below the 10s timeout: a write error held for an
					// answer is released as soon as the read side fails.
					if d := time.Since(start); d > 2*time.Second {
						t.Errorf("took %s to see the reset", d)
					}
				})
			}
		}
	}
}

// TestEarlyAnswerAtAnySize: the early answer is not a matter of ROB-05's
// size. Without the fix, bodies from 64 KiB up lost the 413 in a quarter
// to nine tenths of the attempts on loopback; any body the receiver answers
// before reading it whole gets its answer.
func TestEarlyAnswerAtAnySize(t *testing.T) {
	t.Parallel()
	raw := func(c net.Conn) {
		if _, _, err := readHead(c); err != nil {
			return
		}
		io.WriteString(c, tooLarge)
	}
	for _, secure := range []bool{false, true} {
		srv := startRaw(t, secure, raw)
		for _, size := range []int{64 << 10, 256 << 10, 1 << 20, 2 << 20} {
			t.Run(fmt.Sprintf("%s/%d KiB", schemeName(secure), size>>10), func(t *testing.T) {
				t.Parallel()
				s := senderFor(t, srv, WithTimeout(10*time.Second))
				a := s.Attempt(testEvent())
				a.Body = bytes.Repeat([]byte("x"), size)
				for i := range 10 {
					if ex := s.Send(context.Background(), a); ex.Failure != "" || ex.Status() != http.StatusRequestEntityTooLarge {
						t.Errorf("attempt %d: status %d failure %q err %q, want the 413", i+1, ex.Status(), ex.Failure, ex.Err)
					}
				}
			})
		}
	}
}

// TestKeepAliveIsKept: the connections under the early-answer fix are
// still kept alive and reused between ordinary attempts, over http and
// https.
func TestKeepAliveIsKept(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(schemeName(secure), func(t *testing.T) {
			t.Parallel()
			var conns atomic.Int32
			srv := httptest.NewUnstartedServer(&recorder{})
			srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
			var opts []Option
			if secure {
				srv.StartTLS()
				opts = append(opts, withCACert(certPEM(t, srv)))
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			s := newSender(t, srv.URL, opts...)
			for i := range 5 {
				if ex := s.Send(context.Background(), s.Attempt(testEvent())); !ex.OK() {
					t.Fatalf("attempt %d: status %d err %q", i+1, ex.Status(), ex.Err)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("5 attempts opened %d connections, want 1 kept alive", n)
			}
		})
	}
}

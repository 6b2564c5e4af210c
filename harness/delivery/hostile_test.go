package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// The tests below play hostile receivers, on raw connections, against
// the sender: answers that never end, trickle, are huge or are not HTTP.
// Each attempt must end within the sender timeout, whatever the receiver
// does, and read no more than the body limit.

// hostileTimeout is the sender timeout of these tests; slack is what the
// race detector and a loaded machine may add to it.
const (
	hostileTimeout = 500 * time.Millisecond
	slack          = 3 * time.Second
)

// readRequest reads the whole request from c, so that what the receiver
// does next is an answer to a request fully sent.
func readRequest(c net.Conn) bool {
	req, _, err := readHead(c)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, req.Body)
	return err == nil
}

// trickle writes s one byte every 100 ms, and then its last byte again
// and again, until a write fails because the sender closed the connection;
// it reports on done when it stops.
func trickle(c net.Conn, s string, done chan<- time.Time) {
	defer func() { done <- time.Now() }()
	for i := 0; ; i++ {
		j := min(i, len(s)-1)
		if _, err := io.WriteString(c, s[j:j+1]); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sendSmall sends the normal event with the hostile timeout and returns the
// evidence and how long the attempt took.
func sendSmall(t *testing.T, srv rawServer, opts ...Option) (harness.Exchange, time.Duration) {
	t.Helper()
	s := senderFor(t, srv, append([]Option{WithTimeout(hostileTimeout)}, opts...)...)
	start := time.Now()
	ex := s.Send(context.Background(), s.Attempt(testEvent()))
	return ex, time.Since(start)
}

// stopsSoon fails t unless the receiver's handler reports on done within
// slack of end: the sender closed the connection rather than leave it to
// the receiver.
func stopsSoon(t *testing.T, done <-chan time.Time, end time.Time) {
	t.Helper()
	select {
	case at := <-done:
		if d := at.Sub(end); d > slack {
			t.Errorf("the receiver could write for %s after the attempt ended: the connection was left open", d)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the receiver could still write 5s after the attempt ended: the connection was left open")
	}
}

func schemes() []bool { return []bool{false, true} }

func schemeName(secure bool) string { return map[bool]string{false: "http", true: "https"}[secure] }

// TestTricklingBodyIsCutByTheTimeout: a response body of one byte every
// 100 ms, forever, is cut at the sender timeout, counted from the start of
// the attempt: an idle timeout would never fire.
func TestTricklingBodyIsCutByTheTimeout(t *testing.T) {
	t.Parallel()
	for _, secure := range schemes() {
		t.Run(schemeName(secure), func(t *testing.T) {
			t.Parallel()
			done := make(chan time.Time, 1)
			srv := startRaw(t, secure, func(c net.Conn) {
				if !readRequest(c) {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n")
				trickle(c, "x", done)
			})
			ex, took := sendSmall(t, srv)
			end := time.Now()
			if took < hostileTimeout || took > hostileTimeout+slack {
				t.Errorf("the attempt took %s, want the sender timeout %s", took, hostileTimeout)
			}
			if ex.Status() != 200 {
				t.Fatalf("evidence status %d failure %q err %q, want the 200", ex.Status(), ex.Failure, ex.Err)
			}
			if ex.Failure != harness.FailureTimeout || ex.Response.BodySize == 0 || ex.Response.BodySize > 10 ||
				strings.Trim(ex.Response.Body, "x") != "" {
				t.Errorf("evidence failure %q err %q body %q, want the bytes that came and a timeout",
					ex.Failure, ex.Err, ex.Response.Body)
			}
			if ex.Latency >= hostileTimeout {
				t.Errorf("latency %s: the headers came at once", ex.Latency)
			}
			stopsSoon(t, done, end)
		})
	}
}

// TestTricklingHeadersAreCutByTheTimeout: headers sent one byte every
// 100 ms, never ending, are cut at the sender timeout too.
func TestTricklingHeadersAreCutByTheTimeout(t *testing.T) {
	t.Parallel()
	for _, secure := range schemes() {
		t.Run(schemeName(secure), func(t *testing.T) {
			t.Parallel()
			done := make(chan time.Time, 1)
			srv := startRaw(t, secure, func(c net.Conn) {
				if !readRequest(c) {
					return
				}
				trickle(c, "HTTP/1.1 200 OK\r\nX-Slow: aaaa", done)
			})
			ex, took := sendSmall(t, srv)
			end := time.Now()
			if took < hostileTimeout || took > hostileTimeout+slack {
				t.Errorf("the attempt took %s, want the sender timeout %s", took, hostileTimeout)
			}
			if ex.Response != nil || ex.Failure != harness.FailureTimeout {
				t.Errorf("evidence status %d failure %q err %q, want a timeout without response", ex.Status(), ex.Failure, ex.Err)
			}
			if ex.Latency < hostileTimeout {
				t.Errorf("latency %s, want at least the timeout", ex.Latency)
			}
			stopsSoon(t, done, end)
		})
	}
}

// flood answers with head and then writes body bytes as fast as the
// connection takes them, up to total, counting them in sent; it reports on
// done when a write fails or all is written.
func flood(head string, total int64, sent *atomic.Int64, done chan<- time.Time) func(net.Conn) {
	return func(c net.Conn) {
		defer func() { done <- time.Now() }()
		if !readRequest(c) {
			return
		}
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		buf := bytes.Repeat([]byte("y"), 64<<10)
		for sent.Load() < total {
			n, err := c.Write(buf)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
}

// TestHugeBodyIsReadOnlyToTheLimit: a 1 GB answer is read up to the body
// limit and no further; the connection is closed at once instead of being
// drained, the attempt ends quickly and memory stays small. Not parallel,
// so that the allocation count is the attempt's own.
func TestHugeBodyIsReadOnlyToTheLimit(t *testing.T) {
	const gig = 1 << 30
	heads := map[string]string{
		"content-length":   fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", gig),
		"close-delimited":  "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
		"chunked, one big": fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", gig),
	}
	for _, secure := range schemes() {
		for name, head := range heads {
			t.Run(schemeName(secure)+"/"+name, func(t *testing.T) {
				var sent atomic.Int64
				done := make(chan time.Time, 1)
				srv := startRaw(t, secure, flood(head, gig, &sent, done))
				s := senderFor(t, srv, WithTimeout(10*time.Second))
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				start := time.Now()
				ex := s.Send(context.Background(), s.Attempt(testEvent()))
				took := time.Since(start)
				runtime.ReadMemStats(&after)
				end := time.Now()
				if ex.Status() != 200 {
					t.Fatalf("evidence status %d failure %q err %q, want the 200", ex.Status(), ex.Failure, ex.Err)
				}
				if ex.Failure != "" || ex.Response.BodySize != harness.DefaultBodyLimit {
					t.Errorf("evidence failure %q err %q body size %d, want the body read to the %d limit",
						ex.Failure, ex.Err, ex.Response.BodySize, harness.DefaultBodyLimit)
				}
				if took > 2*time.Second {
					t.Errorf("the attempt took %s: the rest of the body must not be read", took)
				}
				stopsSoon(t, done, end)
				if n := sent.Load(); n > 64<<20 {
					t.Errorf("the receiver wrote %d MiB: the sender read far past the limit", n>>20)
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
					t.Errorf("the attempt allocated %d MiB, want a few", alloc>>20)
				}
				t.Logf("receiver wrote %d KiB before the close; the attempt took %s and allocated %d KiB",
					sent.Load()>>10, took, (after.TotalAlloc-before.TotalAlloc)>>10)
			})
		}
	}
}

// TestNotHTTPIsAClearFailure: an answer that is not HTTP (random bytes,
// once or forever, in the status line or the headers, over http or https,
// or a header line that never ends) fails the attempt at once as a
// transport error that says what was wrong; bytes that are not TLS where
// TLS is expected are a TLS error.
func TestNotHTTPIsAClearFailure(t *testing.T) {
	t.Parallel()
	random := func(n int) []byte {
		r := rand.New(rand.NewChaCha8([32]byte{1}))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	noise := random(64 << 10)
	tests := []struct {
		why    string
		secure bool
		handle func(c net.Conn)
		want   string
	}{
		{"random bytes, then close", false, func(c net.Conn) {
			readRequest(c)
			c.Write(noise)
		}, "the answer is not HTTP/1.1"},
		{"random bytes forever", false, func(c net.Conn) {
			readRequest(c)
			for {
				if _, err := c.Write(noise); err != nil {
					return
				}
			}
		}, "the answer is not HTTP/1.1"},
		{"a status line, then random bytes", false, func(c net.Conn) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			c.Write(noise)
		}, "the answer is not HTTP/1.1"},
		{"random bytes inside TLS", true, func(c net.Conn) {
			readRequest(c)
			c.Write(noise)
		}, "the answer is not HTTP/1.1"},
		{"one endless header line", false, endlessHeader, "more than 1024 KiB of headers"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			t.Parallel()
			srv := startRaw(t, tt.secure, tt.handle)
			ex, took := sendSmall(t, srv, WithTimeout(10*time.Second))
			if took > slack {
				t.Errorf("the attempt took %s: garbage must fail it at once", took)
			}
			if ex.Response != nil || ex.Failure != harness.FailureOther || !strings.Contains(ex.Err, tt.want) {
				t.Errorf("evidence status %d failure %q err %q, want a transport error saying %q", ex.Status(), ex.Failure, ex.Err, tt.want)
			}
		})
	}
	t.Run("random bytes instead of TLS", func(t *testing.T) {
		t.Parallel()
		srv := startRaw(t, false, func(c net.Conn) { c.Write(noise) })
		srv.URL = "https://" + strings.TrimPrefix(srv.URL, "http://")
		ex, took := sendSmall(t, srv, WithTimeout(10*time.Second), WithInsecure())
		if took > slack {
			t.Errorf("the attempt took %s", took)
		}
		if ex.Response != nil || ex.Failure != harness.FailureTLS {
			t.Errorf("evidence status %d failure %q err %q, want a TLS error", ex.Status(), ex.Failure, ex.Err)
		}
	})
}

// endlessHeader answers with a status line and then one header line that
// never ends, as fast as the connection takes it.
func endlessHeader(c net.Conn) {
	if !readRequest(c) {
		return
	}
	io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Endless: ")
	line := bytes.Repeat([]byte("A"), 64<<10)
	for {
		if _, err := c.Write(line); err != nil {
			return
		}
	}
}

// TestEndlessHeadersAreCapped: headers that never end are read up to
// maxHeaderBytes and refused, quickly and in little memory. Not parallel,
// so that the allocation count is the attempt's own.
func TestEndlessHeadersAreCapped(t *testing.T) {
	for _, secure := range schemes() {
		t.Run(schemeName(secure), func(t *testing.T) {
			srv := startRaw(t, secure, endlessHeader)
			s := senderFor(t, srv, WithTimeout(10*time.Second))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			ex := s.Send(context.Background(), s.Attempt(testEvent()))
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if ex.Response != nil || ex.Failure != harness.FailureOther || !strings.Contains(ex.Err, "KiB of headers") {
				t.Errorf("evidence status %d failure %q err %q, want a transport error about the headers", ex.Status(), ex.Failure, ex.Err)
			}
			if took > slack {
				t.Errorf("the attempt took %s", took)
			}
			// The cap is 1 MiB; reading it costs a few times that.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("the attempt allocated %d MiB, want a few", alloc>>20)
			}
			t.Logf("the attempt took %s and allocated %d KiB", took, (after.TotalAlloc-before.TotalAlloc)>>10)
		})
	}
}

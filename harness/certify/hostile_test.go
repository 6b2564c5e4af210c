package certify_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/report"
)

// quarterTiming is the real timing at a quarter, for the hostile table
// (at real time a receiver that never answers is judged in well under
// 45 s, make included: README "The checks").
var quarterTiming = harness.Timing{
	AckDeadline: 250 * time.Millisecond, SenderTimeout: 1250 * time.Millisecond,
	RetrySchedule: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second},
	Settle:        1250 * time.Millisecond, Watch: 125 * time.Millisecond, DedupeGap: 2500 * time.Millisecond,
}

// rawServer serves every connection with serve on a loopback listener of
// its own and returns the webhook URL. Connections are closed when the
// test ends.
func rawServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				// Nothing here outlives the test.
				stop := context.AfterFunc(contextOf(done), func() { c.Close() })
				defer stop()
				serve(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/webhook"
}

// contextOf is a context that ends when done is closed.
func contextOf(done <-chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-done; cancel() }()
	return ctx
}

// readHead reads a request's head, so that a server answers after it.
func readHead(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

// drip writes s one byte every 100 ms until the connection is closed.
func drip(c net.Conn, s string) {
	for i := 0; ; i = (i + 1) % len(s) {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHostileReceivers runs the catalogue against receivers that hang,
// trickle, flood or answer nonsense. Each run must end within the time
// bound, be judged NOT COMPLIANT (status 1) from what was seen, and write
// its reports.
func TestHostileReceivers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the catalogue against nine hostile receivers")
	}
	const sec harness.Secret = "whsec_hostile"
	cases := hostileCases(t)
	timing := quarterTiming
	// What proves that a dead receiver is judged fast is the shape of the
	// waiting, not the clock: no check waits out more than maxWaits sender
	// timeouts one after another (a check that retried into a receiver that
	// never answers used to wait out 24). The clock bound is the one a run
	// at real time must meet, make included: scaled, these runs take 2-10 s
	// alone, and a busy two-core machine running the other packages beside
	// them has stretched a run that costs CPU, not waiting, to 20 s.
	const maxWaits = 2
	bound := 45 * time.Second
	// The runs spend their time waiting on the receivers: all at once, not
	// -parallel's one per core.
	var all sync.WaitGroup
	defer all.Wait()
	for _, tc := range cases {
		url := tc.url()
		all.Go(func() {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				start := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				s, err := certify.Prepare(ctx, certify.Settings{URL: url, Secret: sec, ReportDir: dir, Timing: timing})
				if err != nil {
					t.Fatalf("prepare: %v", err)
				}
				defer s.Close()
				results := s.Run(ctx, s.Scenarios)
				if err := s.Finish(results, true, nil); err != nil {
					t.Fatal(err)
				}
				took := time.Since(start)
				if took > bound {
					t.Errorf("the run took %s, want at most %s", took.Round(time.Millisecond), bound)
				}
				for _, r := range s.Report.Results {
					if n := waits(r.Evidence); n > maxWaits {
						t.Errorf("%s waited out %d sender timeouts one after another, want at most %d", r.ID, n, maxWaits)
					}
				}
				if s.Report.ExitCode != 1 {
					t.Errorf("exit %d (%s), want 1", s.Report.ExitCode, s.Report.Overall)
				}
				for _, r := range s.Report.Results {
					if r.ID == "ACK-12" && tc.ack12 != "" && r.Verdict != tc.ack12 {
						t.Errorf("ACK-12 %s (%s), want %s", r.Verdict, r.Observed, tc.ack12)
					}
				}
				for _, f := range report.Files(dir) {
					if _, err := os.Stat(f); err != nil {
						t.Errorf("%s not written: %v", f, err)
					}
				}
				t.Logf("%s: %s in %s, %v", tc.name, s.Report.Overall, took.Round(time.Millisecond), s.Report.Counts)
			})
		})
	}
}

// hostileCase is a receiver that hangs, trickles, floods or answers
// nonsense, and ACK-12's verdict against it: a receiver that resets every
// connection is not there to answer, one that hangs is (ACK-11 and the
// checks judge it), and the others answer. Empty asserts none: the one
// that answers random bytes closes the connection under a large body
// still being sent now and then, a reset before any answer, which ACK-12
// counts.
type hostileCase struct {
	name  string
	url   func() string
	ack12 harness.Verdict
}

// hostileCases returns the hostile receivers of the table; each url
// starts its own, serving until the test ends.
func hostileCases(t *testing.T) []hostileCase {
	handler := func(h http.HandlerFunc) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL + "/webhook"
	}
	return []hostileCase{
		{"hang", func() string { return rawServer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }) }, harness.Pass},
		{"trickle", func() string {
			return rawServer(t, func(c net.Conn) {
				readHead(c)
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"))
				drip(c, "x")
			})
		}, harness.Pass},
		{"headers one byte at a time", func() string {
			return rawServer(t, func(c net.Conn) {
				readHead(c)
				drip(c, "HTTP/1.1 200 OK\r\nX-Slow: ")
			})
		}, harness.Pass},
		{"a 1 GB body", func() string {
			return rawServer(t, func(c net.Conn) {
				readHead(c)
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n"))
				buf := make([]byte, 64<<10)
				for n := 0; n < 1_000_000_000; n += len(buf) {
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			})
		}, harness.Pass},
		{"reset on accept", func() string {
			return rawServer(t, func(c net.Conn) {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
			})
		}, harness.Fail},
		{"random bytes instead of HTTP", func() string {
			return rawServer(t, func(c net.Conn) {
				readHead(c)
				b := make([]byte, 4096)
				_, _ = rand.Read(b)
				_, _ = c.Write(b)
			})
		}, ""},
		{"a redirect loop", func() string {
			return handler(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
			})
		}, harness.Pass},
		{"200 to everything", func() string {
			return handler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
		}, harness.Pass},
	}
}

// TestA404ToEverythingIsAWrongURL: a receiver that answers 404 to a
// correctly signed POST of a valid event is not at that URL (a wrong path,
// another server): the run cannot be made, and says to check URL, rather
// than failing every check for the settings' mistake.
func TestA404ToEverythingIsAWrongURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	s, err := certify.Prepare(context.Background(), certify.Settings{URL: srv.URL + "/webhook", Secret: "whsec_404", ReportDir: dir})
	if !errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), "URL: the receiver answered 404") {
		t.Fatalf("Prepare: %v; want a run that cannot be made, naming URL", err)
	}
	if err := s.Finish(nil, false, err); err != nil {
		t.Fatal(err)
	}
	if s.Report.ExitCode != report.ExitCannotRun {
		t.Fatalf("exit %d, want 2", s.Report.ExitCode)
	}
}

// waits counts the sender timeouts waited out one after another in ev:
// timed-out attempts whose waits overlap count once.
func waits(ev []harness.Exchange) int {
	var out []harness.Exchange
	for _, e := range ev {
		if e.Failure == harness.FailureTimeout {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b harness.Exchange) int { return a.Start.Compare(b.Start) })
	n := 0
	var end time.Time
	for _, e := range out {
		if n == 0 || !e.Start.Before(end) {
			n++
			end = e.Start.Add(e.Latency)
		} else if e.Start.Add(e.Latency).After(end) {
			end = e.Start.Add(e.Latency)
		}
	}
	return n
}

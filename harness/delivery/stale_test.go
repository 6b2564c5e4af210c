package delivery

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// TestAStaleKeptAliveConnectionIsNotTheReceiversFault: a receiver that
// answers, keeps the connection open, and closes it as the next request
// arrives (its idle timeout fired just then) must not be reported as
// resetting that delivery, which a sender sends again on a new
// connection.
func TestAStaleKeptAliveConnectionIsNotTheReceiversFault(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				req, err := http.ReadRequest(r)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				// The connection stays open, and its idle timer fires just
				// as the next request arrives: closed without a word.
				_, _ = r.Peek(1)
			}()
		}
	}()
	s := newSender(t, "http://"+ln.Addr().String()+"/webhook", WithTimeout(5*time.Second))
	for i := range 3 {
		ex := s.Send(context.Background(), s.Attempt(testEvent()))
		if ex.Status() != http.StatusOK || ex.Failure != "" {
			t.Fatalf("delivery %d: status %d, failure %q %q; want 200: the stale connection is the sender's business", i+1, ex.Status(), ex.Failure, ex.Err)
		}
	}
	if n := conns.Load(); n < 3 {
		t.Fatalf("%d connections for 3 deliveries, want a new one each time", n)
	}
}

// keepAliveReceiver is a correct receiver written as Python's http.server
// and many small servers are: it keeps connections alive, answers 413 to
// a body over its limit as soon as it has read the headers and then closes
// that connection, the body unread, while the sender still writes it;
// and at that moment it closes every other connection that sits idle
// between requests, as a server does whose idle timeout fires or which
// sheds its idle connections. A sender's pooled connections then go stale
// under it, in every way a close can meet a request: end of file, a reset,
// a broken pipe, net/http's "server closed idle connection".
type keepAliveReceiver struct {
	mu   sync.Mutex
	idle map[net.Conn]bool
}

// keepAliveLimit is the largest body the keep-alive receiver takes.
const keepAliveLimit = 1 << 20

func (k *keepAliveReceiver) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for served := 0; ; served++ {
		// Idle between requests: a connection that has served none is
		// new, not kept alive, and a sender may be writing its first
		// request on it right now.
		k.setIdle(c, served > 0)
		_, err := br.Peek(1)
		k.setIdle(c, false)
		if err != nil {
			return
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.ContentLength > keepAliveLimit {
			io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			k.closeIdle()
			return
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
			return
		}
	}
}

func (k *keepAliveReceiver) setIdle(c net.Conn, idle bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if idle {
		k.idle[c] = true
	} else {
		delete(k.idle, c)
	}
}

// closeIdle closes every connection waiting for its next request.
func (k *keepAliveReceiver) closeIdle() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for c := range k.idle {
		c.Close()
		delete(k.idle, c)
	}
}

// TestStalePooledConnectionsAreNotTheReceiversFault: against the
// keep-alive receiver, deliveries on the connections it closed get their
// real answers, sent again on a new connection, whether they follow the
// early 413 or race it, one at a time or concurrently, small or large
// enough to be cut in the middle of their body. Before, some of them
// ended in "connection reset", "broken pipe" or "server closed idle
// connection": a warning or a failure for a correct receiver.
func TestStalePooledConnectionsAreNotTheReceiversFault(t *testing.T) {
	t.Parallel()
	const (
		rounds     = 10
		concurrent = 8
	)
	for _, secure := range []bool{false, true} {
		t.Run(schemeName(secure), func(t *testing.T) {
			t.Parallel()
			k := &keepAliveReceiver{idle: map[net.Conn]bool{}}
			s := senderFor(t, startRaw(t, secure, k.serve), WithTimeout(10*time.Second))
			small, large := testEvent().Body, bytes.Repeat([]byte("x"), 256<<10)
			deliver := func(body []byte) harness.Exchange {
				a := s.Attempt(testEvent())
				a.Body = body
				return s.Send(context.Background(), a)
			}
			check := func(what string, ex harness.Exchange, want int) {
				if ex.Status() != want || ex.Failure != "" {
					t.Errorf("%s: status %d, failure %q %q; want %d: the receiver answered every request it got", what, ex.Status(), ex.Failure, ex.Err, want)
				}
			}
			var wg sync.WaitGroup
			concurrently := func(what string) {
				for i := range concurrent {
					body := small
					if i%2 == 1 {
						body = large
					}
					wg.Go(func() { check(fmt.Sprintf("%s, delivery %d", what, i+1), deliver(body), http.StatusOK) })
				}
			}
			for r := range rounds {
				// Fill the pool, then refuse an oversized body while
				// deliveries are under way and right after.
				concurrently(fmt.Sprintf("round %d, before", r+1))
				wg.Wait()
				concurrently(fmt.Sprintf("round %d, during", r+1))
				check(fmt.Sprintf("round %d, the oversized body", r+1), deliver(bytes.Repeat([]byte("x"), oversize)), http.StatusRequestEntityTooLarge)
				concurrently(fmt.Sprintf("round %d, after", r+1))
				check(fmt.Sprintf("round %d, one after", r+1), deliver(small), http.StatusOK)
				wg.Wait()
			}
		})
	}
}

// TestAFailureOnANewConnectionIsTheReceivers: a delivery sent again
// because its kept-alive connection failed is sent once, on a new
// connection, and if that fails too, the failure is the receiver's: it
// is reported, as is a failure on a new connection at the first try,
// which is never sent again.
func TestAFailureOnANewConnectionIsTheReceivers(t *testing.T) {
	t.Parallel()
	var (
		broken atomic.Bool
		conns  atomic.Int32
		reqs   atomic.Int32
	)
	// The receiver answers until it breaks; then it closes every
	// connection as a request arrives on it, pooled or new.
	srv := startRaw(t, false, func(c net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			reqs.Add(1)
			if broken.Load() {
				return
			}
			io.Copy(io.Discard, req.Body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	s := senderFor(t, srv, WithTimeout(5*time.Second))
	if ex := s.Send(context.Background(), s.Attempt(testEvent())); !ex.OK() {
		t.Fatalf("the first delivery: status %d, %q", ex.Status(), ex.Err)
	}
	broken.Store(true)
	for _, tc := range []struct {
		why         string
		conns, reqs int32
	}{
		{"on the kept-alive connection, then once on a new one", 1, 2},
		{"on a new connection, never sent again", 1, 1},
	} {
		c0, r0 := conns.Load(), reqs.Load()
		ex := s.Send(context.Background(), s.Attempt(testEvent()))
		if ex.Failure != harness.FailureReset || ex.Response != nil {
			t.Errorf("%s: status %d, failure %q %q; want the receiver's reset reported", tc.why, ex.Status(), ex.Failure, ex.Err)
		}
		if c, r := conns.Load()-c0, reqs.Load()-r0; c != tc.conns || r != tc.reqs {
			t.Errorf("%s: %d new connections and %d requests, want %d and %d", tc.why, c, r, tc.conns, tc.reqs)
		}
	}
}

// TestTheSecondSendingIsOnANewConnection: against a receiver whose every
// kept-alive connection goes stale after one answer (closed as the next
// request arrives, as in the test above), concurrent deliveries all get
// their answers. The second sending of a delivery must take a connection
// of its own: one from the pool, which another delivery has just put
// back, is as stale as the first.
func TestTheSecondSendingIsOnANewConnection(t *testing.T) {
	t.Parallel()
	const (
		workers = 8
		each    = 10
	)
	srv := startRaw(t, false, func(c net.Conn) {
		r := bufio.NewReader(c)
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		// Closed as the next request arrives.
		r.Peek(1)
	})
	s := senderFor(t, srv, WithTimeout(5*time.Second))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if ex := s.Send(context.Background(), s.Attempt(testEvent())); ex.Status() != http.StatusOK {
					t.Errorf("worker %d, delivery %d: status %d, failure %q %q; want 200", w+1, i+1, ex.Status(), ex.Failure, ex.Err)
				}
			}
		})
	}
	wg.Wait()
}

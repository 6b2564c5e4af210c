package delivery

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
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

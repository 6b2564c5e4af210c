package delivery

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// A receiver may answer before it has read the whole request: nginx and
// many frameworks send 413 as soon as they see a Content-Length that is too
// large, without reading the body, and close the connection. The close
// resets it, since the body is unread, and the sender, still writing, gets
// "connection reset by peer" or "broken pipe" from its next write while
// the answer already waits in its receive buffer. net/http's Transport
// reads and writes a request in two goroutines; when the write error
// reaches it before the read loop has parsed the answer, it reports the
// write error and drops the answer (golang/go#11745, golang/go#51109). On
// loopback that lost the answer in a quarter to nine tenths of the attempts
// from 64 KiB bodies up; ROB-05 sends 5 MiB.
//
// earlyConn is the sender's fix. Every HTTP/1.1 connection the Transport
// makes is wrapped in one, above TLS, so that it sees the bytes the
// Transport sees.
// A write that fails because the receiver closed or reset the connection
// is held back until the read side has failed too (or the connection is
// closed): the read loop, which reads while the request is written, thus
// always gets to an answer first if there is one, and the Transport
// returns that answer as the response. The held write then fails a
// connection the Transport no longer reuses. A receiver that closes without
// answering leaves nothing to read: the read side fails at once, releases
// the write, and the attempt is a reset as before. Writes that succeed,
// those of every ordinary request, are passed through untouched, and
// keep-alive, TLS, the header limit, 1xx answers and cancellation stay the
// Transport's. It has no ReadFrom, on purpose: net/http then writes each
// Read of a request's body in a write of its own, which is how a body's
// segments reach the wire apart (segment.go).
//
// The hold ends long before the sender timeout that bounds it: a read on a
// closed or reset connection returns at once, and the Transport closes the
// connection when the attempt's context ends.
//
// One more race of the same kind is settled here: when the read loop finds
// the receiver gone, the Transport closes the connection, and a write still
// under way then fails with "use of closed network connection", which the
// Transport may report in preference to the read error. Such a write
// reports the read error instead, so that the attempt is the reset it is
// and not a transport error of the sender's own making.
type earlyConn struct {
	net.Conn
	hold time.Duration
	// readDone is closed once a read has failed or the connection is
	// closed: nothing more will come from the receiver.
	readDone chan struct{}
	once     sync.Once
	mu       sync.Mutex
	readErr  error // the first read error, if the receiver closed
}

func newEarlyConn(c net.Conn, hold time.Duration) *earlyConn {
	return &earlyConn{Conn: c, hold: hold, readDone: make(chan struct{})}
}

// earlyAnswers makes every HTTP/1.1 connection of tr an earlyConn, and
// has tr dial through d. An HTTP/2 connection is left as it is: HTTP/2
// carries an early answer on its own stream while the body is still sent,
// and net/http's HTTP/2 transport takes that answer as the response
// (it stops sending the body); besides, the transport speaks HTTP/2 on a
// TLS connection only when it is the *tls.Conn whose handshake chose h2,
// which a wrapper would hide. timeout bounds every hold.
func earlyAnswers(tr *http.Transport, d *dialer, timeout time.Duration) {
	tr.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) {
		c, err := d.dialTCP(ctx, addr)
		if err != nil || d.h2(c) {
			return c, err
		}
		return newEarlyConn(c, timeout), nil
	}
	tr.DialTLSContext = func(ctx context.Context, _, addr string) (net.Conn, error) {
		c, err := d.dialTLS(ctx, addr)
		if err != nil {
			return nil, err
		}
		if d.h2(c) {
			return c, nil
		}
		return newEarlyConn(c, timeout), nil
	}
}

func (c *earlyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		if peerClosed(err) {
			c.mu.Lock()
			if c.readErr == nil {
				c.readErr = err
			}
			c.mu.Unlock()
		}
		c.readEnded()
	}
	return n, err
}

func (c *earlyConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err == nil {
		return n, nil
	}
	if peerClosed(err) {
		t := time.NewTimer(c.hold)
		defer t.Stop()
		select {
		case <-c.readDone:
		case <-t.C:
		}
		return n, err
	}
	if errors.Is(err, net.ErrClosed) {
		// The Transport closed the connection under this write because
		// its read loop found the receiver gone: that, not the close, is
		// why the write failed.
		c.mu.Lock()
		rerr := c.readErr
		c.mu.Unlock()
		if rerr != nil {
			return n, rerr
		}
	}
	return n, err
}

func (c *earlyConn) Close() error {
	c.readEnded()
	return c.Conn.Close()
}

func (c *earlyConn) readEnded() { c.once.Do(func() { close(c.readDone) }) }

// peerClosed reports whether err says the receiver closed or reset the
// connection.
func peerClosed(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

package delivery

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// fakeConn is a net.Conn whose Write fails with writeErr and whose Read
// waits for readErr, to drive earlyConn step by step.
type fakeConn struct {
	net.Conn
	writeErr error
	readErr  chan error
}

func (f *fakeConn) Write(p []byte) (int, error) { return 0, f.writeErr }
func (f *fakeConn) Read(p []byte) (int, error)  { return 0, <-f.readErr }
func (f *fakeConn) Close() error                { return nil }

// writeAsync starts a write on c and returns when it ended, with its error.
func writeAsync(c net.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := c.Write([]byte("body"))
		done <- err
	}()
	return done
}

func TestEarlyConnHoldsAPeerClosedWrite(t *testing.T) {
	reset := &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	ended := func(t *testing.T, done <-chan error, within time.Duration) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(within):
			t.Fatalf("the write did not end within %s", within)
			return nil
		}
	}
	held := func(t *testing.T, done <-chan error) {
		t.Helper()
		select {
		case err := <-done:
			t.Fatalf("the write ended (%v) before the read side did", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Run("until the read side fails", func(t *testing.T) {
		f := &fakeConn{writeErr: reset, readErr: make(chan error)}
		c := newEarlyConn(f, time.Minute)
		done := writeAsync(c)
		held(t, done)
		go c.Read(make([]byte, 1))
		f.readErr <- io.EOF
		if err := ended(t, done, 5*time.Second); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("write error %v, want the reset it got", err)
		}
	})
	t.Run("until the connection is closed", func(t *testing.T) {
		f := &fakeConn{writeErr: syscall.EPIPE, readErr: make(chan error)}
		c := newEarlyConn(f, time.Minute)
		done := writeAsync(c)
		held(t, done)
		c.Close()
		if err := ended(t, done, 5*time.Second); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("write error %v, want the broken pipe it got", err)
		}
	})
	t.Run("at most for the hold", func(t *testing.T) {
		f := &fakeConn{writeErr: reset, readErr: make(chan error)}
		c := newEarlyConn(f, 300*time.Millisecond)
		start := time.Now()
		ended(t, writeAsync(c), 5*time.Second)
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("the write ended after %s, before the hold", d)
		}
	})
	t.Run("not once the read side has failed", func(t *testing.T) {
		f := &fakeConn{writeErr: reset, readErr: make(chan error, 1)}
		c := newEarlyConn(f, time.Minute)
		f.readErr <- io.EOF
		c.Read(make([]byte, 1))
		ended(t, writeAsync(c), time.Second)
	})
	t.Run("other errors pass at once", func(t *testing.T) {
		f := &fakeConn{writeErr: errors.New("i/o timeout"), readErr: make(chan error)}
		c := newEarlyConn(f, time.Minute)
		ended(t, writeAsync(c), time.Second)
	})
	t.Run("a write cut by the close after the receiver left says so", func(t *testing.T) {
		f := &fakeConn{writeErr: &net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}, readErr: make(chan error, 1)}
		c := newEarlyConn(f, time.Minute)
		f.readErr <- io.EOF
		c.Read(make([]byte, 1))
		if err := ended(t, writeAsync(c), time.Second); !errors.Is(err, io.EOF) {
			t.Errorf("write error %v, want the read side's EOF", err)
		}
	})
	t.Run("a write cut by a close of the sender's own stays so", func(t *testing.T) {
		f := &fakeConn{writeErr: &net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}, readErr: make(chan error)}
		c := newEarlyConn(f, time.Minute)
		c.Close()
		if err := ended(t, writeAsync(c), time.Second); !errors.Is(err, net.ErrClosed) {
			t.Errorf("write error %v, want the close", err)
		}
	})
}

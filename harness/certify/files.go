package certify

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/realm-ai/hookcert/harness/dial"
)

// A run opens a connection for each delivery or probe call under way over
// HTTP/1.1, and each is an open file of the process, two when the
// reference receiver serves in it. A run whose process may not open as
// many files as it needs would fail checks half-way for its own want of
// connections, which is never the receiver's fault: it stops before it
// starts, or, when it runs out all the same (a load against a receiver
// slower than the ack deadline holds more deliveries at once than one
// that meets it), at once, its checks cut short rather than judged.

// filesBase is what a run keeps open besides its connections: the
// standard streams, the runtime's poller, the reference receiver's
// listener, the report, results and log files, with room to spare.
const filesBase = 32

// streamsPerConnection is how many deliveries the harness counts on an
// HTTP/2 connection to carry at once: the least that RFC 9113 recommends
// a server allow.
const streamsPerConnection = 100

// checkFiles returns an error wrapping ErrCannotRun and a
// *dial.FilesError when the process may open fewer files than a run
// needs: calls deliveries and probe calls under way at once, own of which
// may dial a connection of their own whatever the protocol; at says what
// they are ("53 checks, 16 at once").
func (s *Session) checkFiles(calls, own int, at string) error {
	conns := calls
	how := "over HTTP/1.1, one per delivery or probe call under way"
	if s.multiplexed() {
		// The deliveries share connections, the probe has its own.
		conns = own + (calls+streamsPerConnection-1)/streamsPerConnection + 1
		how = fmt.Sprintf("over HTTP/2, %d deliveries a connection", streamsPerConnection)
	}
	per := 1
	if s.ref != nil {
		per = 2
	}
	why := fmt.Sprintf("%d connections for %s, %s", conns, at, how)
	if per == 2 {
		why += "; two files each with the reference receiver in this process"
	}
	if err := dial.CheckFiles(filesBase+per*conns, why); err != nil {
		return fmt.Errorf("%w: %w", ErrCannotRun, err)
	}
	return nil
}

// multiplexed reports whether the receiver answered the run's first
// delivery in HTTP/2, and only in it.
func (s *Session) multiplexed() bool {
	return s.Sender != nil && slices.Equal(s.Sender.Protocols(), []string{"HTTP/2.0"})
}

// stopOnFiles returns ctx, cancelled with a *dial.FilesError as its cause
// the moment a dial under it runs out of open files, and its stop.
func stopOnFiles(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := context.WithCancelCause(ctx)
	ctx = dial.WithOutOfFiles(ctx, func(e *dial.FilesError) { stop(e) })
	return ctx, func() { stop(nil) }
}

// ranOut returns why ctx ended when it ran out of open files (a
// *dial.FilesError, wrapped in ErrCannotRun), or nil.
func ranOut(ctx context.Context) error {
	var fe *dial.FilesError
	if errors.As(context.Cause(ctx), &fe) {
		return fmt.Errorf("%w: %w", ErrCannotRun, fe)
	}
	return nil
}

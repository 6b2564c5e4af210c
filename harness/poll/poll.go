// Package poll bounds every wait of the harness for a receiver or its
// probe: a poll until a deadline, and a pause that an interrupted run does
// not sit out.
package poll

import (
	"context"
	"errors"
	"time"
)

// ErrDeadline means Until's deadline passed before its function reported
// done. It is a sentinel, not a failure: a caller that polls for a state
// says in its own words what was not seen in time, or judges the state it
// saw last.
var ErrDeadline = errors.New("the deadline passed before the awaited state")

// Until calls fn, then again every interval, until fn reports done or
// fails, the deadline passes, or ctx ends. The last call is made at or
// after the deadline, so the state at the end of the period is seen, and
// no wait runs past it. It returns nil when fn is done, fn's error as is,
// ErrDeadline after the deadline, or ctx's error when ctx ended during
// a wait. Every wait of the harness for a receiver or a probe goes through
// it, so none can outlive its deadline or an interrupted run.
func Until(ctx context.Context, interval time.Duration, deadline time.Time, fn func() (done bool, err error)) error {
	for {
		done, err := fn()
		if err != nil || done {
			return err
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return ErrDeadline
		}
		if err := Sleep(ctx, min(interval, remaining)); err != nil {
			return err
		}
	}
}

// Sleep waits d, or until ctx ends: a pause that an interrupted run does
// not sit out. It returns ctx's error when ctx ended first, nil otherwise.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

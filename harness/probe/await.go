package probe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/poll"
)

// evidenceCap bounds the probe exchanges an Await* call keeps: the first,
// those where the state changed, and the last. Polls that saw nothing new
// would only bury the ones that matter.
const evidenceCap = 6

// zeroGrace is added to the watch when no processing at all is expected:
// a wrongly accepted delivery reaches the business logic through the
// receiver's queue, a little after its acknowledgement.
const zeroGrace = 250 * time.Millisecond

// AwaitEvent polls the probe until the event was processed at least want
// times (want >= 1) or the settle time ends, then keeps watching for the
// watch period that no extra processing appears. With want == 0 it watches
// for the watch period plus a short grace that the event stays unprocessed.
// It returns the highest count observed and the evidence; the caller
// compares them with what it wanted. An error wraps ErrProbe (the probe
// failed) or the context's error.
func (c *Client) AwaitEvent(ctx context.Context, eventID string, want int) (EventState, []harness.Exchange, error) {
	st, _, exs, err := c.awaitEvent(ctx, eventID, want, time.Time{}, time.Time{}, time.Time{})
	return st, exs, err
}

// AwaitRedelivered is AwaitEvent for an event first delivered at first and
// delivered again at last. "Processed want times" is only proven once the
// last copy had as long to be processed as the first took: the watch lasts
// until last plus twice the lag seen between first and the probe reaching
// want (at least the watch period, at most the settle time).
func (c *Client) AwaitRedelivered(ctx context.Context, eventID string, want int, first, last time.Time) (EventState, []harness.Exchange, error) {
	st, _, exs, err := c.awaitEvent(ctx, eventID, want, first, last, time.Time{})
	return st, exs, err
}

// AwaitSent is AwaitEvent for an event delivered once, at sent. It also
// returns its processing lag: from sent to the poll that first saw it
// processed want times (zero if it never was). A late event of the same
// job is given twice that lag to be processed (AwaitLate).
func (c *Client) AwaitSent(ctx context.Context, eventID string, want int, sent time.Time) (EventState, time.Duration, []harness.Exchange, error) {
	st, at, exs, err := c.awaitEvent(ctx, eventID, want, time.Time{}, time.Time{}, time.Time{})
	var lag time.Duration
	if !at.IsZero() && !sent.IsZero() {
		lag = max(at.Sub(sent), 0)
	}
	return st, lag, exs, err
}

// AwaitLate polls the probe for an event that arrived late, at sent, after
// its job had passed the state it carries. A receiver may process it (its
// state machine then refuses to go back) or skip it, acknowledged and
// never processed (README "The probe contract"); it may not process it
// twice. The event is given as long to be processed as twice lag, the
// processing lag seen for an earlier event (at least the watch period, at
// most the settle time, from sent); if it was processed, the watch period
// follows. It returns the highest count observed; a caller judges the
// job's state after it.
func (c *Client) AwaitLate(ctx context.Context, eventID string, sent time.Time, lag time.Duration) (EventState, []harness.Exchange, error) {
	until := sent.Add(min(max(c.watch, 2*lag), c.settle))
	st, _, exs, err := c.awaitEvent(ctx, eventID, 1, time.Time{}, time.Time{}, until)
	return st, exs, err
}

// awaitEvent is AwaitEvent, AwaitRedelivered and AwaitLate; it also
// returns when the count first reached want. A non-zero until ends the
// settle phase then instead of after the settle time.
func (c *Client) awaitEvent(ctx context.Context, eventID string, want int, first, last, until time.Time) (EventState, time.Time, []harness.Exchange, error) {
	var tr tracker[EventState]
	best := EventState{EventID: eventID}
	var at time.Time
	observe := func() error {
		st, ex, err := c.Event(ctx, eventID)
		tr.record(st, ex)
		if err == nil && (st.TimesProcessed > best.TimesProcessed || st.Found && !best.Found) {
			best = st
			if at.IsZero() && want > 0 && st.TimesProcessed >= want {
				at = ex.Start
			}
		}
		return err
	}
	reached := func() bool { return best.TimesProcessed >= want }
	if until.IsZero() {
		until = time.Now().Add(c.settle)
	}
	err := c.await(ctx, want <= 0, until, reached, observe, func(at time.Time) time.Duration {
		if first.IsZero() {
			return c.watch
		}
		lag := at.Sub(first)
		return min(max(c.watch, last.Add(2*lag).Sub(at)), c.settle)
	})
	return best, at, tr.evidence(), err
}

// AwaitJob polls the probe until the job's status is want or the settle
// time ends, then keeps watching for the watch period that it stays. It
// returns the last state observed and the evidence.
func (c *Client) AwaitJob(ctx context.Context, jobID, want string) (JobState, []harness.Exchange, error) {
	var tr tracker[JobState]
	last := JobState{JobID: jobID}
	observe := func() error {
		st, ex, err := c.job(ctx, jobID)
		tr.record(st, ex)
		if err == nil {
			last = st
		}
		return err
	}
	reached := func() bool { return last.Found && last.Status == want }
	err := c.await(ctx, false, time.Now().Add(c.settle), reached, observe, nil)
	return last, tr.evidence(), err
}

// await runs the settle phase (poll until reached or until) and, if
// reached, the watch phase, which lasts watchFor(the time it was reached),
// or the watch period when watchFor is nil. watchOnly skips settling:
// nothing is to be awaited, only watched for, a little longer.
func (c *Client) await(ctx context.Context, watchOnly bool, until time.Time, reached func() bool, observe func() error, watchFor func(time.Time) time.Duration) error {
	if watchOnly {
		return c.poll(ctx, time.Now().Add(c.watch+zeroGrace), func() (bool, error) { return false, observe() })
	}
	err := c.poll(ctx, until, func() (bool, error) {
		err := observe()
		return err == nil && reached(), err
	})
	if err != nil || !reached() {
		return err
	}
	now, watch := time.Now(), c.watch
	if watchFor != nil {
		watch = watchFor(now)
	}
	return c.poll(ctx, now.Add(watch), func() (bool, error) { return false, observe() })
}

// poll calls fn, then again every interval, until it reports done, fails,
// or the deadline has passed (see poll.Until). The end of the period is
// not an error: the caller judges the state last seen.
func (c *Client) poll(ctx context.Context, deadline time.Time, fn func() (bool, error)) error {
	err := poll.Until(ctx, c.interval, deadline, fn)
	switch {
	case errors.Is(err, poll.ErrDeadline):
		return nil
	case err != nil && !errors.Is(err, ErrProbe):
		// Not a probe call's failure: ctx ended between two calls.
		return fmt.Errorf("probe: waiting for the expected state: %w", err)
	}
	return err
}

// tracker keeps the evidence of a series of polls: the first exchange,
// those whose state differs from the one before, and the last.
type tracker[S comparable] struct {
	kept     []harness.Exchange
	last     harness.Exchange
	lastSt   S
	n        int
	lastKept bool
}

func (t *tracker[S]) record(st S, ex harness.Exchange) {
	changed := t.n == 0 || st != t.lastSt || ex.Err != ""
	t.n++
	t.last, t.lastSt, t.lastKept = ex, st, false
	if changed && len(t.kept) < evidenceCap-1 {
		t.kept = append(t.kept, ex)
		t.lastKept = true
	}
}

func (t *tracker[S]) evidence() []harness.Exchange {
	if t.n > 0 && !t.lastKept {
		return append(t.kept, t.last)
	}
	return t.kept
}

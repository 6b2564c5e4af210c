package harness

import (
	"fmt"
	"time"
)

// Timing holds every wall-clock constant of a run: what the certification
// demands of the receiver, how the sender waits and retries, how long the
// probe is given. It is one value so that a run can be compressed all at
// once (CompressedTiming) and a run at a fraction of real time keeps every relation
// between its parts: a retry still comes after the attempt it repeats was
// abandoned. The reference receiver's fault delays are its own
// (receiver.Delays).
type Timing struct {
	// AckDeadline is what the certification demands of every
	// acknowledgement.
	AckDeadline time.Duration
	// SenderTimeout is how long REALM waits for an answer before it
	// abandons an attempt.
	SenderTimeout time.Duration
	// RetrySchedule is the backoff between attempts: attempt 2 goes
	// RetrySchedule[0] after attempt 1 failed, and so on.
	RetrySchedule []time.Duration
	// Settle is how long the probe is polled for an expected state.
	Settle time.Duration
	// Watch is how long the probe is watched, once the expected state is
	// seen, for late extra processing.
	Watch time.Duration
	// DedupeGap is how long IDEM-06 waits before it redelivers an event:
	// a dedupe record must outlive it.
	DedupeGap time.Duration
}

// DefaultTiming returns the timing of a real run: an ack deadline of 1 s,
// a sender timeout of 5 s, retries after 1 s, 2 s and 4 s, a settle time of
// 5 s, a watch of 0.5 s and a dedupe gap of 10 s.
func DefaultTiming() Timing {
	return Timing{
		AckDeadline:   time.Second,
		SenderTimeout: 5 * time.Second,
		RetrySchedule: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second},
		Settle:        5 * time.Second,
		Watch:         500 * time.Millisecond,
		DedupeGap:     10 * time.Second,
	}
}

// CompressedTiming is the timing of the project's own runs of the whole
// catalogue (the planted-fault proof, the mutation score): the waits that
// only cost time are compressed, the settle and watch times to a quarter,
// the retry schedule to half and the dedupe gap to 2 s; the bounds a
// correct receiver must meet are generous instead, an ack deadline of 2 s
// and a sender timeout of 10 s, so that a busy
// machine never turns a correct answer into a failure.
func CompressedTiming() Timing {
	t := DefaultTiming()
	q := t.scale(0.25)
	t.Settle, t.Watch = q.Settle, q.Watch
	t.RetrySchedule = t.scale(0.5).RetrySchedule
	t.AckDeadline = 2 * time.Second
	t.SenderTimeout = 10 * time.Second
	t.DedupeGap = 2 * time.Second
	return t
}

// scale returns t with every duration multiplied by f: scale(0.25) runs a
// catalogue in a quarter of its real time. The schedule is copied.
func (t Timing) scale(f float64) Timing {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
	out := Timing{
		AckDeadline:   s(t.AckDeadline),
		SenderTimeout: s(t.SenderTimeout),
		Settle:        s(t.Settle),
		Watch:         s(t.Watch),
		DedupeGap:     s(t.DedupeGap),
	}
	for _, d := range t.RetrySchedule {
		out.RetrySchedule = append(out.RetrySchedule, s(d))
	}
	return out
}

// WithDefaults returns t with every zero field taken from DefaultTiming.
func (t Timing) WithDefaults() Timing {
	d := DefaultTiming()
	fill := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&t.AckDeadline, d.AckDeadline)
	fill(&t.SenderTimeout, d.SenderTimeout)
	fill(&t.Settle, d.Settle)
	fill(&t.Watch, d.Watch)
	fill(&t.DedupeGap, d.DedupeGap)
	if len(t.RetrySchedule) == 0 {
		t.RetrySchedule = d.RetrySchedule
	}
	return t
}

// Validate reports the first duration that is out of range: the ack
// deadline, sender timeout and every retry delay must be positive, the
// settle and watch times not negative. The error names the field.
func (t Timing) Validate() error {
	switch {
	case t.AckDeadline <= 0:
		return fmt.Errorf("%w: the ack deadline %s must be positive", errTiming, t.AckDeadline)
	case t.SenderTimeout <= 0:
		return fmt.Errorf("%w: the sender timeout %s must be positive", errTiming, t.SenderTimeout)
	case t.Settle < 0 || t.Watch < 0:
		return fmt.Errorf("%w: the settle time %s and the watch %s must not be negative", errTiming, t.Settle, t.Watch)
	}
	for _, d := range t.RetrySchedule {
		if d <= 0 {
			return fmt.Errorf("%w: the retry delay %s must be positive", errTiming, d)
		}
	}
	return nil
}

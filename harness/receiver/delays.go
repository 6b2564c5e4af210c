package receiver

import (
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Delays are how long the planted faults that wait take. They belong to
// the reference receiver, not to the run, but they are derived from the
// run's timing so that a compressed run keeps each fault on the side of
// the deadline it must be on.
type Delays struct {
	// SlowAck is how long slow-ack and slow-model-ack work before they
	// answer: later than the ack deadline, sooner than the sender timeout.
	SlowAck time.Duration
	// RacyWindow is the gap racy-dedupe leaves between
	// checking and recording, wide enough that concurrent copies all pass
	// the check.
	RacyWindow time.Duration
	// DedupeTTL is how long dedupe-expiry remembers an event id: shorter
	// than IDEM-06's dedupe gap, so its late redelivery is processed again.
	DedupeTTL time.Duration
}

// DelaysFor returns the delays against a run of timing t (zero fields take
// harness.DefaultTiming's): slow-ack answers after one and a half ack
// deadlines (1.5 s at real time), racy-dedupe's window is a quarter of the
// deadline (250 ms) and dedupe-expiry forgets after half the dedupe gap
// (5 s).
func DelaysFor(t harness.Timing) Delays {
	t = t.WithDefaults()
	return Delays{SlowAck: t.AckDeadline * 3 / 2, RacyWindow: t.AckDeadline / 4, DedupeTTL: t.DedupeGap / 2}
}

// over returns d with each zero field taken from base.
func (d Delays) over(base Delays) Delays {
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&d.SlowAck, base.SlowAck}, {&d.RacyWindow, base.RacyWindow}, {&d.DedupeTTL, base.DedupeTTL},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	return d
}

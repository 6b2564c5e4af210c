package receiver

import (
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Delays are how long the planted faults that wait take. They belong to
// the reference receiver, not to the run: a test that compresses the run's
// timing sets the ones its faults need on the right side of its deadline.
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

// delaysFor returns the delays against a run of timing t (zero fields take
// harness.DefaultTiming's): slow-ack answers after 1.5 s, past the real ack
// deadline of 1 s and well within the sender timeout of 5 s; racy-dedupe's
// window is 250 ms; dedupe-expiry forgets after half the run's dedupe gap
// (5 s at real time), so that IDEM-06's redelivery comes after it.
func delaysFor(t harness.Timing) Delays {
	t = t.WithDefaults()
	return Delays{SlowAck: 1500 * time.Millisecond, RacyWindow: 250 * time.Millisecond, DedupeTTL: t.DedupeGap / 2}
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

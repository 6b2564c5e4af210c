package engine_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/probe"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// The tests here run the engine against a fakeReceiver in a synctest
// bubble, with the run's real timing: a five-minute pause or a five-second
// settle time passes at once, and every wait ends exactly when its timing
// says, so each side of a threshold can be asserted to the nanosecond.

// custom parses a scenario of the test's own: the fields every scenario
// has, then extra fields and the steps, both YAML.
func custom(t *testing.T, id, extra, steps string) *scenario.Scenario {
	t.Helper()
	text := "id: " + id + "\ntitle: t\nlevel: MUST\ncategory: custom\nrequirement: r\nseed: s\n" + extra + "steps:\n" + steps
	sc, err := scenario.Parse(id+".yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// answering returns a script that answers as a correct receiver does,
// after the given time.
func answering(after time.Duration) func(arrival) reply {
	return func(d arrival) reply {
		r := correct(d)
		r.after = after
		return r
	}
}

// sendAndProbe sends one event and expects it processed once.
const sendAndProbe = `  - send:
      build: {type: job.completed}
      as: x
    expect: {status: 2xx}
  - probe: {event: x, processed: 1}
`

func TestTheAckDeadlineIsExact(t *testing.T) {
	t.Parallel()
	deadline := harness.DefaultTiming().AckDeadline
	for _, tc := range []struct {
		why   string
		after time.Duration
		want  harness.Verdict
	}{
		{"an answer exactly at the deadline is in time", deadline, harness.Pass},
		{"an answer a nanosecond after it is late", deadline + time.Nanosecond, harness.Fail},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				rcv.script = answering(tc.after)
				r := inMemory(t, rcv, false, nil).RunAll(t.Context(), builtin(t, "ACK-02"))[0]
				if r.Verdict != tc.want {
					t.Fatalf("ACK-02, every answer after %s: %s (%s), want %s", tc.after, r.Verdict, r.Observed, tc.want)
				}
				if len(r.Evidence) == 0 || slices.ContainsFunc(r.Evidence, func(ex harness.Exchange) bool { return ex.Latency != tc.after }) {
					t.Fatalf("%d exchanges, want each with a latency of exactly %s", len(r.Evidence), tc.after)
				}
			})
		})
	}
}

// TestACK11JudgesTheRunsAnswerTimesExactly runs 100 deliveries, the first
// late ones a nanosecond past the ack deadline and the others exactly on
// it, then ACK-11 over them: each side of its 1 % threshold.
func TestACK11JudgesTheRunsAnswerTimesExactly(t *testing.T) {
	t.Parallel()
	deadline := harness.DefaultTiming().AckDeadline
	for _, tc := range []struct {
		why  string
		late int64
		want harness.Verdict
		says string
	}{
		{"answers exactly on the deadline are in time", 0, harness.Pass, "0 of 100 answered after"},
		{"one in 100 a nanosecond late warns", 1, harness.Warn, "1 of the run's 100 deliveries were answered after the ack deadline of 1s"},
		{"two in 100 fail", 2, harness.Fail, "2 of 100 answered after the ack deadline of 1s"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				var n atomic.Int64
				rcv.script = func(d arrival) reply {
					r := correct(d)
					r.after = deadline
					if n.Add(1) <= tc.late {
						r.after += time.Nanosecond
					}
					return r
				}
				hundred := custom(t, "X-01", "", "  - send:\n      build: {type: job.queued}\n      repeat: 100\n    expect: {status: 2xx}\n")
				rs := inMemory(t, rcv, false, nil).RunAll(t.Context(), []*scenario.Scenario{hundred, builtin(t, "ACK-11")[0]})
				if r := rs[1]; r.Verdict != tc.want || !strings.Contains(r.Observed, tc.says) {
					t.Fatalf("ACK-11: %s, observed %q; want %s saying %q", r.Verdict, r.Observed, tc.want, tc.says)
				}
			})
		})
	}
}

// TestTheRetryScheduleIsKeptExactly: RETRY-04's attempts arrive exactly
// the configured gaps apart.
func TestTheRetryScheduleIsKeptExactly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sched := []time.Duration{3 * time.Second, 7 * time.Second, 11 * time.Second}
		rcv := newFakeReceiver()
		e := inMemory(t, rcv, true, func(c *engine.Config) { c.Timing.RetrySchedule = sched })
		if r := e.RunAll(t.Context(), builtin(t, "RETRY-04"))[0]; r.Verdict != harness.Pass {
			t.Fatalf("RETRY-04 against a correct receiver: %s (%s)", r.Verdict, r.Observed)
		}
		got := rcv.all()
		if len(got) != 3 {
			t.Fatalf("%d deliveries, want RETRY-04's 3", len(got))
		}
		for i, d := range got {
			if d.a.Number != i+1 || d.a.EventID != got[0].a.EventID {
				t.Errorf("delivery %d: attempt %d of %s, want attempt %d of one event", i+1, d.a.Number, d.a.EventID, i+1)
			}
			if i > 0 && d.at.Sub(got[i-1].at) != sched[i-1] {
				t.Errorf("attempt %d came %s after attempt %d, want the schedule's %s", i+1, d.at.Sub(got[i-1].at), i, sched[i-1])
			}
		}
	})
}

// TestTheSettleTimeIsKeptExactly: an event processed a nanosecond before
// the settle time ends is seen, one a nanosecond after it is not; the
// probe step lasts the settle time, and then the watch if it saw it.
func TestTheSettleTimeIsKeptExactly(t *testing.T) {
	t.Parallel()
	timing := harness.DefaultTiming()
	for _, tc := range []struct {
		why  string
		lag  time.Duration
		want harness.Verdict
		took time.Duration
	}{
		{"processed just within the settle time", timing.Settle - time.Nanosecond, harness.Pass, timing.Settle + timing.Watch},
		{"processed just after it", timing.Settle + time.Nanosecond, harness.Fail, timing.Settle},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				rcv.script = func(d arrival) reply { return reply{status: 200, process: true, lag: tc.lag} }
				r := inMemory(t, rcv, true, nil).RunAll(t.Context(), []*scenario.Scenario{custom(t, "X-01", "probe: true\n", sendAndProbe)})[0]
				if r.Verdict != tc.want || r.Duration != tc.took {
					t.Fatalf("processed %s after the delivery: %s after %s (%s), want %s after %s", tc.lag, r.Verdict, r.Duration, r.Observed, tc.want, tc.took)
				}
				if tc.want == harness.Fail && !strings.Contains(r.Observed, "not processed within the settle time of 5s") {
					t.Fatalf("observed %q, want it to name the settle time", r.Observed)
				}
			})
		})
	}
}

// TestTheWatchIsKeptExactly: a second run of the business logic a
// nanosecond before the watch ends is caught; one a nanosecond after it is
// past what the check looks at.
func TestTheWatchIsKeptExactly(t *testing.T) {
	t.Parallel()
	watch := harness.DefaultTiming().Watch
	for _, tc := range []struct {
		again time.Duration
		want  harness.Verdict
	}{
		{watch - time.Nanosecond, harness.Fail},
		{watch + time.Nanosecond, harness.Pass},
	} {
		t.Run(tc.again.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				rcv.script = func(d arrival) reply { return reply{status: 200, process: true, again: tc.again} }
				r := inMemory(t, rcv, true, nil).RunAll(t.Context(), []*scenario.Scenario{custom(t, "X-01", "probe: true\n", sendAndProbe)})[0]
				if r.Verdict != tc.want || r.Duration != watch {
					t.Fatalf("processed again %s after the first run: %s after %s (%s), want %s after the watch of %s",
						tc.again, r.Verdict, r.Duration, r.Observed, tc.want, watch)
				}
				if tc.want == harness.Fail && !strings.Contains(r.Observed, "timesProcessed 2") {
					t.Fatalf("observed %q, want the second run seen", r.Observed)
				}
			})
		})
	}
}

// TestTheDedupeGapAndItsBurstAreKeptExactly runs IDEM-06 with the run's
// real gap and burst: the redelivery comes exactly the watch and the gap
// after the original, and the burst delivers its whole volume in rounds
// of BurstInFlight, evenly paced at the volume rate. A dedupe store that
// forgets within the gap fails.
func TestTheDedupeGapAndItsBurstAreKeptExactly(t *testing.T) {
	t.Parallel()
	timing := harness.DefaultTiming()
	for _, tc := range []struct {
		why  string
		keep time.Duration
		want harness.Verdict
	}{
		{"a dedupe store that outlives the gap", 0, harness.Pass},
		{"one that forgets after half of it", timing.DedupeGap / 2, harness.Fail},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				rcv.keep = tc.keep
				r := inMemory(t, rcv, true, nil).RunAll(t.Context(), builtin(t, "IDEM-06"))[0]
				if r.Verdict != tc.want {
					t.Fatalf("IDEM-06: %s (%s), want %s", r.Verdict, r.Observed, tc.want)
				}
				all := rcv.all()
				original := rcv.arrivalsOf(all[0].a.EventID)
				if len(original) != 2 || original[1].at.Sub(original[0].at) != timing.Watch+timing.DedupeGap {
					t.Fatalf("the original was delivered %d times, want twice, the watch and the gap (%s) apart", len(original), timing.Watch+timing.DedupeGap)
				}
				checkBurst(t, all[1:len(all)-1], original[0].at.Add(timing.Watch), timing.DedupeGap)
			})
		})
	}
}

// checkBurst checks a burst's deliveries, which started at start: the
// whole volume the gap holds at the volume rate, BurstInFlight at a time,
// each round the same interval after the one before.
func checkBurst(t *testing.T, burst []arrival, start time.Time, gap time.Duration) {
	t.Helper()
	want := min(engine.DefaultVolume, int(engine.DefaultVolumeRate*gap.Seconds()))
	if len(burst) != want {
		t.Fatalf("the burst delivered %d events, want %d", len(burst), want)
	}
	every := time.Second * engine.BurstInFlight / engine.DefaultVolumeRate
	for i, d := range burst {
		if at := start.Add(time.Duration(i/engine.BurstInFlight) * every); !d.at.Equal(at) {
			t.Fatalf("burst delivery %d came %s after the burst started, want %s (round %d, one every %s)",
				i+1, d.at.Sub(start), at.Sub(start), i/engine.BurstInFlight+1, every)
		}
	}
}

// TestIDEM07CatchesAnExpiringDedupe runs the slow check at its real five
// minutes: a dedupe store that forgets after five seconds processes the
// redelivery again, one that keeps every record does not.
func TestIDEM07CatchesAnExpiringDedupe(t *testing.T) {
	t.Parallel()
	watch := harness.DefaultTiming().Watch
	for _, tc := range []struct {
		keep time.Duration
		want harness.Verdict
	}{
		{0, harness.Pass},
		{5 * time.Second, harness.Fail},
	} {
		t.Run("keep "+tc.keep.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				rcv.keep = tc.keep
				if r := inMemory(t, rcv, true, nil).RunAll(t.Context(), builtin(t, "IDEM-07"))[0]; r.Verdict != tc.want {
					t.Fatalf("IDEM-07 against a dedupe store that keeps records %s: %s (%s), want %s", tc.keep, r.Verdict, r.Observed, tc.want)
				}
				got := rcv.all()
				if len(got) != 2 || got[1].at.Sub(got[0].at) != watch+5*time.Minute {
					t.Fatalf("%d deliveries, want two, the watch and five minutes apart", len(got))
				}
			})
		})
	}
}

// TestLateEventsAreJudgedByTheJobsState: a receiver may run a late event
// through a state machine that refuses to go back, or acknowledge it and
// drop it before its business logic (README "The probe contract"); one
// that lets the late event win fails the ordering checks.
func TestLateEventsAreJudgedByTheJobsState(t *testing.T) {
	t.Parallel()
	ids := []string{"ORD-01", "ORD-02", "ORD-03", "ORD-05", "ACK-10"}
	pass := map[string]harness.Verdict{"ORD-01": harness.Pass, "ORD-02": harness.Pass, "ORD-03": harness.Pass, "ORD-05": harness.Pass, "ACK-10": harness.Pass}
	for _, tc := range []struct {
		why  string
		late lateMode
		want map[string]harness.Verdict
	}{
		{"keeps the newest state", keepNewest, pass},
		{"drops a late event", skipLate, pass},
		// ORD-01 has no probe; every event is still processed once.
		{"lets the last write win", lastWriteWins, map[string]harness.Verdict{
			"ORD-01": harness.Pass, "ORD-02": harness.Fail, "ORD-03": harness.Fail, "ORD-05": harness.Fail, "ACK-10": harness.Pass}},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				rcv.late = tc.late
				for _, r := range inMemory(t, rcv, true, nil).RunAll(t.Context(), builtin(t, ids...)) {
					if r.Verdict != tc.want[r.ID] {
						t.Errorf("%s against a receiver that %s: %s (%s), want %s", r.ID, tc.why, r.Verdict, r.Observed, tc.want[r.ID])
					}
				}
			})
		})
	}
}

// TestACK10JudgesWhatTheRunProcessed runs a check whose delivery is
// acknowledged, one whose delivery is refused, and ACK-10 over both.
func TestACK10JudgesWhatTheRunProcessed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		why    string
		script func(arrival) reply
		want   harness.Verdict
		says   string
	}{
		{"a correct receiver", correct, harness.Pass, "all 1 processed once"},
		{"an acknowledged event processed an hour later", func(d arrival) reply {
			r := correct(d)
			r.lag = time.Hour
			return r
		}, harness.Fail, "1 never processed within 5s"},
		{"an acknowledged event processed twice", func(d arrival) reply {
			r := correct(d)
			r.again = time.Millisecond
			return r
		}, harness.Fail, "1 processed more than once"},
		{"a refused event processed anyway", func(d arrival) reply {
			r := correct(d)
			r.process = true
			return r
		}, harness.Fail, "1 processed although every delivery was refused"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				rcv.script = tc.script
				rs := inMemory(t, rcv, true, nil).RunAll(t.Context(), builtin(t, "SIG-01", "SIG-02", "ACK-10"))
				if r := rs[2]; r.Verdict != tc.want || !strings.Contains(r.Observed, tc.says) {
					t.Fatalf("ACK-10: %s, observed %q; want %s saying %q", r.Verdict, r.Observed, tc.want, tc.says)
				}
			})
		})
	}
}

func TestChecksThatNeedTheProbeSkipWithoutIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		why   string
		probe engine.Prober
	}{
		{"no probe", nil},
		// A run without a probe URL has a nil client; it is no probe.
		{"a nil probe client", (*probe.Client)(nil)},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := inMemory(t, newFakeReceiver(), false, func(c *engine.Config) { c.Probe = tc.probe })
				rs := e.RunAll(t.Context(), builtin(t, "SIG-02", "ROB-04"))
				if rs[0].Verdict != harness.Skip || !strings.HasPrefix(rs[0].Reason, "what needs no probe passed; ") || !strings.Contains(rs[0].Reason, "probe URL") {
					t.Errorf("SIG-02 without a probe: %s (%s), want SKIP naming the probe URL", rs[0].Verdict, rs[0].Reason)
				}
				// ROB-04 checks status codes without the probe and says what it left out.
				if rs[1].Verdict != harness.Pass || !slices.ContainsFunc(rs[1].Notes, func(n string) bool { return strings.Contains(n, "without a probe URL") }) {
					t.Errorf("ROB-04 without a probe: %s, notes %v; want PASS with a note on the skipped probe steps", rs[1].Verdict, rs[1].Notes)
				}
			})
		})
	}
}

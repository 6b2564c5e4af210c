package engine_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// outageScenarios are four checks around an outage from 3 s to 4 s into
// the run, each on its own clock: one that delivers into it (and would
// fail), one that fails for its own reason before and after it, one that
// asks the probe inside it and passes, and one that delivers into it
// late. ACK-12 judges them.
func outageScenarios(t *testing.T) []*scenario.Scenario {
	t.Helper()
	send := func(expect string) string {
		return "  - send:\n      build: {type: job.completed}\n    expect: {status: " + expect + "}\n"
	}
	pause := func(d string) string { return "  - pause: {for: " + d + "}\n" }
	return []*scenario.Scenario{
		custom(t, "X-01", "", send("2xx")+pause("3s")+send("2xx")),
		custom(t, "X-02", "", pause("1s")+send("4xx")+pause("4s")+send("2xx")),
		custom(t, "X-03", "", "  - send:\n      build: {type: job.completed}\n      as: x\n    expect: {status: 2xx}\n"+
			pause("3200ms")+"  - probe: {event: x, processed: 1}\n"),
		custom(t, "X-04", "", pause("3500ms")+send("2xx")),
		builtin(t, "ACK-12")[0],
	}
}

// TestAnOutageIsOneFinding runs checks against a receiver that refuses
// every connection from 3 s to 4 s into the run, in virtual time: ACK-12
// fails once and names the window and the delivery sent just before it;
// the checks whose deliveries met it are AFFECTED, pointing to ACK-12;
// the one that failed for its own reason away from it still fails, and
// the one that met it and passed still passes. The same checks against a
// receiver that stays up, or hangs instead, have no AFFECTED and ACK-12
// passes.
func TestAnOutageIsOneFinding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		why    string
		away   func(start time.Time) func() bool
		script func(start time.Time) func(arrival) reply
		want   map[string]harness.Verdict
		says   []string
	}{
		{"a receiver down from 3 s to 4 s", between(3*time.Second, 4*time.Second), nil, map[string]harness.Verdict{"X-01": harness.Affected, "X-02": harness.Fail, "X-03": harness.Pass, "X-04": harness.Affected, "ACK-12": harness.Fail},
			[]string{"2 of the run's 6 deliveries found no receiver", "from 3.000 s to 3.500 s into the run (deliveries 4 to 5 of 6",
				"the first, X-01's job.completed evt_", "(connection refused)", "Just before the first came X-02's job.completed evt_",
				"at 1.000 s (200 OK in 0s)", "2 other checks met the outage and are AFFECTED, not judged: X-01, X-04"}},
		{"a receiver that stays up", nil, nil,
			map[string]harness.Verdict{"X-01": harness.Pass, "X-02": harness.Fail, "X-03": harness.Pass, "X-04": harness.Pass, "ACK-12": harness.Pass},
			[]string{"all 6 answered"}},
		{"a receiver that hangs is there, and is ACK-11's", nil, func(start time.Time) func(arrival) reply {
			return func(d arrival) reply {
				if at := d.at.Sub(start); at >= 3*time.Second && at < 4*time.Second {
					return reply{}
				}
				return correct(d)
			}
		}, map[string]harness.Verdict{"X-01": harness.Fail, "X-02": harness.Fail, "X-03": harness.Pass, "X-04": harness.Fail, "ACK-12": harness.Pass},
			[]string{"all 6 answered"}},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				if tc.away != nil {
					rcv.away = tc.away(time.Now())
				}
				if tc.script != nil {
					rcv.script = tc.script(time.Now())
				}
				rs := inMemory(t, rcv, true, nil).RunAll(t.Context(), outageScenarios(t))
				for _, r := range rs {
					if r.Verdict != tc.want[r.ID] {
						t.Errorf("%s: %s (%s), want %s", r.ID, r.Verdict, r.Observed, tc.want[r.ID])
					}
				}
				ack := rs[len(rs)-1]
				for _, s := range tc.says {
					if !strings.Contains(ack.Observed, s) {
						t.Errorf("ACK-12 observed %q, want it to say %q", ack.Observed, s)
					}
				}
				for _, r := range rs {
					if r.Verdict != harness.Affected {
						continue
					}
					const pointer = "affected by the outage reported by ACK-12 from 3.000 s to 3.500 s into the run"
					if !strings.HasPrefix(r.Observed, pointer) || !strings.HasPrefix(r.Reason, pointer) ||
						!strings.Contains(r.Observed, "it would have been FAIL") || !strings.Contains(r.Observed, "\nstep ") || len(r.Evidence) == 0 {
						t.Errorf("%s: reason %q, observed %q, %d exchanges; want both to point to ACK-12, what it saw kept with its evidence",
							r.ID, r.Reason, r.Observed, len(r.Evidence))
					}
				}
			})
		})
	}
}

// between returns a receiver's away that is true from from to to into the
// run that starts when it is called.
func between(from, to time.Duration) func(time.Time) func() bool {
	return func(start time.Time) func() bool {
		return func() bool {
			at := time.Since(start)
			return at >= from && at < to
		}
	}
}

// TestChecksWaitForTheReceiverToComeBack: one check at a time, the first
// meeting an outage from 3 s to 4.5 s into the run. The checks after it
// wait to start until the receiver takes connections again, exactly then,
// and are judged as usual; ACK-12 says how long they waited. A receiver
// gone for good is waited for one sender timeout, no longer: the checks
// after it then meet it, and are AFFECTED too.
func TestChecksWaitForTheReceiverToComeBack(t *testing.T) {
	t.Parallel()
	timeout := harness.DefaultTiming().SenderTimeout
	for _, tc := range []struct {
		why     string
		away    func(time.Time) func() bool
		want    map[string]harness.Verdict
		startAt time.Duration
		says    string
	}{
		{"a receiver back after 1.5 s", between(3*time.Second, 4500*time.Millisecond),
			map[string]harness.Verdict{"X-01": harness.Affected, "X-05": harness.Pass, "X-06": harness.Pass, "ACK-12": harness.Fail},
			4500 * time.Millisecond, "The checks not started by then waited 1.5s in all for it to take connections again"},
		{"a receiver gone for good", between(3*time.Second, time.Hour),
			map[string]harness.Verdict{"X-01": harness.Affected, "X-05": harness.Affected, "X-06": harness.Affected, "ACK-12": harness.Fail},
			3*time.Second + timeout, "It took no connection again within the sender timeout of 5s"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rcv := newFakeReceiver()
				start := time.Now()
				rcv.away = tc.away(start)
				scs := []*scenario.Scenario{
					custom(t, "X-01", "", "  - send:\n      build: {type: job.queued}\n    expect: {status: 2xx}\n  - pause: {for: 3s}\n"+
						"  - send:\n      build: {type: job.queued}\n    expect: {status: 2xx}\n"),
					custom(t, "X-05", "after: [X-01]\n", sendAndProbe), custom(t, "X-06", "after: [X-05]\n", sendAndProbe), builtin(t, "ACK-12")[0],
				}
				rs := inMemory(t, rcv, true, func(c *engine.Config) { c.Concurrency = 1 }).RunAll(t.Context(), scs)
				for _, r := range rs {
					if r.Verdict != tc.want[r.ID] {
						t.Errorf("%s: %s (%s), want %s", r.ID, r.Verdict, r.Observed, tc.want[r.ID])
					}
				}
				if got := rs[1].Evidence[0].Start.Sub(start); got != tc.startAt {
					t.Errorf("X-05 delivered first at %s into the run, want %s", got, tc.startAt)
				}
				if !strings.Contains(rs[3].Observed, tc.says) {
					t.Errorf("ACK-12 observed %q, want it to say %q", rs[3].Observed, tc.says)
				}
			})
		})
	}
}

// TestAvailabilityNeedsDeliveries: ACK-12 alone has nothing to judge, and
// skips rather than pass.
func TestAvailabilityNeedsDeliveries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := inMemory(t, newFakeReceiver(), false, nil).RunAll(t.Context(), builtin(t, "ACK-12"))[0]
		if r.Verdict != harness.Skip || !strings.Contains(r.Reason, "no other check") {
			t.Fatalf("ACK-12 alone: %s (%s), want a skip saying no other check delivered", r.Verdict, r.Reason)
		}
	})
}

// TestTwoOutagesAreTwoWindows: a receiver down at 3 s and again at 6 s
// into the run, answering in between. ACK-12 names both windows; the
// checks that delivered into them are AFFECTED, each pointing to its own
// window; the one that failed for its own reason between them, while the
// receiver answered, still fails. One window from the first outage to
// the last would have taken it from judgment.
func TestTwoOutagesAreTwoWindows(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rcv := newFakeReceiver()
		first, second := between(3*time.Second, 3500*time.Millisecond)(time.Now()), between(6*time.Second, 6500*time.Millisecond)(time.Now())
		rcv.away = func() bool { return first() || second() }
		send := func(expect string) string {
			return "  - send:\n      build: {type: job.completed}\n    expect: {status: " + expect + "}\n"
		}
		pause := func(d string) string { return "  - pause: {for: " + d + "}\n" }
		scs := []*scenario.Scenario{
			custom(t, "X-01", "", send("2xx")+pause("3s")+send("2xx")),
			custom(t, "X-07", "", pause("4500ms")+send("4xx")),
			custom(t, "X-08", "", pause("6s")+send("2xx")),
			builtin(t, "ACK-12")[0],
		}
		rs := inMemory(t, rcv, true, nil).RunAll(t.Context(), scs)
		want := map[string]harness.Verdict{"X-01": harness.Affected, "X-07": harness.Fail, "X-08": harness.Affected, "ACK-12": harness.Fail}
		for _, r := range rs {
			if r.Verdict != want[r.ID] {
				t.Errorf("%s: %s (%s), want %s", r.ID, r.Verdict, r.Observed, want[r.ID])
			}
		}
		for _, s := range []string{"2 of the run's 4 deliveries found no receiver", "in 2 outages",
			"from 3.000 s to 3.000 s into the run (deliveries 2 to 2 of 4", "; from 6.000 s to 6.000 s into the run (deliveries 4 to 4 of 4",
			"Just before the first came X-07's job.completed evt_"} {
			if !strings.Contains(rs[3].Observed, s) {
				t.Errorf("ACK-12 observed %q, want it to say %q", rs[3].Observed, s)
			}
		}
		for i, span := range map[int]string{0: "from 3.000 s to 3.000 s into the run:", 2: "from 6.000 s to 6.000 s into the run:"} {
			if !strings.HasPrefix(rs[i].Observed, "affected by the outage reported by ACK-12 "+span) {
				t.Errorf("%s observed %q, want it to point to its own window, %s", rs[i].ID, rs[i].Observed, span)
			}
		}
	})
}

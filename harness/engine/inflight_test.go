package engine_test

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// TestInFlightBoundsTheCatalogue runs the built-in catalogue against a
// receiver in memory that takes a while to answer, so that what can
// overlap does, and holds the deliveries it saw under way at once to the
// engine's bound, which a run's limit of open files is checked against.
func TestInFlightBoundsTheCatalogue(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		all, err := scenario.Builtin()
		if err != nil {
			t.Fatal(err)
		}
		var scs []*scenario.Scenario
		for _, sc := range all {
			if sc.Runs("") {
				scs = append(scs, sc)
			}
		}
		rcv := newFakeReceiver()
		rcv.script = answering(200 * time.Millisecond)
		e := inMemory(t, rcv, true, nil)
		calls, checks := e.InFlight(scs)
		e.RunAll(t.Context(), scs)
		if peak := rcv.peakInFlight(); peak > calls {
			t.Fatalf("%d deliveries were under way at once; InFlight says at most %d: a bound that low would let a run out of open files", peak, calls)
		}
		if checks != 16 {
			t.Fatalf("InFlight says %d checks at once, want the engine's 16", checks)
		}
	})
}

// TestInFlightAddsUpWhatRunsAtOnce: scenarios that run together add up,
// the engine's concurrency of them at most; one that runs alone counts
// alone.
func TestInFlightAddsUpWhatRunsAtOnce(t *testing.T) {
	t.Parallel()
	copies := func(id string, n int, extra string) *scenario.Scenario {
		return custom(t, id, extra, "  - send:\n      build: {type: job.queued}\n      copies: "+strconv.Itoa(n)+"\n    expect: {status: 2xx}\n")
	}
	e := inMemory(t, newFakeReceiver(), false, func(c *engine.Config) { c.Concurrency = 2 })
	for _, tc := range []struct {
		why   string
		scs   []*scenario.Scenario
		calls int
	}{
		{"one scenario's copies", []*scenario.Scenario{copies("X-01", 5, "")}, 5},
		{"the two largest of those that run together", []*scenario.Scenario{copies("X-01", 5, ""), copies("X-02", 3, ""), copies("X-03", 4, "")}, 9},
		{"an exclusive one runs alone", []*scenario.Scenario{copies("X-01", 2, ""), copies("X-02", 3, ""), copies("X-03", 7, "exclusive: true\n")}, 7},
	} {
		if calls, _ := e.InFlight(tc.scs); calls != tc.calls {
			t.Errorf("%s: InFlight %d, want %d", tc.why, calls, tc.calls)
		}
	}
}

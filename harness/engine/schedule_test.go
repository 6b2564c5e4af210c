package engine_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// scheduleBound is how long a scheduling test may take, in the bubble's
// time, before it counts as a deadlock; each of its scenarios takes
// answerTime.
const scheduleBound = time.Minute

// answerTime is how long the receiver of a scheduling test takes to
// answer, so that runs that should not overlap would.
const answerTime = 15 * time.Millisecond

// acceptingEngine returns an engine with the given concurrency against a
// receiver in memory that answers 200 to everything after answerTime, and
// the results the engine reported through OnResult. Call it in a bubble.
func acceptingEngine(t *testing.T, concurrency int) (*engine.Engine, *fakeReceiver, *[]harness.Result) {
	t.Helper()
	rcv := newFakeReceiver()
	rcv.script = answering(answerTime)
	// OnResult appends without a lock of its own: the engine promises to
	// call it one at a time, and -race checks that promise.
	reported := new([]harness.Result)
	e := inMemory(t, rcv, false, func(c *engine.Config) {
		c.Concurrency = concurrency
		c.OnResult = func(r harness.Result) { *reported = append(*reported, r) }
	})
	return e, rcv, reported
}

// sends is a scenario that sends one valid delivery and expects 2xx,
// coming after the given IDs.
func sends(t *testing.T, id string, exclusive bool, after ...string) *scenario.Scenario {
	t.Helper()
	var extra string
	if exclusive {
		extra += "exclusive: true\n"
	}
	if len(after) > 0 {
		extra += "after: [" + strings.Join(after, ", ") + "]\n"
	}
	return custom(t, id, extra, "  - send:\n      build: {type: job.queued}\n    expect: {status: 2xx}\n")
}

// runBounded runs scs under a deadline, in a bubble, and fails the test
// when RunAll returns because the deadline passed. Should RunAll ignore
// its context too, the bubble reports the deadlock.
func runBounded(t *testing.T, e *engine.Engine, scs []*scenario.Scenario) []harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scheduleBound)
	defer cancel()
	rs := e.RunAll(ctx, scs)
	if ctx.Err() != nil {
		t.Fatalf("RunAll deadlocked: it ran into its %s deadline; results:\n%s", scheduleBound, summary(rs))
	}
	return rs
}

func summary(rs []harness.Result) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.ID + " " + string(r.Verdict) + " " + r.Reason + r.Observed + "\n")
	}
	return b.String()
}

// checkSchedule checks what every scheduling test needs: one result per
// scenario, in the order given, each passed and reported once through
// OnResult, and every scenario started only after all it comes after ended.
func checkSchedule(t *testing.T, scs []*scenario.Scenario, rs []harness.Result, reported []harness.Result) {
	t.Helper()
	if len(rs) != len(scs) {
		t.Fatalf("%d results for %d scenarios", len(rs), len(scs))
	}
	byID := map[string]harness.Result{}
	for i, r := range rs {
		if r.ID != scs[i].ID {
			t.Fatalf("result %d is %s, want %s: results must come back in the order given", i, r.ID, scs[i].ID)
		}
		if r.Verdict != harness.Pass {
			t.Errorf("%s: %s (%s%s), want PASS", r.ID, r.Verdict, r.Reason, r.Observed)
		}
		byID[r.ID] = r
	}
	if len(reported) != len(scs) {
		t.Errorf("OnResult was called %d times for %d scenarios", len(reported), len(scs))
	}
	seen := map[string]int{}
	for _, r := range reported {
		seen[r.ID]++
	}
	for _, sc := range scs {
		if seen[sc.ID] != 1 {
			t.Errorf("OnResult reported %s %d times, want once", sc.ID, seen[sc.ID])
		}
	}
	end := func(r harness.Result) time.Time { return r.Start.Add(r.Duration) }
	for _, sc := range scs {
		r := byID[sc.ID]
		for _, dep := range sc.After {
			d := byID[dep]
			if r.Start.Before(end(d)) {
				t.Errorf("%s started %s before %s, which it comes after, ended (%s ran %v..%v, %s started %v)",
					sc.ID, end(d).Sub(r.Start), dep, dep, d.Start, end(d), sc.ID, r.Start)
			}
		}
	}
}

// With one slot, a scenario that took the slot before its dependencies
// ran would wait forever for them to get it. The chain is given in
// reverse, so the dependents are the first to ask for the slot.
func TestAChainRunsWithASingleSlot(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		synctest.Test(t, func(t *testing.T) {
			e, rcv, reported := acceptingEngine(t, 1)
			scs := []*scenario.Scenario{
				sends(t, "C-01", false, "B-01"),
				sends(t, "B-01", false, "A-01"),
				sends(t, "A-01", false),
			}
			rs := runBounded(t, e, scs)
			checkSchedule(t, scs, rs, *reported)
			if peak := rcv.peakInFlight(); peak != 1 {
				t.Errorf("round %d: at most %d deliveries at once with a concurrency of 1", round, peak)
			}
		})
		if t.Failed() {
			return
		}
	}
}

// With two slots, chains, a fan-in, a fan-out, independent scenarios and a
// late (exclusive) pair, given in a scrambled order, all run, each after
// what it names, and two at once, never more.
func TestChainsAndIndependentScenariosShareTwoSlots(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 3 {
		synctest.Test(t, func(t *testing.T) {
			scs := scrambledDependencies(t)
			// Dependents before their dependencies in the first round; then
			// scrambled.
			order := make([]*scenario.Scenario, len(scs))
			for i := range scs {
				order[i] = scs[len(scs)-1-i]
			}
			if round > 0 {
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			}
			e, rcv, reported := acceptingEngine(t, 2)
			rs := runBounded(t, e, order)
			checkSchedule(t, order, rs, *reported)
			if peak := rcv.peakInFlight(); peak != 2 {
				t.Errorf("round %d: at most %d deliveries at once with a concurrency of 2", round, peak)
			}
			if total := len(rcv.all()); total != len(scs) {
				t.Errorf("round %d: the receiver got %d deliveries, want one per scenario (%d)", round, total, len(scs))
			}
			// The late pair runs alone, after every concurrent scenario.
			byID := map[string]harness.Result{}
			for _, r := range rs {
				byID[r.ID] = r
			}
			for _, r := range rs {
				if id := r.ID; id != "E-01" && id != "E-02" && byID["E-01"].Start.Before(r.Start.Add(r.Duration)) {
					t.Errorf("round %d: the exclusive E-01 started before %s ended", round, id)
				}
			}
		})
		if t.Failed() {
			return
		}
	}
}

// scrambledDependencies are the scenarios of
// TestChainsAndIndependentScenariosShareTwoSlots.
func scrambledDependencies(t *testing.T) []*scenario.Scenario {
	return []*scenario.Scenario{
		// A chain of four.
		sends(t, "A-01", false), sends(t, "A-02", false, "A-01"),
		sends(t, "A-03", false, "A-02"), sends(t, "A-04", false, "A-03"),
		// A chain of two.
		sends(t, "B-01", false), sends(t, "B-02", false, "B-01"),
		// A fan-out: two after one.
		sends(t, "C-01", false), sends(t, "C-02", false, "C-01"), sends(t, "C-03", false, "C-01"),
		// A fan-in across chains.
		sends(t, "D-01", false, "A-02", "B-02", "C-03"),
		// Independent scenarios.
		sends(t, "I-01", false), sends(t, "I-02", false), sends(t, "I-03", false),
		sends(t, "I-04", false), sends(t, "I-05", false), sends(t, "I-06", false),
		// A late pair: an exclusive one after a concurrent chain, and one
		// after it.
		sends(t, "E-01", true, "A-04"), sends(t, "E-02", false, "E-01"),
	}
}

// Many scenarios that all wait for one, with a single slot: the waiting
// ones must not take the slot the one they wait for needs.
func TestManyDependentsOfOneWithASingleSlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, rcv, reported := acceptingEngine(t, 1)
		var scs []*scenario.Scenario
		for _, id := range []string{"W-01", "W-02", "W-03", "W-04", "W-05", "W-06"} {
			scs = append(scs, sends(t, id, false, "R-01"))
		}
		scs = append(scs, sends(t, "R-01", false))
		rs := runBounded(t, e, scs)
		checkSchedule(t, scs, rs, *reported)
		if peak := rcv.peakInFlight(); peak != 1 {
			t.Errorf("at most %d deliveries at once with a concurrency of 1", peak)
		}
	})
}

// When the run is interrupted while scenarios wait for their dependencies,
// they are skipped as interrupted, each reported once, and RunAll returns.
func TestAnInterruptWhileWaitingSkipsTheWaiting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rcv := newFakeReceiver()
		rcv.script = func(arrival) reply { return reply{} } // never answers
		var mu sync.Mutex
		reported := 0
		e := inMemory(t, rcv, false, func(c *engine.Config) {
			c.Concurrency = 1
			c.OnResult = func(harness.Result) { mu.Lock(); reported++; mu.Unlock() }
		})
		scs := []*scenario.Scenario{
			sends(t, "C-01", false, "B-01"), sends(t, "B-01", false, "A-01"), sends(t, "A-01", false),
			sends(t, "I-01", false), sends(t, "X-01", true, "C-01"),
		}
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		rs := e.RunAll(ctx, scs)
		for _, i := range []int{0, 1, 4} { // C-01, B-01 and X-01 wait for A-01, which hangs
			if r := rs[i]; r.ID != scs[i].ID || r.Verdict != harness.Skip || !strings.Contains(r.Reason, "interrupted") {
				t.Errorf("%s: %s (%s), want SKIP saying the run was interrupted", scs[i].ID, r.Verdict, r.Reason)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if reported != len(scs) {
			t.Errorf("OnResult was called %d times for %d scenarios", reported, len(scs))
		}
	})
}

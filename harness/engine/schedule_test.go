package engine_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// scheduleBound is how long a scheduling test may take before it counts as
// a deadlock; each of its scenarios takes a few milliseconds.
const scheduleBound = 20 * time.Second

// acceptor is a receiver that answers 200 to everything after a short
// delay (so that runs that should not overlap would visibly overlap), and
// counts how many requests it holds at once.
type acceptor struct {
	mu       sync.Mutex
	inFlight int
	peak     int
	total    int
}

func (a *acceptor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.inFlight++
	a.total++
	a.peak = max(a.peak, a.inFlight)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.inFlight--
		a.mu.Unlock()
	}()
	time.Sleep(15 * time.Millisecond)
	w.WriteHeader(http.StatusOK)
}

// stats returns the most requests held at once and the number received,
// and starts counting afresh.
func (a *acceptor) stats() (peak, total int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	peak, total = a.peak, a.total
	a.peak, a.total = 0, 0
	return peak, total
}

// acceptingEngine returns an engine with the given concurrency against an
// acceptor, and the results it reported through OnResult.
func acceptingEngine(t *testing.T, concurrency int) (*engine.Engine, *acceptor, *[]harness.Result) {
	t.Helper()
	a := &acceptor{}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	sender, err := delivery.NewSender(srv.URL+"/webhook", secret, delivery.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// OnResult appends without a lock of its own: the engine promises to
	// call it one at a time, and -race checks that promise.
	reported := new([]harness.Result)
	e, err := engine.New(engine.Config{
		Sender: sender, Secret: secret, Concurrency: concurrency,
		OnResult: func(r harness.Result) { *reported = append(*reported, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, a, reported
}

// sends is a scenario that sends one valid delivery and expects 2xx,
// coming after the given IDs.
func sends(t *testing.T, id string, exclusive bool, after ...string) *scenario.Scenario {
	t.Helper()
	text := "id: " + id + "\ntitle: t\nlevel: MUST\ncategory: custom\nrequirement: r\nseed: s\n"
	if exclusive {
		text += "exclusive: true\n"
	}
	if len(after) > 0 {
		text += "after: [" + strings.Join(after, ", ") + "]\n"
	}
	text += "steps:\n  - send:\n      build: {type: job.queued}\n    expect: {status: 2xx}\n"
	sc, err := scenario.Parse(id+".yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runBounded runs scs under a deadline and fails the test, instead of
// hanging it, when RunAll does not return in time or returns because the
// deadline passed.
func runBounded(t *testing.T, e *engine.Engine, scs []*scenario.Scenario) []harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scheduleBound)
	defer cancel()
	out := make(chan []harness.Result, 1)
	go func() { out <- e.RunAll(ctx, scs) }()
	var rs []harness.Result
	select {
	case rs = <-out:
	case <-time.After(scheduleBound + 10*time.Second):
		// RunAll ignored its context too: it would hang the test binary.
		t.Fatalf("RunAll did not return %s after its context ended", 10*time.Second)
	}
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
		e, a, reported := acceptingEngine(t, 1)
		scs := []*scenario.Scenario{
			sends(t, "C-01", false, "B-01"),
			sends(t, "B-01", false, "A-01"),
			sends(t, "A-01", false),
		}
		rs := runBounded(t, e, scs)
		checkSchedule(t, scs, rs, *reported)
		if peak, _ := a.stats(); peak > 1 {
			t.Errorf("round %d: %d deliveries at once with a concurrency of 1", round, peak)
		}
		if t.Failed() {
			return
		}
	}
}

// With two slots, chains, a fan-in, a fan-out, independent scenarios and a
// late (exclusive) pair, given in a scrambled order, all run, each after
// what it names, and never more than two at once.
func TestChainsAndIndependentScenariosShareTwoSlots(t *testing.T) {
	t.Parallel()
	e, a, reported := acceptingEngine(t, 2)
	scs := []*scenario.Scenario{
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
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 3 {
		// Dependents before their dependencies in the first round; then
		// scrambled.
		order := make([]*scenario.Scenario, len(scs))
		for i := range scs {
			order[i] = scs[len(scs)-1-i]
		}
		if round > 0 {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		*reported = nil
		rs := runBounded(t, e, order)
		checkSchedule(t, order, rs, *reported)
		peak, total := a.stats()
		if peak > 2 {
			t.Errorf("round %d: %d deliveries at once with a concurrency of 2", round, peak)
		}
		if total != len(scs) {
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
		if t.Failed() {
			return
		}
	}
}

// Many scenarios that all wait for one, with a single slot: the waiting
// ones must not take the slot the one they wait for needs.
func TestManyDependentsOfOneWithASingleSlot(t *testing.T) {
	t.Parallel()
	e, a, reported := acceptingEngine(t, 1)
	var scs []*scenario.Scenario
	for _, id := range []string{"W-01", "W-02", "W-03", "W-04", "W-05", "W-06"} {
		scs = append(scs, sends(t, id, false, "R-01"))
	}
	scs = append(scs, sends(t, "R-01", false))
	rs := runBounded(t, e, scs)
	checkSchedule(t, scs, rs, *reported)
	if peak, _ := a.stats(); peak > 1 {
		t.Errorf("%d deliveries at once with a concurrency of 1", peak)
	}
}

// When the run is interrupted while scenarios wait for their dependencies,
// they are skipped as interrupted, each reported once, and RunAll returns.
func TestAnInterruptWhileWaitingSkipsTheWaiting(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	sender, err := delivery.NewSender(srv.URL+"/webhook", secret, delivery.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	reported := 0
	e, err := engine.New(engine.Config{Sender: sender, Secret: secret, Concurrency: 1,
		OnResult: func(harness.Result) { mu.Lock(); reported++; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	scs := []*scenario.Scenario{
		sends(t, "C-01", false, "B-01"), sends(t, "B-01", false, "A-01"), sends(t, "A-01", false),
		sends(t, "I-01", false), sends(t, "X-01", true, "C-01"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	out := make(chan []harness.Result, 1)
	go func() { out <- e.RunAll(ctx, scs) }()
	var rs []harness.Result
	select {
	case rs = <-out:
	case <-time.After(scheduleBound):
		t.Fatal("RunAll did not return after the run was interrupted")
	}
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
}

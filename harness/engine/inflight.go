package engine

import (
	"slices"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// InFlight bounds what a run of scs (RunAll) has under way at once:
// calls, the deliveries and probe calls, each of which may hold a
// connection of its own over HTTP/1.1; and checks, the scenarios, each of
// which may dial a connection of its own whatever the protocol (to abandon
// or segment a delivery, or to shake hands). Scenarios run the engine's
// concurrency at once, the late and final ones alone after them; so calls
// is the largest concurrent bounds added up, or one scenario's alone,
// whichever is more.
func (e *Engine) InFlight(scs []*scenario.Scenario) (calls, checks int) {
	byID := make(map[string]int, len(scs))
	for i, sc := range scs {
		byID[sc.ID] = i
	}
	late := runLate(scs, byID)
	var together []int
	alone := 0
	for i, sc := range scs {
		n := e.inFlight(sc)
		if sc.Final || late[i] {
			alone = max(alone, n)
			continue
		}
		together = append(together, n)
	}
	slices.Sort(together)
	checks = min(len(together), e.cfg.Concurrency)
	for _, n := range together[len(together)-checks:] {
		calls += n
	}
	return max(calls, alone), max(checks, 1)
}

// inFlight bounds what one scenario has under way at once: the copies of
// a send, the jobs of a lifecycles step or a burst's deliveries, on top
// of the background sends still under way; and the probe calls of
// consecutive probe steps, which wait together, each for every member
// of the largest group of events or jobs the scenario made.
func (e *Engine) inFlight(sc *scenario.Scenario) int {
	most, background, group, probes := 1, 0, 1, 0
	for _, st := range sc.Steps {
		n := 0
		if st.Probe == nil {
			probes = 0
		}
		switch {
		case st.Send != nil:
			n = max(st.Send.Copies, 1)
			size := max(st.Send.Repeat, 1)
			if st.Send.Each == "catalogue" {
				size *= len(harness.EventTypes())
			}
			group = max(group, size)
			if st.Send.Background {
				background += n
			}
		case st.Lifecycles != nil:
			n = st.Lifecycles.Jobs
			group = max(group, n)
		case st.Pause != nil && st.Pause.Volume && e.cfg.Volume > 0:
			n = BurstInFlight
		case st.Probe != nil:
			probes++
			n = probes * group
		case st.Ledger != nil && st.Ledger.Processed:
			n = ledgerWorkers
		}
		most = max(most, background+n)
	}
	return most
}

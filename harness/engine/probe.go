package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/probe"

	"github.com/realm-ai/hookcert/harness/scenario"
)

// probe carries out a Probe step: it asks the receiver's probe what it
// processed and compares that with the step's expectation.
func (r *run) probe(ctx context.Context, n int, p *scenario.ProbeCheck) error {
	pc := r.e.cfg.Probe
	if pc == nil {
		return r.unprobedStep("step %d (probe) left out: without a probe URL only the status codes were checked", n)
	}
	r.mu.Lock()
	group := r.groups[p.Event]
	r.mu.Unlock()
	switch {
	case p.Event != "" && len(group) > 0 && p.Late:
		return fmt.Errorf("probe: late applies to one event, and %q names several", p.Event)
	case p.Event != "" && len(group) > 0:
		r.probeGroup(ctx, n, p.Event, group, *p.Processed)
	case p.Event != "":
		return r.probeEvent(ctx, n, pc, p)
	case p.Job != "":
		id := r.jobID(p.Job)
		st, exs, err := pc.AwaitJob(ctx, id, p.Status)
		r.record(exs...)
		what := fmt.Sprintf("probe job %s (%s)", id, p.Job)
		exp := "status " + p.Status
		if err != nil {
			r.observe(observation{step: n, what: what, expected: exp, observed: "probe error: " + err.Error()})
			return nil
		}
		obs := "status " + st.Status
		if !st.Found {
			obs = "job unknown (404)"
		}
		r.observe(observation{step: n, what: what, expected: exp, observed: obs, ok: st.Found && st.Status == p.Status})
	case p.Lifecycles != "":
		r.mu.Lock()
		jobs, ok := r.lifecycles[p.Lifecycles]
		r.mu.Unlock()
		if !ok {
			return fmt.Errorf("probe: lifecycles %q are not defined by an earlier step", p.Lifecycles)
		}
		wrong := r.awaitEach(len(jobs), func(i int) (string, []harness.Exchange) {
			j := jobs[i]
			st, exs, err := pc.AwaitJob(ctx, j.jobID, j.final)
			switch {
			case err != nil:
				return fmt.Sprintf("%s: probe error: %v", j.jobID, err), exs
			case !st.Found:
				return fmt.Sprintf("%s: unknown (404), want %s", j.jobID, j.final), exs
			case st.Status != j.final:
				return fmt.Sprintf("%s: %s, want %s", j.jobID, st.Status, j.final), exs
			}
			return "", exs
		})
		obs := fmt.Sprintf("all %d jobs ended in their final state", len(jobs))
		if len(wrong) > 0 {
			obs = fmt.Sprintf("%d of %d jobs ended wrong: %s", len(wrong), len(jobs), strings.Join(wrong[:min(5, len(wrong))], "; "))
		}
		r.observe(observation{step: n, what: fmt.Sprintf("probe the %d jobs of %s", len(jobs), p.Lifecycles),
			expected: "every job in its true final state", observed: obs, ok: len(wrong) == 0})
	default:
		return fmt.Errorf("probe step names no event, job or lifecycles")
	}
	return nil
}

// probeEvent carries out a probe step about one event: processed the
// number of times it says, or, for a late event, once or never.
func (r *run) probeEvent(ctx context.Context, n int, pc Prober, p *scenario.ProbeCheck) error {
	r.mu.Lock()
	s := r.events[p.Event]
	r.mu.Unlock()
	if s == nil {
		return fmt.Errorf("probe: event %q is not defined by an earlier step", p.Event)
	}
	want := 0
	if p.Processed != nil {
		want = *p.Processed
	}
	var st probe.EventState
	var exs []harness.Exchange
	var err error
	exp := fmt.Sprintf("timesProcessed %d", want)
	switch {
	case p.Late:
		// Judged by the job's state after it; a second run of the
		// business logic is wrong whatever the state.
		r.ledger.lateEvent(s.ev.ID)
		r.mu.Lock()
		lag := r.lag
		r.mu.Unlock()
		st, exs, err = pc.AwaitLate(ctx, s.ev.ID, s.last.Start, lag)
		exp = "processed once, or skipped as late (never twice)"
	case s.redelivered:
		// The copy gets as long to be processed as the original took.
		st, exs, err = pc.AwaitRedelivered(ctx, s.ev.ID, want, s.first, s.last.Start)
	default:
		var lag time.Duration
		st, lag, exs, err = pc.AwaitSent(ctx, s.ev.ID, want, s.last.Start)
		r.mu.Lock()
		r.lag = max(r.lag, lag)
		r.mu.Unlock()
	}
	r.record(exs...)
	what := fmt.Sprintf("probe event %s (%s)", s.ev.ID, p.Event)
	if err != nil {
		r.observe(observation{step: n, what: what, expected: exp, observed: "probe error: " + err.Error()})
		return nil
	}
	obs := fmt.Sprintf("timesProcessed %d", st.TimesProcessed)
	ok := st.TimesProcessed == want
	switch {
	case !st.Found && p.Late:
		obs = "skipped: never processed (404)"
	case !st.Found && want > 0:
		obs = notWithin(pc)
	case !st.Found:
		obs = "never processed (404)"
	}
	if p.Late {
		ok = st.TimesProcessed <= 1
	}
	r.observe(observation{step: n, what: what, expected: exp, observed: obs, ok: ok})
	return nil
}

// probeGroup asks the probe about every event a step sent under one name
// (each: catalogue, repeat) and acknowledged 2xx: each must have been
// processed want times. An acknowledgement is a promise; the events that
// were not acknowledged are the status checks' business, and only counted
// here.
func (r *run) probeGroup(ctx context.Context, n int, name string, group []member, want int) {
	var acked []harness.Event
	for _, m := range group {
		if m.acked {
			acked = append(acked, m.ev)
		}
	}
	wrong := r.awaitEach(len(acked), func(i int) (string, []harness.Exchange) {
		ev := acked[i]
		st, exs, err := r.e.cfg.Probe.AwaitEvent(ctx, ev.ID, want)
		switch {
		case err != nil:
			return fmt.Sprintf("%s %s: probe error: %v", ev.Type, ev.ID, err), exs
		case !st.Found && want > 0:
			return fmt.Sprintf("%s %s: %s", ev.Type, ev.ID, notWithin(r.e.cfg.Probe)), exs
		case st.TimesProcessed != want:
			return fmt.Sprintf("%s %s: timesProcessed %d", ev.Type, ev.ID, st.TimesProcessed), exs
		}
		return "", exs
	})
	what := fmt.Sprintf("probe the %d acknowledged events of %s", len(acked), name)
	if left := len(group) - len(acked); left > 0 {
		what += fmt.Sprintf(" (%d not acknowledged, not asked)", left)
	}
	obs := fmt.Sprintf("every one processed %d times", want)
	switch {
	case len(acked) == 0:
		obs = "none was acknowledged, so none could be asked about"
	case len(wrong) > 0:
		obs = fmt.Sprintf("%d of %d not: %s", len(wrong), len(acked), strings.Join(wrong[:min(5, len(wrong))], "; "))
	}
	r.observe(observation{step: n, what: what, expected: fmt.Sprintf("timesProcessed %d for each", want),
		observed: obs, ok: len(wrong) == 0 && len(acked) > 0})
}

// awaitEach runs await for items 0..n-1 at once (each polls the probe for
// up to the settle time) and returns, sorted, what each that went wrong
// said; the evidence of those is recorded.
func (r *run) awaitEach(n int, await func(i int) (bad string, exs []harness.Exchange)) []string {
	var mu sync.Mutex
	var wrong []string
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			bad, exs := await(i)
			if bad == "" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			wrong = append(wrong, bad)
			r.record(exs...)
		})
	}
	wg.Wait()
	sort.Strings(wrong)
	return wrong
}

// notWithin says that an event the probe waited for was not processed: not
// "never", which the probe cannot know, but not within the settle time,
// which the user may raise for a slow worker.
func notWithin(pc Prober) string {
	return fmt.Sprintf("not processed within the settle time of %s (404; raise SETTLE for a slower worker)", pc.Settle())
}

// unprobedStep leaves a step out for want of a probe, saying so: the check
// is then skipped unless what it saw without the probe failed (verdict).
func (r *run) unprobedStep(format string, n int) error {
	r.note(format, n)
	return errUnprobed
}

package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/realm-ai/hookcert/harness/scenario"
)

// probe carries out a Probe step: it asks the receiver's probe what it
// processed and compares that with the step's expectation.
func (r *run) probe(ctx context.Context, n int, p *scenario.ProbeCheck) error {
	pc := r.e.cfg.Probe
	if pc == nil {
		r.mu.Lock()
		r.unprobed = true
		r.mu.Unlock()
		r.note("step %d (probe) left out: without a probe URL only the status codes were checked", n)
		return nil
	}
	switch {
	case p.Event != "":
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
		st, exs, err := pc.AwaitEvent(ctx, s.ev.ID, want)
		r.record(exs...)
		what := fmt.Sprintf("probe event %s (%s)", s.ev.ID, p.Event)
		exp := fmt.Sprintf("timesProcessed %d", want)
		if err != nil {
			r.observe(observation{step: n, what: what, expected: exp, observed: "probe error: " + err.Error()})
			return nil
		}
		obs := fmt.Sprintf("timesProcessed %d", st.TimesProcessed)
		if !st.Found {
			obs = "never processed (404)"
		}
		r.observe(observation{step: n, what: what, expected: exp, observed: obs, ok: st.TimesProcessed == want})
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
		var mu sync.Mutex
		var wrong []string
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, exs, err := pc.AwaitJob(ctx, j.jobID, j.final)
				var bad string
				switch {
				case err != nil:
					bad = fmt.Sprintf("%s: probe error: %v", j.jobID, err)
				case !st.Found:
					bad = fmt.Sprintf("%s: unknown (404), want %s", j.jobID, j.final)
				case st.Status != j.final:
					bad = fmt.Sprintf("%s: %s, want %s", j.jobID, st.Status, j.final)
				}
				mu.Lock()
				defer mu.Unlock()
				if bad != "" {
					wrong = append(wrong, bad)
					r.record(exs...)
				}
			}()
		}
		wg.Wait()
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

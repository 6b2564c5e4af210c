package load

import (
	"context"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/poll"
	"github.com/realm-ai/hookcert/harness/probe"
	"github.com/realm-ai/hookcert/harness/report"
)

// Defaults of Verify.
const (
	// defaultVerifyConcurrency is how many probe calls Verify makes at once.
	defaultVerifyConcurrency = 16
	// defaultVerifyInterval is the pause between two rounds of polls.
	defaultVerifyInterval = 100 * time.Millisecond
	// maxSettleRounds bounds how long Verify keeps polling while events
	// are still being processed: maxSettleRounds settle times at most.
	maxSettleRounds = 12
	// verifyEvidence bounds the probe exchanges kept per kind of finding
	// (missing, duplicated).
	verifyEvidence = 3
)

// verifyOptions tune Verify; zero values take the probe's settle and watch
// times and the defaults above.
type verifyOptions struct {
	// Settle is how long Verify polls without seeing a new event processed
	// before it calls the rest missing; while events keep appearing (a
	// receiver working off a backlog) it polls on, up to maxSettleRounds
	// settle times.
	Settle time.Duration
	// Watch is how long Verify waits, once events are seen, before it asks
	// again for late extra processing.
	Watch       time.Duration
	Interval    time.Duration
	Concurrency int
}

// verification is the probe's account of a run's acknowledged events
// (LOAD-03).
type verification struct {
	Processed report.Processed
	// Err is the first probe failure, if any event got no usable answer;
	// such events count in Processed.Checked but in none of Once, Missing
	// and Duplicated.
	Err error
	// Evidence holds the last probe exchange of a few missing and a few
	// duplicated events.
	Evidence []harness.Exchange
}

// unanswered returns how many checked events the probe gave no usable
// answer for.
func unanswered(p report.Processed) int {
	return p.Checked - p.Once - p.Missing - p.Duplicated
}

// verify asks the probe how many times each event of ids was processed:
// it polls until every event has been processed or no new one has been
// for the settle time, waits the watch time, and asks again about those
// processed, to catch late extra processing. sampled says whether ids are
// a sample of the acknowledged events (it is recorded as is).
func verify(ctx context.Context, pc *probe.Client, ids []string, sampled bool, o verifyOptions) verification {
	if o.Settle <= 0 {
		o.Settle = pc.Settle()
	}
	if o.Watch <= 0 {
		o.Watch = pc.Watch()
	}
	if o.Interval <= 0 {
		o.Interval = defaultVerifyInterval
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultVerifyConcurrency
	}
	// However slow the probe, Verify ends: every round and poll is within
	// this bound, and what is unanswered by then is reported as such.
	ctx, cancel := context.WithTimeout(ctx, maxSettleRounds*o.Settle+o.Watch+probe.DefaultTimeout)
	defer cancel()
	v := &verifier{pc: pc, o: o, ids: ids, seen: make([]int, len(ids)), last: make([]harness.Exchange, len(ids)), errs: make([]error, len(ids))}
	pending := make([]int, len(ids))
	for i := range pending {
		pending[i] = i
	}
	// Rounds go on while events keep appearing, up to maxSettleRounds
	// settle times; a settle time without a new one ends them.
	start := time.Now()
	progressed := start
	if len(pending) > 0 && ctx.Err() == nil {
		_ = poll.Until(ctx, o.Interval, start.Add(maxSettleRounds*o.Settle), func() (bool, error) {
			v.ask(ctx, pending)
			left := pending[:0:0]
			for _, i := range pending {
				if v.seen[i] == 0 {
					left = append(left, i)
				}
			}
			now := time.Now()
			if len(left) < len(pending) {
				progressed = now
			}
			pending = left
			return len(pending) == 0 || now.Sub(progressed) >= o.Settle, nil
		})
	}
	var processed []int
	for i, n := range v.seen {
		if n > 0 {
			processed = append(processed, i)
		}
	}
	if len(processed) > 0 && poll.Sleep(ctx, o.Watch) == nil {
		v.ask(ctx, processed)
	}
	return v.account(ctx, sampled)
}

// verifier holds what the probe said of each event.
type verifier struct {
	pc   *probe.Client
	o    verifyOptions
	ids  []string
	seen []int
	last []harness.Exchange
	errs []error
}

// ask polls the probe about the events at idx, o.Concurrency at a time,
// keeping the highest count seen of each.
func (v *verifier) ask(ctx context.Context, idx []int) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(v.o.Concurrency, len(idx)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				st, ex, err := v.pc.Event(ctx, v.ids[i])
				v.last[i], v.errs[i] = ex, err
				if err == nil {
					v.seen[i] = max(v.seen[i], st.TimesProcessed)
				}
			}
		}()
	}
	for _, i := range idx {
		work <- i
	}
	close(work)
	wg.Wait()
}

func (v *verifier) account(ctx context.Context, sampled bool) verification {
	out := verification{Processed: report.Processed{Checked: len(v.ids), Sampled: sampled}}
	var missing, dup []harness.Exchange
	for i := range v.ids {
		switch n := v.seen[i]; {
		case n == 1:
			out.Processed.Once++
		case n > 1:
			out.Processed.Duplicated++
			if len(dup) < verifyEvidence {
				dup = append(dup, v.last[i])
			}
		case v.errs[i] != nil:
			if out.Err == nil {
				out.Err = v.errs[i]
			}
		case ctx.Err() != nil:
			// Never asked, or asked too soon: neither missing nor found.
			if out.Err == nil {
				out.Err = ctx.Err()
			}
		default:
			out.Processed.Missing++
			if len(missing) < verifyEvidence {
				missing = append(missing, v.last[i])
			}
		}
	}
	out.Evidence = append(missing, dup...)
	return out
}

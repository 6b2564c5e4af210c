package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/figure"
	"github.com/realm-ai/hookcert/harness/probe"
	"github.com/realm-ai/hookcert/harness/report"
)

// ResultsFile is the name of a generator's results file under the report
// directory: vegeta's gob encoding, read by `vegeta report` and `vegeta
// plot`.
func ResultsFile(attacker string) string { return "results-" + attacker + ".gob" }

// Outcome is what a load run gives the report.
type Outcome struct {
	// Results are the verdicts of LOAD-01..04 (or the capacity check).
	Results []harness.Result
	// load is the report's load section.
	Load *report.Load
	// Complete is false when the run was interrupted.
	Complete bool
}

// Test load-tests the generator's target: it attacks at rate for d with
// signed events, streaming the results to w (vegeta's gob encoding), asks the probe pc (nil when
// there is none) about the acknowledged events, and judges LOAD-01..04,
// strict turning a broken SHOULD into a failure. The Outcome is nil only
// when nothing was sent; an error says why the run stopped or its results
// could not be written.
func (g *Generator) Test(ctx context.Context, rate int, d time.Duration, w io.Writer, pc *probe.Client, strict bool) (*Outcome, error) {
	run, err := g.attackFor(ctx, rate, d, vegeta.NewEncoder(w))
	if run == nil {
		return nil, err
	}
	l := run.load()
	l.ResultsFiles = []string{ResultsFile(g.o.attacker)}
	// A generator that ran out of open files measured its own want of
	// connections: nothing of it is the receiver's to be judged on.
	ranOut := errors.Is(err, dial.ErrOutOfFiles)
	var v *verification
	if pc != nil && !run.Interrupted && !ranOut && run.AcknowledgedTotal > 0 {
		vv := verify(ctx, pc, run.Acknowledged, run.sampled(), verifyOptions{})
		v, l.Processed = &vv, &vv.Processed
	} else if pc != nil && !run.Interrupted && !ranOut {
		l.Processed = &report.Processed{}
	}
	// Interrupted during the attack or while the probe was asked.
	interrupted := run.Interrupted || ctx.Err() != nil || ranOut
	results := evaluate(l, strict)
	elapsed := time.Since(run.Began)
	for i := range results {
		r := &results[i]
		r.Start, r.Duration = run.Began, elapsed
		if ranOut {
			r.Verdict, r.Reason, r.Observed, r.Notes = harness.Skip, "not judged: the generator ran out of open files during the attack (raise the limit with ulimit -n)", "", nil
			continue
		}
		if interrupted && l.Requests == 0 {
			// Nothing was measured: no verdict, not a failure.
			r.Verdict, r.Reason, r.Observed, r.Notes = harness.Skip, "the run was interrupted before any delivery was made", "", nil
			continue
		}
		if r.ID != load03 {
			continue
		}
		switch {
		case interrupted:
			r.Verdict, r.Reason, r.Observed, r.Notes = harness.Skip, "the run was interrupted before the probe had answered", "", nil
			l.Processed = nil
		case v != nil:
			r.Evidence = v.Evidence
			if v.Err != nil {
				r.Notes = append(r.Notes, "the probe failed: "+v.Err.Error())
			}
		}
	}
	return &Outcome{Results: results, Load: l, Complete: !interrupted}, err
}

// CapacityCheck runs a capacity search (see Capacity), streaming every
// step's results to w. Its outcome holds one INFO check, CAP-01, and
// the load section of the highest rate that held, with the search in
// load.Capacity. The Outcome is nil only when nothing was sent.
func (g *Generator) CapacityCheck(ctx context.Context, search Search, w io.Writer) (*Outcome, error) {
	began := time.Now()
	c, run, err := g.capacity(ctx, search, vegeta.NewEncoder(w))
	if run == nil {
		return nil, err
	}
	l := run.load()
	l.ResultsFiles = []string{ResultsFile(g.o.attacker)}
	l.Capacity = c
	r := harness.Result{
		ID: capacityID, Title: "the highest rate acknowledged within the ack deadline with at least 99.9 % 2xx",
		Level: harness.Info, Category: Category, Verdict: harness.InfoVerdict,
		Requirement: "report the highest rate whose p99 stays within the ack deadline with at least 99.9 % answered 2xx: the figure a team needs to size its receiver",
		Seed:        "raise the rate step by step until p99 passes the deadline or 2xx falls under 99.9 %, and report the highest rate that held",
		Expected:    fmt.Sprintf("p99 ≤ %s and ≥ %s 2xx, rates from %d/s up to %d/s held %s each", g.o.ackDeadline, figure.Percent(successFloor), search.Start, search.Max, search.Step),
		Observed:    capacityObserved(c),
		Reason:      "measured: the rates tried are in the report's load section",
		Start:       began, Duration: time.Since(began),
	}
	return &Outcome{Results: []harness.Result{r}, Load: l, Complete: ctx.Err() == nil}, err
}

package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/figure"
)

// StormAmplification is the amplification (deliveries ÷ events, retries
// included) from which a load is a retry storm (DESIGN section 10): more
// than 1 % of the deliveries are retries. A capacity search's storm edge
// is the highest rate that stayed under it.
const StormAmplification = 1.01

// times prints an amplification as people read it, to three decimals:
// "1.103×". The HTML and the console summary print it alike.
func times(amplification float64) string {
	return strconv.FormatFloat(amplification, 'f', 3, 64) + "×"
}

// stormThreshold prints StormAmplification for captions: "1.01".
func stormThreshold() string {
	return strconv.FormatFloat(StormAmplification, 'f', -1, 64)
}

// retriesView is the retry block of the load section as the HTML shows
// it.
type retriesView struct {
	*Retries
	// On says whether retries were on, and on which schedule.
	On string
	// Times is the amplification, printed; Storm says it reached the
	// storm threshold, and Threshold is that threshold, printed.
	Times     string
	Storm     bool
	Threshold string
	// NeverPct is the share of the events never acknowledged.
	NeverPct string
	// Short says how many of the events planned were sent, when fewer
	// were (Load.shortOfPlan).
	Short string
	// Attempts are the deliveries by attempt number, the first attempts
	// (the load section's own figures) first.
	Attempts []attemptRow
}

// attemptRow is one row of the deliveries by attempt.
type attemptRow struct {
	Attempt    string
	Deliveries int
	OK         int
}

// newRetriesView builds the retry block of l, or nil when l has no retry
// figures (a report written before the load test retried).
func newRetriesView(l *Load) *retriesView {
	r := l.Retries
	if r == nil {
		return nil
	}
	v := &retriesView{
		Retries:   r,
		On:        "off",
		Times:     times(r.Amplification),
		Storm:     r.Amplification >= StormAmplification,
		Threshold: stormThreshold(),
		Attempts:  []attemptRow{{Attempt: "1 (first)", Deliveries: l.Requests, OK: l.OK}},
		Short:     l.shortOfPlan(),
	}
	if r.Enabled {
		v.On = "on: " + schedule(r.Schedule)
	}
	if r.Events > 0 {
		v.NeverPct = figure.Percent(float64(r.NeverAcknowledged) / float64(r.Events))
	}
	for _, a := range r.ByAttempt {
		v.Attempts = append(v.Attempts, attemptRow{Attempt: strconv.Itoa(a.Attempt), Deliveries: a.Deliveries, OK: a.OK})
	}
	return v
}

// schedule prints a retry schedule: "1s, 2s, 4s", or "none".
func schedule(ds []harness.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}

// capacityView is the capacity search as the HTML shows it.
type capacityView struct {
	*Capacity
	// Caption names the search's edges and why it stopped.
	Caption string
	// Storm adds the amplification and calm columns: the report counts
	// retries (or the search looked for the storm edge).
	Storm bool
}

// newCapacityView builds the capacity table of l, or nil without a
// capacity search. A report written before the load test retried keeps
// the caption and the columns it always had.
func newCapacityView(l *Load) *capacityView {
	c := l.Capacity
	if c == nil {
		return nil
	}
	v := &capacityView{Capacity: c, Storm: l.Retries != nil || c.StormSearched}
	if !v.Storm {
		v.Caption = fmt.Sprintf("Capacity search: highest rate held %s; %s", rate(c.HighestRate), c.StoppedBecause)
		return v
	}
	v.Caption = fmt.Sprintf("Capacity search: highest rate held (p99 within the deadline, ≥ 99.9 %% 2xx): %s; retry-storm edge (amplification < %s): %s; %s",
		rate(c.HighestRate), stormThreshold(), stormEdge(c), c.StoppedBecause)
	return v
}

// stormEdge prints a capacity search's storm edge, or why there is none.
func stormEdge(c *Capacity) string {
	switch {
	case !c.StormSearched:
		return "not searched: retries off"
	case c.StormEdge == 0:
		return "no rate stayed calm"
	}
	return rate(c.StormEdge)
}

// rate prints a rate per second as the page does: "50/s", "1.234e+04/s".
func rate(f float64) string { return fmt.Sprintf("%.4g/s", f) }

// calmWord says whether a capacity step stayed under the storm threshold.
func calmWord(calm bool) string {
	if calm {
		return "calm"
	}
	return "storm"
}

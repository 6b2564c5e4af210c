package load

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/figure"
	"github.com/realm-ai/hookcert/harness/report"
)

// Category is the category of the load checks in reports and the label of
// the load suite.
const Category = harness.CategoryLoad

// IDs of the load checks (README "The load test").
const (
	load01 = "LOAD-01"
	load02 = "LOAD-02"
	load03 = "LOAD-03"
	load04 = "LOAD-04"
)

// requirement is one load check of the catalogue: what it demands, in the
// catalogue's words (README "The load test"), and the words it
// rests on.
type requirement struct {
	ID, Title   string
	Level       harness.Level
	Requirement string
	Seed        string
	// Fix says what a receiver must change when the check fails or warns,
	// in the README's words, with a link to its section; empty for the
	// INFO check, which has no verdict to fix.
	Fix string
	// Probe is true for the check that needs the probe.
	Probe bool
}

// Labels returns the Ginkgo labels of the check's spec: the category, the
// level in lower case, the ID and "probe" when it needs one, as the
// conformance checks have.
func (r requirement) Labels() []string {
	l := []string{Category, strings.ToLower(string(r.Level)), r.ID}
	if r.Probe {
		l = append(l, "probe")
	}
	return l
}

// Requirements returns the load checks in ID order.
func Requirements() []requirement {
	return []requirement{
		{
			ID: load01, Title: "p99 acknowledgement latency under load is within the ack deadline", Level: harness.Must,
			Requirement: "at the run's rate for its duration, p99 ack latency of the first attempts is within the ack deadline",
			Seed:        "Customers must certify that their receiver acknowledges within a second at their production rate",
			Fix:         "Acknowledge within the ack deadline at your production rate: answer 2xx first and do the work on a queue with enough workers; make capacity finds the rate your receiver holds. See README.md#the-load-test",
		},
		{
			ID: load02, Title: "at least 99.9 % of first load deliveries are answered 2xx", Level: harness.Must,
			Requirement: "at least 99.9 % of load deliveries are answered 2xx at their first attempt (vegeta counts 3xx as success: don't use its ratio)",
			Seed:        "that it answers 2xx to (nearly) everything",
			Fix:         "Answer 2xx to (nearly) every delivery under load: no 5xx, 3xx, timeout or dropped connection when busy; queue the work rather than refuse it. See README.md#the-load-test",
		},
		{
			ID: load03, Title: "every load event is processed exactly once", Level: harness.Should, Probe: true,
			Requirement: "every load event was processed exactly once (probe), retries included: nothing lost under load",
			Seed:        "and that nothing is lost under load",
			Fix:         "Process every acknowledged event exactly once under load, retries included: a queue that drops events when full, or a dedupe that races, loses or doubles them. See README.md#the-load-test",
		},
		{
			ID: load04, Title: "latency percentiles, histogram, latency over time and deliveries past the sender timeout", Level: harness.Info,
			Requirement: "latency percentiles, histogram, latency over time, share of deliveries past the sender timeout",
			Seed:        "REALM retries what it does not see acknowledged, so a slow receiver under load causes a retry storm: the report must show how close to that edge the receiver is.",
		},
	}
}

// evaluate judges a load section against LOAD-01..04 and returns one
// result per check, in ID order; strict turns a broken SHOULD into a
// failure. The caller adds timings and evidence.
func evaluate(l *report.Load, strict bool) []harness.Result {
	var out []harness.Result
	for _, req := range Requirements() {
		r := harness.Result{
			ID: req.ID, Title: req.Title, Level: req.Level, Category: Category,
			Requirement: req.Requirement, Seed: req.Seed, Fix: req.Fix,
		}
		switch req.ID {
		case load01:
			judgeLatency(&r, l)
		case load02:
			judgeSuccess(&r, l)
		case load03:
			judgeProcessed(&r, l, strict)
		case load04:
			describe(&r, l)
		}
		out = append(out, r)
	}
	return out
}

func judgeLatency(r *harness.Result, l *report.Load) {
	deadline := time.Duration(l.AckDeadline)
	r.Expected = fmt.Sprintf("p99 of first attempts ≤ %s (the ack deadline) at %s for %s", deadline, rateOf(l.Rate), l.Duration)
	if l.Requests == 0 {
		r.Verdict, r.Observed = harness.Fail, "no delivery was made"
		return
	}
	p := l.Latencies
	r.Observed = fmt.Sprintf("p99 %s over %d first attempts (p50 %s, p95 %s, max %s)",
		figure.Latency(time.Duration(p.P99)), l.Requests, figure.Latency(time.Duration(p.P50)),
		figure.Latency(time.Duration(p.P95)), figure.Latency(time.Duration(p.Max)))
	r.Verdict = harness.Pass
	if !withinDeadline(l) {
		r.Verdict = harness.Fail
		r.Observed += fmt.Sprintf("; %d first attempts took longer than %s", over(l, deadline), deadline)
	}
}

// over estimates from the histogram how many deliveries took longer than
// d: exact when d is one of its bounds, which the ack deadline always is.
func over(l *report.Load, d time.Duration) int {
	n := 0
	for _, b := range l.Histogram {
		if time.Duration(b.Le) > d {
			n += b.Count
		}
	}
	return n
}

func judgeSuccess(r *harness.Result, l *report.Load) {
	r.Expected = fmt.Sprintf("at least %s of the first attempts answered 2xx (3xx, 5xx and no answer are failures; a retry does not make up for one)", figure.Percent(successFloor))
	if l.Requests == 0 {
		r.Verdict, r.Observed = harness.Fail, "no delivery was made"
		return
	}
	r.Observed = fmt.Sprintf("%s of first attempts answered 2xx (%d of %d); status codes: %s", figure.Percent(float64(l.OK)/float64(l.Requests)), l.OK, l.Requests, codes(l.StatusCodes))
	if len(l.Errors) > 0 {
		var top []string
		for _, e := range l.Errors[:min(3, len(l.Errors))] {
			top = append(top, fmt.Sprintf("%s ×%d", e.What, e.Count))
		}
		r.Observed += "; failures: " + strings.Join(top, ", ")
	}
	if rt := l.Retries; rt != nil && rt.Enabled && rt.Deliveries > rt.Events {
		r.Observed += fmt.Sprintf("; retried: %s", retried(rt))
	}
	r.Verdict = harness.Pass
	if !enough2xx(l) {
		r.Verdict = harness.Fail
	}
}

// retried sums the retries up: how many, the amplification, and the
// events never acknowledged.
func retried(rt *report.Retries) string {
	var by []string
	for _, a := range rt.ByAttempt {
		by = append(by, fmt.Sprintf("attempt %d ×%d (%d acknowledged)", a.Attempt, a.Deliveries, a.OK))
	}
	s := fmt.Sprintf("%d retries for %d events, amplification %.3f", rt.Deliveries-rt.Events, rt.Events, rt.Amplification)
	if len(by) > 0 {
		s += " (" + strings.Join(by, ", ") + ")"
	}
	s += fmt.Sprintf("; %d events never acknowledged after the whole schedule", rt.NeverAcknowledged)
	if rt.CapDropped > 0 {
		s += fmt.Sprintf(" (%d retries dropped: the cap of %d pending retries was reached)", rt.CapDropped, rt.PendingCap)
	}
	if rt.Pending > 0 {
		s += fmt.Sprintf(" (%d retries still pending when the run ended)", rt.Pending)
	}
	return s
}

// withinDeadline is LOAD-01's test: p99 within the ack deadline.
func withinDeadline(l *report.Load) bool { return l.Latencies.P99 <= l.AckDeadline }

// enough2xx is LOAD-02's test: at least successFloor of the deliveries
// answered 2xx (999 of 1000 is exactly the floor).
func enough2xx(l *report.Load) bool {
	return float64(l.OK) >= successFloor*float64(l.Requests)-1e-9
}

func judgeProcessed(r *harness.Result, l *report.Load, strict bool) {
	r.Expected = "every acknowledged load event processed exactly once (probe timesProcessed = 1), retries included"
	p := l.Processed
	switch {
	case p == nil:
		r.Verdict = harness.Skip
		r.Reason = "no probe URL: status codes cannot show whether an acknowledged event was lost or processed twice"
		return
	case p.Checked == 0:
		r.Verdict = harness.Skip
		r.Reason = "no delivery was acknowledged, so no event could be asked about (see LOAD-02)"
		return
	}
	which := fmt.Sprintf("all %d acknowledged events", p.Checked)
	if p.Sampled {
		which = fmt.Sprintf("a uniform sample of %d of the %d acknowledged events", p.Checked, l.OK)
		r.Notes = append(r.Notes, fmt.Sprintf("sampled: the probe was asked about %d of %d acknowledged events, chosen uniformly at random", p.Checked, l.OK))
	}
	r.Observed = fmt.Sprintf("of %s: %d processed once, %d never processed, %d processed more than once", which, p.Once, p.Missing, p.Duplicated)
	if u := unanswered(*p); u > 0 {
		r.Observed += fmt.Sprintf(", %d without a usable answer from the probe", u)
	}
	r.Verdict = harness.Pass
	if p.Missing > 0 || p.Duplicated > 0 || unanswered(*p) > 0 {
		r.Verdict = harness.Broken(harness.Should, strict)
	}
}

func describe(r *harness.Result, l *report.Load) {
	r.Verdict = harness.InfoVerdict
	if l.Requests == 0 {
		r.Observed = "no delivery was made"
		return
	}
	p := l.Latencies
	d := func(h harness.Duration) time.Duration { return figure.Latency(time.Duration(h)) }
	r.Observed = fmt.Sprintf("first attempts: p50 %s, p90 %s, p95 %s, p99 %s, max %s; %d of %d (%s) past the %s sender timeout, each of which REALM retries",
		d(p.P50), d(p.P90), d(p.P95), d(p.P99), d(p.Max), l.PastTimeout, l.Requests, figure.Percent(l.PastTimeoutShare), time.Duration(l.SenderTimeout))
	if l.AckDeadline > 0 && l.SenderTimeout > 0 {
		r.Observed += fmt.Sprintf("; p99 is %s of the ack deadline, max %s of the sender timeout",
			share(float64(p.P99)/float64(l.AckDeadline)), share(float64(p.Max)/float64(l.SenderTimeout)))
	}
	if rt := l.Retries; rt != nil {
		if rt.Enabled {
			a := rt.AllAttempts
			r.Observed += fmt.Sprintf("; all %d attempts: p50 %s, p99 %s, max %s; %s", rt.Deliveries, d(a.P50), d(a.P99), d(a.Max), retried(rt))
		} else {
			r.Observed += fmt.Sprintf("; retries off: %d events never acknowledged", rt.NeverAcknowledged)
		}
	}
	r.Reason = "measured: the percentiles, histogram and latency over time are in the report's load section"
}

// Headline sums a load section up for the console: the deliveries, their
// latency, the 2xx share, and those past the sender timeout; first, for a
// capacity search, the highest rate that held and why the search stopped.
func Headline(l *report.Load) string {
	d := func(h harness.Duration) time.Duration { return figure.Latency(time.Duration(h)) }
	s := fmt.Sprintf("load: %d events at %s by %s", l.Requests, rateOf(l.Rate), strings.Join(l.Attackers, ", "))
	if len(l.Protocols) > 0 {
		s += " over " + strings.Join(l.Protocols, " and ")
	}
	if c := l.Capacity; c != nil {
		s = fmt.Sprintf("capacity: %s held at most; stopped: %s\n", rateOf(c.HighestRate), c.StoppedBecause) + s
	}
	if l.Requests == 0 {
		return s
	}
	p := l.Latencies
	s += fmt.Sprintf("; p50 %s, p99 %s, max %s; %s answered 2xx; %d past the %s sender timeout",
		d(p.P50), d(p.P99), d(p.Max), figure.Percent(float64(l.OK)/float64(l.Requests)), l.PastTimeout, time.Duration(l.SenderTimeout))
	if rt := l.Retries; rt != nil && rt.Enabled {
		s += fmt.Sprintf("; amplification %.3f, %d never acknowledged", rt.Amplification, rt.NeverAcknowledged)
	}
	if c := l.Capacity; c != nil && c.StormSearched {
		s += fmt.Sprintf("; retry-storm edge %s", rateOf(c.StormEdge))
	}
	return s
}

func rateOf(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) + "/s" }

// share prints a ratio as a percentage with two significant figures at
// least: 1.5 → "150 %", 0.00072 → "0.072 %".
func share(r float64) string {
	p := 100 * r
	switch {
	case p >= 10:
		return strconv.FormatFloat(p, 'f', 0, 64) + " %"
	case p >= 1:
		return strconv.FormatFloat(p, 'f', 1, 64) + " %"
	}
	return strconv.FormatFloat(p, 'g', 2, 64) + " %"
}

func codes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		name := k
		if k == "0" {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

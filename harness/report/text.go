package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Failure returns the one-paragraph message of a failed or warned check:
// the check, what was expected and what was observed, and how to fix it.
//
// Observed comes first: it holds only the steps that went wrong, while
// Expected lists every step, so the cause leads a CI failure message.
func Failure(r harness.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s): %s\n", r.ID, r.Verdict, r.Level, r.Requirement)
	if r.Observed != "" {
		fmt.Fprintf(&b, "observed:\n%s\n", indent(r.Observed))
	}
	if r.Expected != "" {
		fmt.Fprintf(&b, "expected:\n%s\n", indent(r.Expected))
	}
	writeFix(&b, r)
	return b.String()
}

// writeFix writes the fix line of a failing or warning check.
func writeFix(b *strings.Builder, r harness.Result) {
	if showsFix(r) {
		fmt.Fprintf(b, "fix: %s\n", fixText(r.Fix))
	}
}

// Evidence renders the exchanges of a check as a plain-text timeline.
func Evidence(exs []harness.Exchange) string {
	var b strings.Builder
	var t0 time.Time
	if len(exs) > 0 {
		t0 = exs[0].Start
	}
	for i, ex := range exs {
		fmt.Fprintf(&b, "#%d +%s %s %s", i+1, ex.Start.Sub(t0).Round(time.Millisecond), ex.Request.Method, ex.Request.URL)
		if ex.Attempt > 0 {
			fmt.Fprintf(&b, " (attempt %d)", ex.Attempt)
		}
		if ex.Proto != "" {
			fmt.Fprintf(&b, " %s", ex.Proto)
		}
		b.WriteByte('\n')
		for _, k := range sortedKeys(ex.Request.Header) {
			fmt.Fprintf(&b, "    > %s: %s\n", k, strings.Join(ex.Request.Header[k], ", "))
		}
		if ex.Request.BodySize > 0 {
			fmt.Fprintf(&b, "    > body (%d bytes): %s\n", ex.Request.BodySize, oneLine(ex.Request.Body, 300))
		}
		if ex.Request.Segments != "" {
			fmt.Fprintf(&b, "    > upload: %s\n", ex.Request.Segments)
		}
		switch {
		case ex.Response != nil:
			fmt.Fprintf(&b, "    < %d after %s\n", ex.Response.Status, latency(ex.Latency))
			for _, k := range sortedKeys(ex.Response.Header) {
				fmt.Fprintf(&b, "    < %s: %s\n", k, strings.Join(ex.Response.Header[k], ", "))
			}
			if ex.Response.BodySize > 0 {
				fmt.Fprintf(&b, "    < body (%d bytes): %s\n", ex.Response.BodySize, oneLine(ex.Response.Body, 300))
			}
		case ex.Abandoned:
			fmt.Fprintf(&b, "    x abandoned on purpose after %s\n", latency(ex.Latency))
		default:
			fmt.Fprintf(&b, "    x no response after %s: %s\n", latency(ex.Latency), ex.Err)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// Summary is the console summary of a run, in the spirit of h2spec: the
// counts per verdict, the failures by ID, and the overall verdict.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nREALM webhook receiver %s: %s\n", r.kind(), r.Target)
	for _, g := range r.groups() {
		for _, res := range g.Results {
			if broken(res) {
				fmt.Fprintf(&b, "  %-4s %-9s %s\n", res.Verdict, res.ID, res.Title)
				if res.Fix != "" {
					fmt.Fprintf(&b, "                 fix: %s\n", fixText(res.Fix))
				}
			}
		}
	}
	if line := r.affectedLine(); line != "" {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	if line := r.evidenceLine(); line != "" {
		fmt.Fprintf(&b, "%s\n", line)
	}
	fmt.Fprintf(&b, "%s\n", r.countsText())
	if line := r.Load.retriesLine(); line != "" {
		fmt.Fprintf(&b, "%s\n", line)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", r.Error)
	}
	fmt.Fprintf(&b, "verdict: %s (exit %d)%s\n", r.Overall, r.ExitCode, r.selectionNote())
	return b.String()
}

// affectedLine names the checks an outage took from judgment: "1 check
// AFFECTED by an outage of the receiver, not judged (...): SIG-02";
// empty when none is. The failure that reports the outage is among the
// failures, and each AFFECTED check's reason names it.
func (r *Report) affectedLine() string {
	var ids []string
	for _, g := range r.groups() {
		for _, res := range g.Results {
			if res.Verdict == harness.Affected {
				ids = append(ids, res.ID)
			}
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s by an outage of the receiver, not judged (the failure that reports the outage says when; run again once the receiver stays available): %s",
		plural(len(ids), "check", "checks"), harness.Affected, strings.Join(ids, ", "))
}

// rare says whether a verdict is named in the counts only when a check
// has it: only a signing scheme makes checks N/A, and only an outage
// makes them AFFECTED.
func rare(v harness.Verdict) bool { return v == harness.NotApplicable || v == harness.Affected }

// countsText counts the checks per verdict, failures first: "11 checks:
// 3 FAIL, 1 WARN, 1 SKIP, 4 PASS, 2 INFO". N/A and AFFECTED are named
// only when a check has them (rare).
func (r *Report) countsText() string {
	var parts []string
	for _, v := range harness.Verdicts() {
		if rare(v) && r.Counts[v] == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d %s", r.Counts[v], v))
	}
	return fmt.Sprintf("%d checks: %s", len(r.Results), strings.Join(parts, ", "))
}

// checkText describes one check in plain text, for JUnit's system-out and
// other consumers without HTML: its verdict, requirement, the seed's words,
// expected versus observed, how to fix a failure or warning, the reason of
// a skip or measurement, notes and, when evidence is true, the evidence
// timeline.
func checkText(r harness.Result, evidence bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (%s, %s): %s\n", r.ID, r.Verdict, r.Level, r.Category, r.Title)
	fmt.Fprintf(&b, "requirement: %s\n", r.Requirement)
	if r.Seed != "" {
		fmt.Fprintf(&b, "seed: %s\n", r.Seed)
	}
	switch r.Verdict {
	case harness.Warn:
		b.WriteString("warning: a SHOULD requirement does not hold; STRICT=1 makes this a failure\n")
	case harness.Skip:
		fmt.Fprintf(&b, "skipped because:\n%s\n", indent(r.Reason))
	case harness.NotApplicable:
		fmt.Fprintf(&b, "not applicable because:\n%s\n", indent(r.Reason))
	case harness.Affected:
		b.WriteString("not judged: an outage of the receiver met this check (its observed text says where it is reported)\n")
	case harness.InfoVerdict:
		if r.Reason != "" && r.Reason != r.Observed {
			fmt.Fprintf(&b, "measured:\n%s\n", indent(r.Reason))
		}
	}
	if r.Expected != "" {
		fmt.Fprintf(&b, "expected:\n%s\n", indent(r.Expected))
	}
	if r.Observed != "" {
		fmt.Fprintf(&b, "observed:\n%s\n", indent(r.Observed))
	}
	writeFix(&b, r)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if evidence && len(r.Evidence) > 0 {
		fmt.Fprintf(&b, "evidence (%s):\n%s", exchanges(len(r.Evidence)), Evidence(r.Evidence))
	}
	return b.String()
}

// exchanges counts exchanges in words: "1 exchange", "6 exchanges".
func exchanges(n int) string {
	if n == 1 {
		return "1 exchange"
	}
	return fmt.Sprintf("%d exchanges", n)
}

// kind names what the run certified, for the summary's first line.
func (r *Report) kind() string {
	kinds, _ := r.kinds()
	if len(kinds) == 0 {
		return "conformance"
	}
	return strings.Join(kinds, " and ")
}

// retriesLine is the console summary's line on a load's retries: the
// amplification and the events never acknowledged, the retries pending
// at the end or dropped at the cap when there were any, and a capacity
// search's storm edge. It is empty without retry figures (no load, or a
// report written before the load test retried).
func (l *Load) retriesLine() string {
	if l == nil || l.Retries == nil {
		return ""
	}
	r := l.Retries
	on := "off"
	if r.Enabled {
		on = "on (" + schedule(r.Schedule) + ")"
	}
	line := fmt.Sprintf("retries %s: amplification %s (%d deliveries for %d events); %s never acknowledged",
		on, times(r.Amplification), r.Deliveries, r.Events, plural(r.NeverAcknowledged, "event", "events"))
	if short := l.shortOfPlan(); short != "" {
		line += "; " + short
	}
	if r.Pending > 0 {
		line += fmt.Sprintf("; %s pending at the end", plural(r.Pending, "retry", "retries"))
	}
	if r.CapDropped > 0 {
		line += fmt.Sprintf("; %s dropped: the cap of %d pending retries was reached", plural(r.CapDropped, "retry", "retries"), r.PendingCap)
	}
	if c := l.Capacity; c != nil {
		line += fmt.Sprintf("; retry-storm edge (amplification < %s): %s", stormThreshold(), stormEdge(c))
	}
	return line
}

// evidenceLine points to the HTML report when a check failed or warned,
// and promises curl commands only when one of them holds a request to
// re-send: a check judged on the run as a whole (ACK-11 on its answer
// times, say) may fail with no exchange of its own.
func (r *Report) evidenceLine() string {
	if r.Counts[harness.Fail]+r.Counts[harness.Warn] == 0 {
		return ""
	}
	for _, res := range r.Results {
		if broken(res) && len(res.Evidence) > 0 {
			return "each failure's evidence, and a curl command that re-sends each of its requests, are in the HTML report"
		}
	}
	return "each failure's evidence is in the HTML report"
}

// selectionNote qualifies the verdict of a run whose checks a label
// filter selected: it speaks for those checks only, which the verdict
// line alone would not say.
func (r *Report) selectionNote() string {
	if r.Settings.Labels == "" || len(r.Results) == 0 {
		return ""
	}
	return fmt.Sprintf(", for the %s selected by LABELS='%s' only", plural(len(r.Results), "check", "checks"), r.Settings.Labels)
}

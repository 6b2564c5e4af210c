package harness

import "time"

// Level is a requirement's strength, per RFC 2119.
type Level string

// Requirement levels of the catalogue (README "The checks").
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	Info   Level = "INFO"
)

// CategoryLoad is the category of the load checks (LOAD-01..04), last in
// reports.
const CategoryLoad = "load"

// Categories returns the categories of the requirement catalogue in the
// order reports and the conformance suite show them; the load checks come
// last. A user's scenarios may add others, which follow. Each call returns
// a new slice, so a caller cannot change the catalogue's.
func Categories() []string {
	return []string{"signature", "acknowledgement", "idempotency", "ordering", "retry", "robustness", "tls", CategoryLoad}
}

// Verdict is the outcome of one check.
type Verdict string

// Verdicts per check.
const (
	// Pass: the requirement holds.
	Pass Verdict = "PASS"
	// Fail: a MUST is broken (or a SHOULD under strict).
	Fail Verdict = "FAIL"
	// Warn: a SHOULD is broken.
	Warn Verdict = "WARN"
	// Skip: the check could not run here; Result.Reason says why.
	Skip Verdict = "SKIP"
	// InfoVerdict: measured, no verdict.
	InfoVerdict Verdict = "INFO"
	// NotApplicable: the run's signing scheme cannot express the check (no
	// timestamp, one signature only); Result.Reason says why. It neither
	// fails a run nor makes it partial.
	NotApplicable Verdict = "N/A"
	// Affected: the check would have failed or warned, but its deliveries
	// or probe calls met an outage of the receiver that the availability
	// check (ACK-12) reports: what it saw says nothing of its own
	// requirement. Result.Reason points to that finding; the evidence is
	// kept. It is no failure of its own: the availability check's FAIL
	// makes the run NOT COMPLIANT, and on its own it makes a run partial,
	// as a skip does.
	Affected Verdict = "AFFECTED"
)

// Verdicts lists every verdict in the order reports show them: AFFECTED
// right after FAIL, since both come of something that went wrong.
func Verdicts() []Verdict {
	return []Verdict{Fail, Affected, Warn, Skip, Pass, InfoVerdict, NotApplicable}
}

// Broken returns the verdict for a requirement of level l that does not
// hold: FAIL for MUST, WARN for SHOULD (FAIL when strict), INFO for INFO.
func Broken(l Level, strict bool) Verdict {
	switch {
	case l == Must, l == Should && strict:
		return Fail
	case l == Should:
		return Warn
	}
	return InfoVerdict
}

// Result is the verdict of one check with everything needed to explain it:
// the requirement it quotes, what was expected and observed, and the
// evidence of every exchange.
type Result struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Level       Level  `json:"level"`
	Category    string `json:"category"`
	Requirement string `json:"requirement"`
	// Seed quotes the product's own words the requirement rests on.
	Seed    string  `json:"seed,omitempty"`
	Verdict Verdict `json:"verdict"`
	// Expected and Observed say, for a human, what the check wanted and saw.
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed,omitempty"`
	// Fix says what a receiver must change when the check fails or
	// warns, in the README's words, with a link to its section.
	Fix string `json:"fix,omitempty"`
	// Reason explains a SKIP or an N/A, an INFO measurement, or which
	// outage made a check AFFECTED.
	Reason   string        `json:"reason,omitempty"`
	Evidence []Exchange    `json:"evidence,omitempty"`
	Notes    []string      `json:"notes,omitempty"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
}

// Overall is the verdict of a whole run.
type Overall string

// Overall verdicts (README "The report").
const (
	Compliant             Overall = "COMPLIANT"
	CompliantWithWarnings Overall = "COMPLIANT WITH WARNINGS"
	Partial               Overall = "PARTIAL"
	NotCompliant          Overall = "NOT COMPLIANT"
	// NotCertified is the verdict of a run that could not be made (exit
	// status 2): an unreachable target, a misconfigured probe, bad
	// settings. It is not one of the other four because none of them fits
	// a run that checked nothing.
	NotCertified Overall = "NOT CERTIFIED"
)

// Summarize counts the verdicts and gives the overall verdict: NOT
// COMPLIANT when any check failed, else PARTIAL when any was skipped or
// affected (neither was judged), else COMPLIANT WITH WARNINGS when any
// warned, else COMPLIANT.
func Summarize(results []Result) (Overall, map[Verdict]int) {
	counts := map[Verdict]int{}
	for _, r := range results {
		counts[r.Verdict]++
	}
	switch {
	case counts[Fail] > 0:
		return NotCompliant, counts
	case counts[Skip] > 0, counts[Affected] > 0:
		return Partial, counts
	case counts[Warn] > 0:
		return CompliantWithWarnings, counts
	}
	return Compliant, counts
}

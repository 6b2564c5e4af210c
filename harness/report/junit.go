package report

// This file renders a report as JUnit XML (junit.xml), so CI systems show
// every check as a test case. It is written from the Report, like
// report.json and index.html, by Write; nothing else writes junit.xml, so
// the three files always agree.
//
// The layout is the one Ginkgo's JUnit reporter gave hookcert before this
// package wrote the file itself, so CI configurations and viewers see no
// difference: <testsuites> with totals, one <testsuite> per category in
// the order of groups, one <testcase> per check named "ID: title", with
// its verdict and level as properties.
//
// How verdicts map:
//   - PASS and INFO pass; WARN passes too (a broken SHOULD is a warning),
//     with the warning and how to fix it in system-out. In a strict run
//     the engine already made such a check FAIL.
//   - FAIL fails: the failure message says what was observed, what was
//     expected and how to fix it; the failure body repeats it and adds the
//     evidence timeline.
//   - SKIP is skipped with its reason, and so is N/A ("not applicable").
//   - AFFECTED is skipped too, its message pointing to the outage that
//     ACK-12's failure reports: a CI viewer then shows one failure for an
//     outage, not one per check it met, and the check's evidence is in
//     system-out.
//   - A run that could not be made, or stopped early, adds a test suite
//     "hookcert" with one test case "hookcert: ..." holding an <error>, so
//     CI shows why.
//
// Every test case's system-out holds the check's description; for all but
// failures (whose body holds it) also the evidence. Write scrubs nothing:
// the secret is never in a report, so never here.
//
// A load section that counts retries adds its figures as properties
// named "load.…" to one test case: the load category's first INFO check
// (LOAD-04 or the capacity search, the measurements), or its first check
// when none is INFO. See Load.properties.

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// runSuite names the test suite, and the class of the test case, of a run
// that could not be made or stopped early: it is no category of checks.
const runSuite = "hookcert"

// Test case states, the values of the status attribute. They are the spec
// states Ginkgo's reporter wrote, which the JUnit schema in testdata
// enumerates and CI viewers show.
const (
	statePassed      = "passed"
	stateFailed      = "failed"
	stateSkipped     = "skipped"
	stateInterrupted = "interrupted"
)

// junitSuites is the root element.
type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Tests   int      `xml:"tests,attr"`
	// Disabled counts skipped test cases: JUnit readers have no skipped
	// total on the root.
	Disabled int          `xml:"disabled,attr"`
	Errors   int          `xml:"errors,attr"`
	Failures int          `xml:"failures,attr"`
	Time     junitTime    `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

// junitSuite is one category's test suite.
type junitSuite struct {
	Name string `xml:"name,attr"`
	// Package is the target, so a viewer that groups by package shows
	// which receiver was tested.
	Package string `xml:"package,attr"`
	Tests   int    `xml:"tests,attr"`
	// Disabled is always 0: hookcert has no pending checks, but readers
	// of the schema expect the attribute.
	Disabled  int         `xml:"disabled,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Errors    int         `xml:"errors,attr"`
	Failures  int         `xml:"failures,attr"`
	Time      junitTime   `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

// junitCase is one check. The order of the child elements is the order
// the JUnit schema requires.
type junitCase struct {
	Name       string           `xml:"name,attr"`
	Classname  string           `xml:"classname,attr"`
	Status     string           `xml:"status,attr"`
	Time       junitTime        `xml:"time,attr"`
	Skipped    *junitSkipped    `xml:"skipped"`
	Error      *junitProblem    `xml:"error"`
	Failure    *junitProblem    `xml:"failure"`
	SystemOut  string           `xml:"system-out,omitempty"`
	Properties *junitProperties `xml:"properties"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitProblem is a <failure> or an <error>: the message is what a viewer
// shows first, the body (Text) what it shows when opened.
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// junitTime is a time attribute. It is kept as a duration so that totals
// add exactly, and written as a plain decimal number of seconds to the
// millisecond: encoding/xml would write a float64 of a few microseconds
// as 6.21e-06, which is no xs:decimal and which strict readers reject.
type junitTime time.Duration

// junitDuration rounds d to the millisecond, the precision CI viewers
// show, so a suite's time is exactly the sum of its test cases'. A
// negative duration (a hand-edited report.json) counts as none: JUnit
// times are never negative.
func junitDuration(d time.Duration) junitTime {
	return junitTime(max(d.Round(time.Millisecond), 0))
}

// String writes t in seconds, with up to three decimals and no trailing
// zeros: "0", "0.021", "1.01", "63".
func (t junitTime) String() string {
	ms := time.Duration(t).Milliseconds()
	out := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		out += "." + strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
	}
	return out
}

// MarshalXMLAttr implements xml.MarshalerAttr.
func (t junitTime) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: t.String()}, nil
}

// junitXML renders the report as a junit.xml document.
func (r *Report) junitXML() ([]byte, error) {
	doc := junitSuites{}
	for _, g := range r.groups() {
		suite := r.junitSuite(g.Category)
		carrier := loadCarrier(g)
		for _, res := range g.Results {
			c := junitCheck(res)
			if res.ID == carrier {
				c.Properties.Property = append(c.Properties.Property, r.Load.properties()...)
			}
			suite.add(c)
		}
		doc.add(suite)
	}
	if r.Error != "" {
		suite := r.junitSuite(runSuite)
		suite.add(r.junitRunError())
		doc.add(suite)
	}
	var b strings.Builder
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	// The indentation of the junit.xml files hookcert has always written,
	// so they diff cleanly against older ones.
	enc.Indent("  ", "    ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("report: junit: encoding: %w", err)
	}
	return []byte(b.String()), nil
}

// add appends a suite and counts its test cases in the totals.
func (d *junitSuites) add(s junitSuite) {
	d.Tests += s.Tests
	d.Disabled += s.Disabled + s.Skipped
	d.Errors += s.Errors
	d.Failures += s.Failures
	d.Time += s.Time
	d.Suites = append(d.Suites, s)
}

// junitSuite returns an empty test suite. Every suite starts when the run
// did: the checks of all categories run together.
func (r *Report) junitSuite(name string) junitSuite {
	return junitSuite{
		Name:      name,
		Package:   r.Target,
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
	}
}

// add appends a test case and counts it by its outcome.
func (s *junitSuite) add(c junitCase) {
	s.Tests++
	s.Time += c.Time
	switch {
	case c.Failure != nil:
		s.Failures++
	case c.Error != nil:
		s.Errors++
	case c.Skipped != nil:
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// junitCheck converts one check.
func junitCheck(res harness.Result) junitCase {
	c := junitCase{
		Name:      strings.TrimSpace(res.ID + ": " + res.Title),
		Classname: res.Category,
		Status:    statePassed,
		Time:      junitDuration(res.Duration),
		SystemOut: checkText(res, res.Verdict != harness.Fail),
		Properties: &junitProperties{Property: []junitProperty{
			jsonProperty("verdict", string(res.Verdict)),
			jsonProperty("level", string(res.Level)),
		}},
	}
	switch res.Verdict {
	case harness.Fail:
		msg := Failure(res)
		body := msg
		if len(res.Evidence) > 0 {
			body += fmt.Sprintf("\nEvidence of %s, every exchange in order:\n%s", res.ID, Evidence(res.Evidence))
		}
		c.Status = stateFailed
		c.Failure = &junitProblem{Message: msg, Type: stateFailed, Text: body}
	case harness.Skip, harness.NotApplicable, harness.Affected:
		c.Status = stateSkipped
		c.Skipped = &junitSkipped{Message: skippedMessage(res)}
	}
	return c
}

// skippedMessage is the message of a skipped test case: "skipped - why",
// "not applicable - why"; an AFFECTED check's reason says what it is
// ("affected by the outage reported by ACK-12 ...") on its own.
func skippedMessage(res harness.Result) string {
	word := map[harness.Verdict]string{harness.Skip: "skipped", harness.NotApplicable: "not applicable", harness.Affected: "affected by an outage"}[res.Verdict]
	switch {
	case res.Reason == "":
		return word
	case res.Verdict == harness.Affected:
		return res.Reason
	}
	return word + " - " + res.Reason
}

// jsonProperty is a test case property whose value is JSON (a verdict
// "PASS" is written as "\"PASS\"", a count as 12, a latency as
// "38ms"): the values have always been JSON, so readers that decode them
// keep working.
func jsonProperty(name string, value any) junitProperty {
	b, err := json.Marshal(value)
	if err != nil { // strings, numbers and durations always marshal
		return junitProperty{Name: name, Value: fmt.Sprint(value)}
	}
	return junitProperty{Name: name, Value: string(b)}
}

// loadCarrier returns the ID of the check of a group that carries the
// load section's properties: the first INFO check of the load category,
// else its first check; "" for another category.
func loadCarrier(g group) string {
	if g.Category != harness.CategoryLoad || len(g.Results) == 0 {
		return ""
	}
	for _, res := range g.Results {
		if res.Level == harness.Info {
			return res.ID
		}
	}
	return g.Results[0].ID
}

// properties are the retry figures of a load section as JUnit properties,
// for CI systems that chart or compare them: the amplification, events,
// deliveries and retries by attempt, the events never acknowledged, the
// retries pending at the end and dropped at the cap, the first attempts'
// and every attempt's p50 and p99, and the capacity search's two edges.
// A section without retry figures (a report written before the load test
// retried) has none, so its junit.xml reads as it always did.
func (l *Load) properties() []junitProperty {
	if l == nil || l.Retries == nil {
		return nil
	}
	r := l.Retries
	sched := r.Schedule
	if sched == nil {
		sched = []harness.Duration{} // [], not null: no retry is scheduled
	}
	props := []junitProperty{
		jsonProperty("load.retries.enabled", r.Enabled),
		jsonProperty("load.retries.schedule", sched),
		jsonProperty("load.retries.events", r.Events),
		jsonProperty("load.retries.deliveries", r.Deliveries),
		jsonProperty("load.retries.amplification", r.Amplification),
	}
	for _, a := range r.ByAttempt {
		name := "load.retries.attempt" + strconv.Itoa(a.Attempt)
		props = append(props, jsonProperty(name, a.Deliveries), jsonProperty(name+".ok", a.OK))
	}
	props = append(props,
		jsonProperty("load.retries.neverAcknowledged", r.NeverAcknowledged),
		jsonProperty("load.retries.pending", r.Pending),
		jsonProperty("load.retries.pendingCap", r.PendingCap),
		jsonProperty("load.retries.capDropped", r.CapDropped),
		jsonProperty("load.latency.firstAttempts.p50", l.Latencies.P50),
		jsonProperty("load.latency.firstAttempts.p99", l.Latencies.P99),
		jsonProperty("load.latency.allAttempts.p50", r.AllAttempts.P50),
		jsonProperty("load.latency.allAttempts.p99", r.AllAttempts.P99),
	)
	if c := l.Capacity; c != nil {
		props = append(props,
			jsonProperty("load.capacity.highestRate", c.HighestRate),
			jsonProperty("load.capacity.stormSearched", c.StormSearched))
		if c.StormSearched {
			props = append(props, jsonProperty("load.capacity.stormEdge", c.StormEdge))
		}
	}
	return props
}

// junitRunError is the test case of a run that could not be made, or
// stopped before every check ran: an <error>, not a failure, because no
// check failed; the run itself did not do its job.
func (r *Report) junitRunError() junitCase {
	var what string
	switch {
	case len(r.Results) == 0:
		what = "the run could not be made"
	case !r.Complete:
		what = "the run stopped before every check ran"
	default:
		what = "the run reported an error"
	}
	return junitCase{
		Name:      "hookcert: " + what,
		Classname: runSuite,
		Status:    stateInterrupted,
		Time:      junitDuration(time.Duration(r.Duration)),
		Error:     &junitProblem{Message: r.Error, Type: stateInterrupted, Text: r.Error + "\n"},
		SystemOut: fmt.Sprintf("%s (exit %d): %s\n", r.Overall, r.ExitCode, r.Error),
	}
}

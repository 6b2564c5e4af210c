package report

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/figure"
)

// group is the checks of one category, in ID order.
type group struct {
	Category string
	Results  []harness.Result
}

// groups returns the results by category: the catalogue's categories
// (harness.Categories) first in their order, then any others in the order
// they first appear;
// within a category, checks are ordered by ID (SIG-02 before SIG-10).
// The HTML matrix and the JUnit test suites both follow it.
func (r *Report) groups() []group {
	order := harness.Categories()
	for _, res := range r.Results {
		if !slices.Contains(order, res.Category) {
			order = append(order, res.Category)
		}
	}
	var groups []group
	for _, cat := range order {
		var rs []harness.Result
		for _, res := range r.Results {
			if res.Category == cat {
				rs = append(rs, res)
			}
		}
		if len(rs) == 0 {
			continue
		}
		slices.SortStableFunc(rs, func(a, b harness.Result) int { return compareIDs(a.ID, b.ID) })
		groups = append(groups, group{Category: cat, Results: rs})
	}
	return groups
}

// compareIDs orders check IDs by prefix, then by number: SIG-02 < SIG-10 <
// TLS-01. IDs without a number compare as text.
func compareIDs(a, b string) int {
	pa, na := splitID(a)
	pb, nb := splitID(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	if na != nb {
		return na - nb
	}
	return strings.Compare(a, b)
}

func splitID(id string) (string, int) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return id, 0
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return id, 0
	}
	return id[:i], n
}

// kinds names what the run certified (conformance, load, capacity), and
// says whether it holds conformance checks.
func (r *Report) kinds() (kinds []string, conf bool) {
	load := r.Load != nil
	for _, res := range r.Results {
		if res.Category == "load" {
			load = true
		} else {
			conf = true
		}
	}
	if conf {
		kinds = append(kinds, "conformance")
	}
	if load {
		kinds = append(kinds, "load")
	}
	if r.Load != nil && r.Load.Capacity != nil {
		kinds = append(kinds, "capacity")
	}
	return kinds, conf
}

// profile describes what kind of run the report records, for the reader of
// a banner: conformance, load, capacity or several merged, the selection
// of checks, and whether the target was the bundled reference receiver.
func (r *Report) profile() string {
	kinds, conf := r.kinds()
	if len(kinds) == 0 {
		kinds = append(kinds, "no checks ran")
	}
	parts := []string{strings.Join(kinds, " + ")}
	if r.Settings.Labels != "" {
		parts = append(parts, "checks selected by LABELS='"+r.Settings.Labels+"'")
	} else if conf {
		parts = append(parts, "default catalogue")
	}
	if r.Settings.Scenarios != "" {
		parts = append(parts, "own scenarios from "+r.Settings.Scenarios)
	}
	if r.Settings.Reference {
		ref := "bundled reference receiver"
		switch len(r.Settings.Faults) {
		case 0:
		case 1:
			ref += " with planted fault " + r.Settings.Faults[0]
		default:
			ref += " with planted faults " + strings.Join(r.Settings.Faults, ", ")
		}
		parts = append(parts, ref)
	}
	return strings.Join(parts, "; ")
}

// step is one step of a check's explanation: what the step did, what was
// expected of it and what was observed. It pairs the "step N, what: ..."
// lines of Result.Expected and Result.Observed.
type step struct {
	What     string
	Expected string
	Observed string
}

// why pairs the observed lines of a failed or warned check with what was
// expected of the same step, so a reader sees the cause in one line per
// step. Lines that do not follow the "step N, what: text" form are kept
// whole in Observed.
func why(r harness.Result) []step {
	expected := map[string]string{}
	for _, line := range strings.Split(r.Expected, "\n") {
		if what, text, ok := stepLine(line); ok {
			expected[what] = text
		}
	}
	var steps []step
	for _, line := range strings.Split(strings.TrimSpace(r.Observed), "\n") {
		if line == "" {
			continue
		}
		what, text, ok := stepLine(line)
		switch {
		case ok:
			steps = append(steps, step{What: what, Expected: expected[what], Observed: text})
		case len(steps) > 0 && steps[len(steps)-1].What == "":
			steps[len(steps)-1].Observed += "\n" + line
		default:
			steps = append(steps, step{Observed: line})
		}
	}
	return steps
}

// stepLine splits "step 4, probe event evt_1: timesProcessed 2" into
// "step 4, probe event evt_1" and "timesProcessed 2". The step part ends at
// the first ": " after the step number, so the text may hold colons.
func stepLine(line string) (what, text string, ok bool) {
	if !strings.HasPrefix(line, "step ") {
		return "", "", false
	}
	i := strings.Index(line, ": ")
	if i < 0 {
		return "", "", false
	}
	return line[:i], line[i+2:], true
}

// exchangeView is one exchange of the evidence as the HTML shows it.
type exchangeView struct {
	N       int
	Offset  string
	Attempt int
	Method  string
	URL     string
	ReqHead []headerLine
	ReqBody string
	ReqSize int
	// ReqSegments says how the body was written to the connection.
	ReqSegments string
	// ReqCut and RespCut say the body shown is an excerpt.
	ReqCut    bool
	Status    int
	StatusTxt string
	OK        bool
	Latency   string
	RespHead  []headerLine
	RespBody  string
	RespSize  int
	RespCut   bool
	Answered  bool
	Abandoned bool
	Err       string
	// Proto is the HTTP version the exchange was made in, if known.
	Proto string
	// Resend is the curl command that re-sends the request, for an
	// exchange of a failing or warning check.
	Resend string
}

type headerLine struct{ Name, Value string }

func headerLines(h http.Header) []headerLine {
	var out []headerLine
	for _, k := range sortedKeys(h) {
		out = append(out, headerLine{k, strings.Join(h[k], ", ")})
	}
	return out
}

// timeline turns the evidence of a check into the rows of its timeline,
// with offsets from the earliest exchange.
func timeline(exs []harness.Exchange) []exchangeView {
	var t0 time.Time
	for i, ex := range exs {
		if i == 0 || ex.Start.Before(t0) {
			t0 = ex.Start
		}
	}
	out := make([]exchangeView, 0, len(exs))
	for i, ex := range exs {
		v := exchangeView{
			N:           i + 1,
			Offset:      "+" + seconds(ex.Start.Sub(t0)),
			Attempt:     ex.Attempt,
			Method:      ex.Request.Method,
			URL:         ex.Request.URL,
			ReqHead:     headerLines(ex.Request.Header),
			ReqBody:     ex.Request.Body,
			ReqSize:     ex.Request.BodySize,
			ReqCut:      ex.Request.BodySize > len(ex.Request.Body),
			ReqSegments: ex.Request.Segments,
			Latency:     latency(ex.Latency),
			Abandoned:   ex.Abandoned,
			Err:         ex.Err,
			Proto:       ex.Proto,
		}
		if ex.Response != nil {
			v.Answered = true
			v.Status = ex.Response.Status
			v.StatusTxt = http.StatusText(ex.Response.Status)
			v.OK = ex.OK()
			v.RespHead = headerLines(ex.Response.Header)
			v.RespBody = ex.Response.Body
			v.RespSize = ex.Response.BodySize
			v.RespCut = ex.Response.BodySize > len(ex.Response.Body)
		}
		out = append(out, v)
	}
	return out
}

// seconds prints an offset as seconds with millisecond precision, the
// resolution at which the timeline is read.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// latency prints a latency as figure.Latency rounds it.
func latency(d time.Duration) string { return figure.Latency(d).String() }

// broken reports whether a check failed or warned: the checks whose cause
// a report spells out, with how to fix and reproduce it.
func broken(r harness.Result) bool {
	return r.Verdict == harness.Fail || r.Verdict == harness.Warn
}

// checkView is one check as the HTML shows it.
type checkView struct {
	harness.Result
	// Open expands the check: failures and warnings are open, so a red run
	// shows its cause without a click.
	Open     bool
	Why      []step
	Took     string
	Timeline []exchangeView
	// OpenExchanges expands every exchange of a short timeline of an open
	// check.
	OpenExchanges bool
	// HowToFix is the check's fix, for a failing or warning check only.
	HowToFix *hint
}

// verdictGroup is the checks of one verdict, in the order the page shows
// them: failures first.
type verdictGroup struct {
	Verdict harness.Verdict
	Heading string
	Checks  []checkView
}

// page is what the HTML template renders.
type pageView struct {
	*Report
	Class   string
	Profile string
	Date    string
	Took    string
	Retries string
	Total   int
	Groups  []group
	Failed  []checkView
	Warned  []checkView
	// Affected are the checks an outage took from judgment (ACK-12),
	// shown apart from the failures.
	Affected []checkView
	Sections []verdictGroup
	Load     *loadView
	// HTTP says which HTTP versions the deliveries were made in, and
	// the one the run asked for; empty when neither is known.
	HTTP string
}

// maxOpenExchanges is how many exchanges an open check may have for all of
// them to be expanded too; longer timelines show one line per exchange.
const maxOpenExchanges = 8

func newPage(r *Report) pageView {
	p := pageView{
		Report:  r,
		Class:   bannerClass(r.Overall),
		Profile: r.profile(),
		Date:    r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Took:    latency(time.Duration(r.Duration)),
		Total:   len(r.Results),
		Groups:  r.groups(),
	}
	var retries []string
	for _, d := range r.Settings.RetrySchedule {
		retries = append(retries, d.String())
	}
	p.Retries = strings.Join(retries, ", ")
	if p.Retries == "" {
		p.Retries = "none"
	}
	p.HTTP = r.httpFact()
	byVerdict := map[harness.Verdict][]checkView{}
	for _, g := range p.Groups {
		for _, res := range g.Results {
			c := checkView{
				Result:   res,
				Open:     broken(res),
				Timeline: timeline(res.Evidence),
				HowToFix: hintOf(res),
			}
			if res.Duration > 0 {
				c.Took = latency(res.Duration)
			}
			if c.Open {
				c.Why = why(res)
				c.OpenExchanges = len(res.Evidence) <= maxOpenExchanges
			}
			for i, rs := range resends(res, r.Settings) {
				c.Timeline[i].Resend = rs.Command
			}
			byVerdict[res.Verdict] = append(byVerdict[res.Verdict], c)
		}
	}
	p.Failed, p.Warned, p.Affected = byVerdict[harness.Fail], byVerdict[harness.Warn], byVerdict[harness.Affected]
	headings := map[harness.Verdict]string{
		harness.Fail:          "Failed",
		harness.Affected:      "Affected by an outage, not judged (AFFECTED)",
		harness.Warn:          "Warnings",
		harness.Skip:          "Skipped",
		harness.InfoVerdict:   "Measured (INFO)",
		harness.Pass:          "Passed",
		harness.NotApplicable: "Not applicable to the signing scheme (N/A)",
	}
	// The order of harness.Verdicts, but that the measurements come
	// before the long list of passes.
	for _, v := range []harness.Verdict{harness.Fail, harness.Affected, harness.Warn, harness.Skip, harness.InfoVerdict, harness.Pass, harness.NotApplicable} {
		if cs := byVerdict[v]; len(cs) > 0 {
			p.Sections = append(p.Sections, verdictGroup{Verdict: v, Heading: headings[v], Checks: cs})
		}
	}
	if r.Load != nil {
		p.Load = newLoadView(r.Load)
	}
	return p
}

// protocols returns the HTTP versions the exchanges of the evidence were
// made in, first seen first.
func (r *Report) protocols() []string {
	var out []string
	for _, res := range r.Results {
		for _, ex := range res.Evidence {
			if ex.Proto != "" && !slices.Contains(out, ex.Proto) {
				out = append(out, ex.Proto)
			}
		}
	}
	return out
}

// httpFact is the banner's line on HTTP: the versions the deliveries were
// made in, and HTTP_VERSION when the run pinned one.
func (r *Report) httpFact() string {
	used := strings.Join(r.protocols(), " and ")
	var asked string
	if v := r.Settings.HTTPVersion; v != harness.HTTPAuto {
		asked = "HTTP_VERSION=" + v.String()
	}
	switch {
	case used == "":
		return asked
	case asked == "":
		return used
	}
	return used + " (" + asked + ")"
}

// bannerClass is the CSS class of the verdict banner.
func bannerClass(o harness.Overall) string {
	switch o {
	case harness.Compliant:
		return "b-ok"
	case harness.CompliantWithWarnings:
		return "b-warn"
	case harness.Partial:
		return "b-partial"
	case harness.NotCertified:
		return "b-cannot"
	}
	return "b-fail"
}

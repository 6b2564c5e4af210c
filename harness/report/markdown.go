package report

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/figure"
)

// Markdown renders the report as GitHub-flavoured Markdown, for a CI job
// summary ($GITHUB_STEP_SUMMARY) or a merge-request note: the verdict and
// the counts, why the run could not be made and its notes, a table of the
// failed and warned checks, the load figures, the settings and, when html
// is not empty, a last line pointing to the HTML report there (a file
// name, or an http(s) URL, which becomes a link).
//
// Every text taken from the report is escaped, so that what a receiver
// echoed reads as text: it cannot end a table cell, open a link or add an
// HTML element. The evidence is left to the HTML report.
func (r *Report) Markdown(html string) string {
	var b strings.Builder
	target := "none"
	if r.Target != "" {
		target = code(r.Target)
	}
	fmt.Fprintf(&b, "## %s %s: %s (exit %d)%s\n\n", exitMark(r.ExitCode), inline(string(r.Overall)), target, r.ExitCode, inline(r.selectionNote()))
	fmt.Fprintf(&b, "%s\n\n", r.countsText())
	fmt.Fprintf(&b, "%s · %s %s · %s · %s\n",
		inline(r.profile()), inline(r.Suite), inline(r.Version),
		r.Started.UTC().Format("2006-01-02 15:04:05 UTC"), latency(time.Duration(r.Duration)))
	if r.Error != "" {
		lead := "Error:"
		if r.ExitCode == ExitCannotRun {
			lead = "The run could not be made in full (exit 2):"
		}
		fmt.Fprintf(&b, "\n**%s** %s\n", lead, inline(r.Error))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n**Note:** %s\n", inline(n))
	}
	if rows := r.failureRows(); len(rows) > 0 {
		b.WriteString("\n### Checks that failed or warned\n\n")
		table(&b, []string{"ID", "level", "title", "expected", "observed", "fix"}, rows)
	}
	if line := r.affectedLine(); line != "" {
		fmt.Fprintf(&b, "\n**%s:** %s\n", harness.Affected, inline(line))
	}
	if r.Load != nil {
		b.WriteString("\n### Load\n\n")
		table(&b, []string{"measure", "value"}, loadRows(r.Load))
	}
	b.WriteString("\n### Settings\n\n")
	table(&b, []string{"setting", "value"}, r.settingRows())
	if html != "" {
		fmt.Fprintf(&b, "\nThe full report, with the evidence of every check: %s\n", link(html))
	}
	return b.String()
}

// exitMark marks the heading by the exit status, the fact a CI job acts
// on: a check mark when the run passes the gate, a cross when it does not.
func exitMark(code int) string {
	if code == exitCompliant {
		return "✓"
	}
	return "✗"
}

// failureRows are the failed checks and then the warned ones, each in
// the order of groups. A SHOULD that failed says it failed under strict,
// so that it reads apart from the warnings.
func (r *Report) failureRows() [][]string {
	groups := r.groups()
	var rows [][]string
	for _, v := range []harness.Verdict{harness.Fail, harness.Warn} {
		for _, g := range groups {
			for _, res := range g.Results {
				if res.Verdict != v {
					continue
				}
				level := string(res.Level)
				if v == harness.Fail && res.Level == harness.Should {
					level += " (strict)"
				}
				rows = append(rows, []string{res.ID, level, res.Title, res.Expected, res.Observed, fixText(res.Fix)})
			}
		}
	}
	return rows
}

// loadRows are the load figures a CI reader judges a run by: the rate,
// what was sent, the first attempts' latency and 2xx share (which LOAD-01
// and LOAD-02 judge), the retries' amplification and the events lost, and
// a capacity search's edges.
func loadRows(l *Load) [][]string {
	rows := [][]string{{"rate", rate(l.Rate) + " for " + l.Duration.String()}}
	first := "latency"
	v := newRetriesView(l)
	if v != nil {
		first = "latency, first attempts"
		events := fmt.Sprint(v.Events)
		if v.Short != "" {
			events += " (" + v.Short + ")"
		}
		rows = append(rows, []string{"events", events}, []string{"deliveries", fmt.Sprint(v.Deliveries)})
	} else {
		rows = append(rows, []string{"deliveries", fmt.Sprint(l.Requests)})
	}
	lat := l.Latencies
	lats := fmt.Sprintf("p50 %s · p90 %s · p99 %s · max %s",
		latency(time.Duration(lat.P50)), latency(time.Duration(lat.P90)), latency(time.Duration(lat.P99)), latency(time.Duration(lat.Max)))
	if l.AckDeadline > 0 {
		lats += " (ack deadline " + l.AckDeadline.String() + ")"
	}
	rows = append(rows,
		[]string{first, lats},
		[]string{"answered 2xx", fmt.Sprintf("%s (%d of %d)", figure.Percent(l.Success), l.OK, l.Requests)})
	if v != nil {
		amp := v.Times
		if v.Storm {
			amp += " (≥ " + v.Threshold + ": a retry storm)"
		}
		never := plural(v.NeverAcknowledged, "event", "events")
		if v.NeverPct != "" {
			never += " (" + v.NeverPct + ")"
		}
		rows = append(rows,
			[]string{"retries", v.On},
			[]string{"amplification (deliveries ÷ events)", amp},
			[]string{"never acknowledged", never})
	}
	if c := l.Capacity; c != nil {
		rows = append(rows, []string{"capacity: highest rate held", rate(c.HighestRate)})
		if newCapacityView(l).Storm {
			rows = append(rows, []string{"capacity: retry-storm edge (amplification < " + stormThreshold() + ")", stormEdge(c)})
		}
	}
	return rows
}

// settingRows are the settings the run was made with, in the order of the
// HTML banner; settle and dedupe gap only when the run had them.
func (r *Report) settingRows() [][]string {
	s := r.Settings
	rows := [][]string{
		{"ack deadline", s.AckDeadline.String()},
		{"sender timeout", s.SenderTimeout.String()},
		{"retry schedule", schedule(s.RetrySchedule)},
	}
	if s.Settle > 0 {
		rows = append(rows, []string{"settle", s.Settle.String()})
	}
	if s.DedupeGap > 0 {
		rows = append(rows, []string{"dedupe gap", s.DedupeGap.String()})
	}
	scheme := s.Scheme
	if scheme == "" {
		scheme = "REALM v1"
	}
	labels := s.Labels
	if labels == "" {
		labels = "none: the default catalogue"
	}
	rows = append(rows,
		[]string{"signing scheme", scheme},
		[]string{"labels", labels})
	if s.Scenarios != "" {
		rows = append(rows, []string{"own scenarios", s.Scenarios})
	}
	insecure := "off"
	if s.Insecure {
		insecure = "on: certificates not verified"
	}
	proto := r.httpFact()
	if proto == "" {
		proto = s.HTTPVersion.String()
	}
	ref := "no"
	if s.Reference {
		ref = "yes"
		if len(s.Faults) > 0 {
			ref += ", with planted faults: " + strings.Join(s.Faults, ", ")
		}
	}
	return append(rows,
		[]string{"strict", onOff(s.Strict)},
		[]string{"insecure", insecure},
		[]string{"HTTP", proto},
		[]string{"probe", yesNo(s.Probe)},
		[]string{"reference receiver", ref})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// maxCell is the most characters a table cell shows, so that one long
// observation cannot bury the rest of the table; the HTML report has the
// whole text.
const maxCell = 600

// table writes a GFM table; every cell, the header's too, is escaped and
// clipped to maxCell.
func table(b *strings.Builder, header []string, rows [][]string) {
	row := func(cells []string) {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = inline(clip(c, maxCell))
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(out, " | "))
	}
	row(header)
	b.WriteString(strings.TrimSuffix(strings.Repeat("| --- ", len(header)), " ") + " |\n")
	for _, r := range rows {
		row(r)
	}
}

// clip keeps the first n characters of s, trimmed, and marks a cut with
// an ellipsis; it counts characters, not bytes, so it never splits one.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n])) + "…"
}

// inline renders s as Markdown text that reads as s and as nothing else,
// on one line, so that it can be a table cell:
//   - newlines become <br>;
//   - an & that would start an entity becomes &amp;, so that no entity of
//     a receiver's answer is ever interpreted;
//   - the characters Markdown gives an inline meaning get a backslash: < and
//     > (an escaped < starts no HTML element), the pipe (it would end the
//     cell), the backtick (a code span), brackets (links and images), the
//     asterisk and the tilde (emphasis, strikethrough), the dollar
//     (GitHub's math) and the backslash itself. < and > were entities
//     once, but inside an automatic link goldmark shows an entity as
//     written, &lt; (found by the fuzzer), where an escape reads right.
//
// An underscore between two letters or digits cannot emphasise and is
// common in IDs and URLs, whose automatic links an escape would cut, so
// it stays as it is; elsewhere it is escaped too.
func inline(s string) string {
	s = strings.TrimSpace(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s))
	var b strings.Builder
	for i, c := range s {
		switch c {
		case '\n':
			b.WriteString("<br>")
		case '<', '>':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '&':
			if entity.MatchString(s[i:]) {
				b.WriteString("&amp;")
			} else {
				// A bare & means itself, and left as it is keeps a
				// URL's query whole for GFM's automatic links.
				b.WriteByte('&')
			}
		case '\\', '|', '`', '[', ']', '*', '~', '$':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '_':
			if !intraword(s, i) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// entity matches the start of an HTML entity or character reference, the
// only place where Markdown reads an & as more than itself.
var entity = regexp.MustCompile(`^&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});`)

// intraword says whether the byte at i of s is between two letters or
// digits.
func intraword(s string, i int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i+1:])
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	return word(before) && word(after)
}

// code renders s as a code span, which Markdown shows verbatim, HTML
// included: its fence is one backtick longer than the longest run of
// backticks in s. It is for text outside tables, where a pipe means
// nothing.
func code(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		// A space each side lets the span start or end with a backtick.
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// link points to the HTML report: an http(s) URL becomes a link, anything
// else (a file in the CI artifact) a code span.
func link(name string) string {
	if (strings.HasPrefix(name, "https://") || strings.HasPrefix(name, "http://")) && !strings.ContainsAny(name, " \t\r\n<>") {
		return "<" + name + ">"
	}
	return code(name)
}

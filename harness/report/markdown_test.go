package report_test

// Tests of the Markdown summary. Each renders the Markdown to HTML as a
// GFM renderer does (goldmark with its GFM extension, raw HTML let
// through, so that any markup a receiver slipped in would show) and reads
// the tables back from the HTML: what GitHub would show is what is judged.

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// failureHeader is the header row of the table of failed and warned
// checks.
var failureHeader = []string{"ID", "level", "title", "expected", "observed", "fix"}

// rendered is a Markdown summary as a GFM renderer shows it.
type rendered struct {
	md   string
	html string
	doc  *html.Node
}

// render renders r's Markdown, and that to HTML.
func render(t *testing.T, r *report.Report, htmlName string) rendered {
	t.Helper()
	md := r.Markdown(htmlName)
	var b bytes.Buffer
	gfm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := gfm.Convert([]byte(md), &b); err != nil {
		t.Fatalf("goldmark: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("parsing goldmark's HTML: %v", err)
	}
	return rendered{md: md, html: b.String(), doc: doc}
}

// elements returns the elements named name under n, in document order.
func elements(n *html.Node, name string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == name {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// text is what a reader sees of n: its text, with <br> as a newline.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.Data == "br":
			b.WriteByte('\n')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// table returns the rows (header first) of the table whose header is
// header, or nil when there is none.
func (r rendered) table(header ...string) [][]string {
	for _, tb := range elements(r.doc, "table") {
		var rows [][]string
		for _, tr := range elements(tb, "tr") {
			var cells []string
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
					cells = append(cells, text(c))
				}
			}
			rows = append(rows, cells)
		}
		if len(rows) > 0 && strings.Join(rows[0], "\x00") == strings.Join(header, "\x00") {
			return rows
		}
	}
	return nil
}

// values returns a two-column table's rows as a map from the first cell.
func (r rendered) values(header ...string) map[string]string {
	rows := r.table(header...)
	if rows == nil {
		return nil
	}
	m := map[string]string{}
	for _, row := range rows[1:] {
		m[row[0]] = row[1]
	}
	return m
}

// onlyText fails the test when a table cell holds an element other than
// <br> or an automatic link (whose text is its address): anything else
// came from the report's text and would be markup a receiver injected.
func (r rendered) onlyText(t *testing.T) {
	t.Helper()
	for _, name := range []string{"td", "th"} {
		for _, c := range elements(r.doc, name) {
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode && n != c {
					switch {
					case n.Data == "br":
					case n.Data == "a" && autolink(n):
					default:
						t.Errorf("a table cell holds a <%s> element: %q", n.Data, text(c))
					}
				}
				for k := n.FirstChild; k != nil; k = k.NextSibling {
					walk(k)
				}
			}
			walk(c)
		}
	}
	if loc := regexp.MustCompile(`(?i)<(script|img|iframe|style|svg|object)\b`).FindStringIndex(r.html); loc != nil {
		t.Errorf("the summary renders to an element a receiver injected: %q", r.html[loc[0]:min(loc[1]+40, len(r.html))])
	}
}

// autolink says whether a is a link GFM made of an address in the text:
// its text is its address, and its href the address percent-encoded as
// the renderer encodes it (an escape the address holds, %00, is kept; a
// bare % becomes %25), but for a scheme GFM adds (http://, mailto:).
func autolink(a *html.Node) bool {
	return strings.HasSuffix(attr(a, "href"), string(util.URLEscape([]byte(text(a)), false)))
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hostileText is what a receiver could echo into an observation: markup,
// pipes that would end a cell, backticks that would open a code span, a
// link, an entity that must stay text, emphasis, math and backslashes.
const hostileText = "step 1, send job.completed: 400 in 3ms, body <script>alert(1)</script>\n" +
	"step 2, send job.completed | again: `a|b` and ``c`` <img src=x onerror=alert(2)>\n" +
	"  [click](https://evil.example/) &lt;b&gt; *not bold* __init__ ~~kept~~ $x$ C:\\path\\| end\\"

// longText is an observation longer than a cell shows, in characters of
// two bytes, so that a clip counting bytes would be caught.
var longText = strings.Repeat("é|", 400)

// hostile is a run that found a failed MUST with a fix, a warned SHOULD
// and another failed MUST with a long observation, beside checks of every
// other verdict, which the table must leave out.
func hostile() *report.Report {
	r := report.New("https://receiver.example.com/hooks?tenant=a", report.Settings{AckDeadline: harness.Duration(time.Second)})
	r.Finish([]harness.Result{
		{ID: "ROB-03", Title: "Oversized bodies are refused", Level: harness.Must, Category: "robustness", Verdict: harness.Fail,
			Expected: "step 1, send 1 MiB: a 413 response", Observed: longText},
		{ID: "SIG-10", Title: "A correct signature passes", Level: harness.Must, Category: "signature", Verdict: harness.Pass},
		{ID: "IDEM-01", Title: "Redeliveries are | acknowledged", Level: harness.Should, Category: "idempotency", Verdict: harness.Warn,
			Expected: "step 1, send job.completed: a 2xx response\r\nstep 2, send again: a 2xx response\n", Observed: hostileText},
		{ID: "SIG-02", Title: "A <b>tampered</b> body is rejected", Level: harness.Must, Category: "signature", Verdict: harness.Fail,
			Expected: "step 1, send tampered body: a 4xx response\nstep 2, send `t=0`: a 4xx response", Observed: hostileText,
			Fix: "Verify X-Webhook-Signature over the raw body before parsing it | see https://github.com/realm-ai/hookcert#signature_checks"},
		{ID: "ORD-04", Title: "Out of order", Level: harness.Must, Category: "ordering", Verdict: harness.Skip, Reason: "no probe"},
		{ID: "TLS-04", Title: "TLS version", Level: harness.Info, Category: "tls", Verdict: harness.InfoVerdict, Observed: "<script>TLS 1.3</script>"},
	}, true, nil)
	return r
}

// seen is what a cell shows of s: trimmed, with CRLF as one newline.
func seen(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// TestMarkdownFailureTable: the table of failures holds exactly the failed
// checks and then the warned ones, each cell reading as the report's text
// whatever it holds, and nothing of it becomes markup.
func TestMarkdownFailureTable(t *testing.T) {
	r := hostile()
	got := render(t, r, report.HTMLFile)
	want := [][]string{
		failureHeader,
		// Failures first, in the order of the checks (signature before
		// robustness), then the warnings.
		{"SIG-02", "MUST", "A <b>tampered</b> body is rejected", seen(r.Result("SIG-02").Expected), seen(hostileText), r.Result("SIG-02").Fix},
		{"ROB-03", "MUST", "Oversized bodies are refused", "step 1, send 1 MiB: a 413 response", string([]rune(longText)[:600]) + "…", ""},
		{"IDEM-01", "SHOULD", "Redeliveries are | acknowledged", "step 1, send job.completed: a 2xx response\nstep 2, send again: a 2xx response", seen(hostileText), ""},
	}
	rows := got.table(failureHeader...)
	if rows == nil {
		t.Fatalf("no table of failures in:\n%s", got.html)
	}
	if len(rows) != len(want) {
		t.Fatalf("the table has %d rows, want %d (the header, 2 failures and 1 warning):\n%q", len(rows), len(want), rows)
	}
	for i := range want {
		if len(rows[i]) != len(want[i]) {
			t.Errorf("row %d has %d cells, want %d: a pipe ended a cell early?\n%q", i, len(rows[i]), len(want[i]), rows[i])
			continue
		}
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("row %d, %s cell:\n got %q\nwant %q", i, failureHeader[j], rows[i][j], want[i][j])
			}
		}
	}
	if !utf8.ValidString(rows[2][4]) {
		t.Error("the clipped cell is not valid UTF-8: the clip split a character")
	}
	got.onlyText(t)
	// The fix's README link stays a link: escapes must not cut it.
	links := elements(got.doc, "a")
	if !slicesContain(hrefs(links), "https://github.com/realm-ai/hookcert#signature_checks") {
		t.Errorf("the fix's link is not kept whole; links: %v", hrefs(links))
	}
	for _, a := range links {
		if strings.Contains(attr(a, "href"), "evil.example") && text(a) != "https://evil.example/" {
			t.Errorf("the observation's [click](...) became a link reading %q", text(a))
		}
	}
}

func hrefs(as []*html.Node) []string {
	var out []string
	for _, a := range as {
		out = append(out, attr(a, "href"))
	}
	return out
}

// TestMarkdownVerdicts: the heading carries the verdict, the target and
// the exit status; the failure table appears only when a check failed or
// warned.
func TestMarkdownVerdicts(t *testing.T) {
	pass := harness.Result{ID: "SIG-01", Title: "Signed", Level: harness.Must, Category: "signature", Verdict: harness.Pass}
	warn := harness.Result{ID: "SIG-06", Title: "Stale", Level: harness.Should, Category: "signature", Verdict: harness.Warn}
	skip := harness.Result{ID: "ORD-04", Title: "Order", Level: harness.Must, Category: "ordering", Verdict: harness.Skip, Reason: "no probe"}
	strictFail := warn
	strictFail.Verdict = harness.Fail
	for _, tc := range []struct {
		why      string
		results  []harness.Result
		strict   bool
		complete bool
		err      error
		heading  string
		// rows are the ID and level cells of the failure table; nil
		// when there must be no table.
		rows  [][2]string
		error string
	}{
		{"a compliant run has no failure table", []harness.Result{pass}, false, true, nil,
			"✓ COMPLIANT: https://example.com/webhook (exit 0)", nil, ""},
		{"warnings pass the gate and are listed", []harness.Result{pass, warn}, false, true, nil,
			"✓ COMPLIANT WITH WARNINGS: https://example.com/webhook (exit 0)", [][2]string{{"SIG-06", "SHOULD"}}, ""},
		{"a skip is no failure: partial, no table", []harness.Result{pass, skip}, false, true, nil,
			"✓ PARTIAL: https://example.com/webhook (exit 0)", nil, ""},
		{"a SHOULD failed under strict reads apart from a warning", []harness.Result{pass, strictFail}, true, true, nil,
			"✗ NOT COMPLIANT: https://example.com/webhook (exit 1)", [][2]string{{"SIG-06", "SHOULD (strict)"}}, ""},
		{"a run that could not be made says why", nil, false, false, errors.New("probe: GET <http://probe>/events: connection refused"),
			"✗ NOT CERTIFIED: https://example.com/webhook (exit 2)", nil,
			"The run could not be made in full (exit 2): probe: GET <http://probe>/events: connection refused"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			r := report.New("https://example.com/webhook", report.Settings{Strict: tc.strict})
			r.Finish(tc.results, tc.complete, tc.err)
			got := render(t, r, report.HTMLFile)
			if h := elements(got.doc, "h2"); len(h) != 1 || text(h[0]) != tc.heading {
				t.Errorf("headings %q, want one reading %q", texts(h), tc.heading)
			}
			rows := got.table(failureHeader...)
			switch {
			case tc.rows == nil && rows != nil:
				t.Errorf("a failure table with %d rows, want none", len(rows)-1)
			case tc.rows != nil && len(rows) != len(tc.rows)+1:
				t.Errorf("failure table %q, want the rows %q", rows, tc.rows)
			}
			for i, want := range tc.rows {
				if i+1 < len(rows) && (rows[i+1][0] != want[0] || rows[i+1][1] != want[1]) {
					t.Errorf("row %d: %q, want ID %s and level %s", i+1, rows[i+1], want[0], want[1])
				}
			}
			if tc.error != "" && !slicesContain(texts(elements(got.doc, "p")), tc.error) {
				t.Errorf("no paragraph reads %q; paragraphs: %q", tc.error, texts(elements(got.doc, "p")))
			}
			got.onlyText(t)
		})
	}
}

func texts(ns []*html.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, text(n))
	}
	return out
}

func slicesContain(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestMarkdownLoad: a load report shows its figures in a small table; the
// retry rows and the capacity edges only when the report has them.
func TestMarkdownLoad(t *testing.T) {
	conf, _ := split(t)
	storm := withRetries(t)
	storm.Load.Retries.Amplification = 1.2
	for _, tc := range []struct {
		why    string
		r      *report.Report
		want   map[string]string
		absent []string
	}{
		{"a conformance run has no load section", conf, nil, nil},
		{"a load run without retry figures counts its deliveries", sample(t), map[string]string{
			"rate":         "50/s for 20s",
			"deliveries":   "1000",
			"latency":      "p50 38ms · p90 120ms · p99 412ms · max 1.3s (ack deadline 1s)",
			"answered 2xx": "99.50 % (995 of 1000)",
		}, []string{"events", "amplification (deliveries ÷ events)", "capacity: highest rate held"}},
		{"a retrying load with a capacity search", withRetries(t), map[string]string{
			"events":                              "1000",
			"deliveries":                          "1005",
			"latency, first attempts":             "p50 38ms · p90 120ms · p99 412ms · max 1.3s (ack deadline 1s)",
			"retries":                             "on: 1s, 2s, 4s",
			"amplification (deliveries ÷ events)": "1.005×",
			"never acknowledged":                  "4 events (0.40 %)",
			"capacity: highest rate held":         "200/s",
			"capacity: retry-storm edge (amplification < 1.01)": "100/s",
		}, nil},
		{"a retry storm is named", storm, map[string]string{
			"amplification (deliveries ÷ events)": "1.200× (≥ 1.01: a retry storm)",
		}, nil},
	} {
		t.Run(tc.why, func(t *testing.T) {
			got := render(t, tc.r, report.HTMLFile)
			load := got.values("measure", "value")
			if tc.want == nil {
				if load != nil || strings.Contains(got.md, "### Load") {
					t.Errorf("a load section in a report without load:\n%s", got.md)
				}
				return
			}
			for k, v := range tc.want {
				if load[k] != v {
					t.Errorf("load %q = %q, want %q", k, load[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := load[k]; ok {
					t.Errorf("load has a %q row it has no figure for", k)
				}
			}
		})
	}
}

// TestMarkdownSettings: the settings table names every setting of the
// run, a label filter with pipes included.
func TestMarkdownSettings(t *testing.T) {
	r := report.New("https://example.com/webhook", report.Settings{
		AckDeadline: harness.Duration(time.Second), SenderTimeout: harness.Duration(5 * time.Second),
		RetrySchedule: []harness.Duration{harness.Duration(time.Second), harness.Duration(2 * time.Second)},
		Settle:        harness.Duration(3 * time.Second), DedupeGap: harness.Duration(2 * time.Second),
		Scheme: "stripe", Labels: "signature || idempotency && !slow", Strict: true, Insecure: true,
		HTTPVersion: harness.HTTP2, Probe: false, Reference: true, Faults: []string{"slow-ack", "double-process"},
	})
	r.Finish(nil, true, nil)
	got := render(t, r, report.HTMLFile).values("setting", "value")
	for k, v := range map[string]string{
		"ack deadline":       "1s",
		"sender timeout":     "5s",
		"retry schedule":     "1s, 2s",
		"settle":             "3s",
		"dedupe gap":         "2s",
		"signing scheme":     "stripe",
		"labels":             "signature || idempotency && !slow",
		"strict":             "on",
		"insecure":           "on: certificates not verified",
		"HTTP":               "HTTP_VERSION=2",
		"probe":              "no",
		"reference receiver": "yes, with planted faults: slow-ack, double-process",
	} {
		if got[k] != v {
			t.Errorf("setting %q = %q, want %q", k, got[k], v)
		}
	}
	plain := render(t, sample(t), report.HTMLFile).values("setting", "value")
	for k, v := range map[string]string{"signing scheme": "REALM v1", "labels": "none: the default catalogue", "reference receiver": "no", "probe": "yes"} {
		if plain[k] != v {
			t.Errorf("the sample's setting %q = %q, want %q", k, plain[k], v)
		}
	}
	for _, k := range []string{"settle", "dedupe gap"} {
		if _, ok := plain[k]; ok {
			t.Errorf("the sample has no %s, but the table shows one", k)
		}
	}
}

// TestMarkdownPointsToTheHTML: the last line names the HTML report; a URL
// becomes a link, and no name leaves the line out.
func TestMarkdownPointsToTheHTML(t *testing.T) {
	const lead = "The full report, with the evidence of every check: "
	for _, tc := range []struct {
		why, name, line, href string
	}{
		{"a file in the CI artifact", "reports/index.html", lead + "`reports/index.html`", ""},
		{"an artifact URL is a link", "https://ci.example.com/jobs/1/artifacts/index.html", lead + "<https://ci.example.com/jobs/1/artifacts/index.html>", "https://ci.example.com/jobs/1/artifacts/index.html"},
		{"a URL with a space is no link", "https://ci.example.com/my report.html", lead + "`https://ci.example.com/my report.html`", ""},
		{"no name, no line", "", "", ""},
	} {
		t.Run(tc.why, func(t *testing.T) {
			got := render(t, sample(t), tc.name)
			lines := strings.Split(strings.TrimSuffix(got.md, "\n"), "\n")
			last := lines[len(lines)-1]
			if tc.line == "" {
				if strings.HasPrefix(last, lead) {
					t.Errorf("a pointer without a name: %q", last)
				}
				return
			}
			if last != tc.line {
				t.Errorf("last line %q, want %q", last, tc.line)
			}
			ps := elements(got.doc, "p")
			if p := ps[len(ps)-1]; text(p) != lead+tc.name {
				t.Errorf("the last paragraph reads %q", text(p))
			} else if a := elements(p, "a"); (tc.href == "") != (len(a) == 0) || (len(a) > 0 && attr(a[0], "href") != tc.href) {
				t.Errorf("links of the last paragraph %v, want %q", hrefs(a), tc.href)
			}
		})
	}
}

// TestMarkdownIsTidy: the Markdown is the same each time (maps must not
// leak their order), no line ends in whitespace, no run of blank lines
// and one final newline, so that appending it to a job summary after
// another step's leaves both readable.
func TestMarkdownIsTidy(t *testing.T) {
	notCertified := report.New("", report.Settings{})
	notCertified.Finish(nil, false, errors.New("the target is unreachable\n"))
	for name, r := range map[string]*report.Report{"sample": sample(t), "retries": withRetries(t), "hostile": hostile(), "not certified": notCertified} {
		md := r.Markdown(report.HTMLFile)
		for i := 0; i < 10; i++ {
			if again := r.Markdown(report.HTMLFile); again != md {
				t.Fatalf("%s: two renderings differ", name)
			}
		}
		for i, line := range strings.Split(md, "\n") {
			if strings.TrimRight(line, " \t") != line {
				t.Errorf("%s: line %d ends in whitespace: %q", name, i+1, line)
			}
		}
		if strings.Contains(md, "\n\n\n") || !strings.HasSuffix(md, "\n") || strings.HasSuffix(md, "\n\n") || strings.HasPrefix(md, "\n") {
			t.Errorf("%s: blank lines astray or no final newline:\n%q", name, md)
		}
	}
}

func TestMarkdownGolden(t *testing.T) {
	golden(t, "sample.golden.md", []byte(sample(t).Markdown(report.HTMLFile)))
}

// FuzzMarkdownCell: whatever a check observed, its cell shows exactly that
// text (clipped) and nothing of it becomes markup or another cell.
func FuzzMarkdownCell(f *testing.F) {
	for _, s := range []string{hostileText, "a|b", "`", "\\", "<br>", "&amp;", "_a_", "x~~y~~", "![i](u)", "$$x$$", "a\n\nb", "*/*", "https://x.example/a_b",
		// Found by the fuzzer: a tilde strikes through even between
		// digits, and a bare & in an address is no entity.
		"0~0~0", "https://x.example/?a=1&b=2#&0", "https://0.a#0\"00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, observed string) {
		if !utf8.ValidString(observed) || strings.ContainsFunc(observed, func(c rune) bool {
			// Controls other than newlines and tabs, and the Unicode
			// line separators, are not text a report holds.
			return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\ufffd'
		}) {
			t.Skip()
		}
		r := report.New("https://example.com/webhook", report.Settings{})
		r.Finish([]harness.Result{{ID: "SIG-02", Title: "t", Level: harness.Must, Category: "signature", Verdict: harness.Fail, Observed: observed}}, true, nil)
		got := render(t, r, "")
		rows := got.table(failureHeader...)
		if len(rows) != 2 || len(rows[1]) != len(failureHeader) {
			t.Fatalf("the table is broken: %q\n%s", rows, got.md)
		}
		got.onlyText(t)
		if entityInAddress(observed) {
			return
		}
		if want := cellText(observed); rows[1][4] != want {
			t.Errorf("the cell reads %q, want %q\n%s", rows[1][4], want, got.md)
		}
	})
}

// entityInAddress says whether s holds an entity's text (&lt;) where it
// could be inside an address. goldmark's automatic links read the
// Markdown source, so such an entity, which the summary escapes, shows
// its escape there (&amp;lt;): a character reads wrong, no markup is
// added.
func entityInAddress(s string) bool {
	return regexp.MustCompile(`&#?[0-9A-Za-z]+;`).MatchString(s) && regexp.MustCompile(`://|www\.|@`).MatchString(s)
}

// cellText is what a cell shows of s: trimmed, with CR and CRLF as
// newlines, clipped to 600 characters.
func cellText(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
	if rs := []rune(s); len(rs) > 600 {
		s = strings.TrimSpace(string(rs[:600])) + "…"
	}
	return s
}

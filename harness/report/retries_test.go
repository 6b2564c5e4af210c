package report_test

// Tests of the retry figures (DESIGN section 10) in every report format:
// the HTML's retry block and capacity table, junit.xml's properties, the
// console summary, and the merge of load sections that hold them.

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

func ms(n float64) harness.Duration { return harness.Duration(n * float64(time.Millisecond)) }

// withRetries is the sample's load run as the retrying generator reports
// it, with a capacity search beside it. Of the 1000 first attempts, 5 were
// not acknowledged; 2 of their retries were dropped at the cap of 64
// pending retries, 3 were sent as attempt 2 (1 acknowledged), 2 as
// attempt 3 (none), and those 2 were still pending when the run ended:
// 4 events never acknowledged, 1005 deliveries.
func withRetries(t *testing.T) *report.Report {
	t.Helper()
	_, r := split(t)
	r.Load.Retries = &report.Retries{
		Enabled:           true,
		Schedule:          []harness.Duration{ms(1000), ms(2000), ms(4000)},
		Events:            1000,
		Deliveries:        1005,
		Amplification:     1.005,
		ByAttempt:         []report.AttemptCount{{Attempt: 2, Deliveries: 3, OK: 1}, {Attempt: 3, Deliveries: 2, OK: 0}},
		NeverAcknowledged: 4,
		Pending:           2,
		PendingCap:        64,
		CapDropped:        2,
		AllAttempts:       report.Latencies{Min: ms(2.1), Mean: ms(70), P50: ms(39), P90: ms(130), P95: ms(230), P99: ms(1600), Max: ms(5000)},
	}
	r.Load.Capacity = &report.Capacity{
		HighestRate: 200, StormEdge: 100, StormSearched: true,
		Steps: []report.CapacityStep{
			{Rate: 50, Requests: 1000, P99: ms(120), Success: 1, Held: true, Amplification: 1, Calm: true},
			{Rate: 100, Requests: 2000, P99: ms(300), Success: 0.9995, Held: true, Amplification: 1.004, Calm: true},
			{Rate: 200, Requests: 4000, P99: ms(900), Success: 0.999, Held: true, Amplification: 1.032},
			{Rate: 400, Requests: 8000, P99: ms(2100), Success: 0.97, Amplification: 1.41},
		},
		StoppedBecause: "200/s did hold and 400/s did not; 100/s did stay calm and 200/s did not",
	}
	r.Conclude()
	return r
}

// loadSection returns the page's load section, and checks that it is
// well-formed: it holds no void element but the SVG's self-closed ones,
// so an XML reader must find every element closed in order, which a
// misplaced {{end}} in the template would break.
func loadSection(t *testing.T, r *report.Report) string {
	t.Helper()
	html, err := r.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	start := strings.Index(page, `<section id="load">`)
	if start < 0 {
		t.Fatal("the page has no load section")
	}
	end := strings.Index(page[start:], "</section>")
	sec := page[start : start+end+len("</section>")]
	d := xml.NewDecoder(strings.NewReader(sec))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the load section is not well-formed: %v\n%s", err, sec)
		}
	}
	return sec
}

func TestHTMLRetriesGolden(t *testing.T) {
	html, err := withRetries(t).HTML()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "retries.golden.html", html)
}

func TestHTMLShowsRetries(t *testing.T) {
	sec := loadSection(t, withRetries(t))
	for _, want := range []string{
		// The load section's own figures are the first attempts'.
		"which LOAD-01 and LOAD-02 judge",
		"<dt>first attempts</dt><dd>1000</dd>",
		"<dt>p99, first attempts</dt>",
		"<figcaption>Latency percentiles, first attempts; the table adds every attempt's</figcaption>",
		"<figcaption>Latency histogram, first attempts</figcaption>",
		"<figcaption>Latency over time, first attempts</figcaption>",
		`<th scope="row">first attempts</th><td>2.1ms</td><td>61ms</td><td>38ms</td>`,
		`<th scope="row">all attempts</th><td>2.1ms</td><td>70ms</td><td>39ms</td><td>130ms</td><td>230ms</td><td class="bad">1.6s</td><td class="bad">5s</td></tr>`,
		// The retry block.
		`<div id="load-retries">`,
		"<dt>retries</dt><dd>on: 1s, 2s, 4s</dd>",
		"<dt>events</dt><dd>1000</dd>",
		"<dt>deliveries</dt><dd>1005</dd>",
		`<dt>amplification (deliveries ÷ events)</dt><dd class="ok">1.005×</dd>`,
		`<dt>never acknowledged after every retry</dt><dd class="bad">4 events (0.40 %)</dd>`,
		"<dt>retries pending at the end</dt><dd>2</dd>",
		`<dt>retries dropped at the cap</dt><dd class="bad">2: the cap of 64 pending retries was reached</dd>`,
		"<tr><td>1 (first)</td><td>1000</td><td>995</td></tr>",
		"<tr><td>2</td><td>3</td><td>1</td></tr>",
		"<tr><td>3</td><td>2</td><td>0</td></tr>",
		// The capacity table names both edges, with the amplification of each rate.
		"<caption>Capacity search: highest rate held (p99 within the deadline, ≥ 99.9 % 2xx): 200/s; retry-storm edge (amplification &lt; 1.01): 100/s; 200/s did hold",
		"<th></th><th>amplification</th><th></th></tr>",
		`<td>100/s</td><td>2000</td><td>300ms</td><td>99.95 %</td><td class="ok">held</td><td>1.004×</td><td class="ok">calm</td></tr>`,
		`<td>200/s</td><td>4000</td><td>900ms</td><td>99.90 %</td><td class="ok">held</td><td>1.032×</td><td class="bad">storm</td></tr>`,
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("the load section lacks %q", want)
		}
	}
	if i, j := strings.Index(sec, `id="load-retries"`), strings.Index(sec, `class="charts"`); i > j {
		t.Error("the retry block comes after the charts; want it beside the load's headline figures")
	}
}

// TestHTMLRetriesVariants: each row changes the fixture in one way and
// says what the page must then show, and must not.
func TestHTMLRetriesVariants(t *testing.T) {
	for _, tc := range []struct {
		why    string
		change func(*report.Load)
		want   []string
		absent []string
	}{
		{"an amplification at the storm threshold is a retry storm",
			func(l *report.Load) { l.Retries.Amplification = 1.01 },
			[]string{`<dd class="bad">1.010× (≥ 1.01: a retry storm)</dd>`}, nil},
		{"nothing pending and nothing dropped: no such rows",
			func(l *report.Load) { l.Retries.Pending, l.Retries.CapDropped = 0, 0 },
			nil, []string{"pending at the end", "dropped at the cap", "the cap of"}},
		{"every event acknowledged is good news",
			func(l *report.Load) { l.Retries.NeverAcknowledged = 0 },
			[]string{"<dt>never acknowledged after every retry</dt><dd>0 events (0.00 %)</dd>"}, nil},
		{"retries off: no schedule, and the single attempt is the whole schedule",
			func(l *report.Load) {
				l.Retries = &report.Retries{Events: 1000, Deliveries: 1000, Amplification: 1, NeverAcknowledged: 5, AllAttempts: l.Latencies}
				l.Capacity.StormSearched, l.Capacity.StormEdge = false, 0
			},
			[]string{"<dt>retries</dt><dd>off</dd>", `<dd class="ok">1.000×</dd>`, "<dt>never acknowledged</dt>",
				"retry-storm edge (amplification &lt; 1.01): not searched: retries off;",
				`<td class="ok">held</td><td>1.000×</td><td></td></tr>`},
			[]string{"<tr><td>2</td>", ">calm<", ">storm<"}},
		{"a search in which no rate stayed calm says so",
			func(l *report.Load) { l.Capacity.StormEdge = 0 },
			[]string{"retry-storm edge (amplification &lt; 1.01): no rate stayed calm;"}, nil},
		{"a report written before the load test retried renders as it always did",
			func(l *report.Load) { l.Retries = nil; l.Capacity.StormSearched = false },
			[]string{"<dt>requests</dt><dd>1000</dd>", "<dt>p99</dt>", "<figcaption>Latency percentiles</figcaption>",
				"<caption>Capacity search: highest rate held 200/s; 200/s did hold",
				`<tr><th>rate</th><th>requests</th><th>p99</th><th>2xx</th><th></th></tr>`},
			[]string{"load-retries", "first attempts", "all attempts", "amplification", "retry-storm"}},
	} {
		t.Run(tc.why, func(t *testing.T) {
			r := withRetries(t)
			tc.change(r.Load)
			sec := loadSection(t, r)
			for _, w := range tc.want {
				if !strings.Contains(sec, w) {
					t.Errorf("the load section lacks %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(sec, a) {
					t.Errorf("the load section shows %q", a)
				}
			}
		})
	}
}

// TestHTMLLoadSectionWithoutRetries: the sample is a report written
// before the load test retried (TestHTMLGolden and TestJUnitGolden show
// it renders byte for byte as it did); its load section is well-formed.
func TestHTMLLoadSectionWithoutRetries(t *testing.T) {
	r := sample(t)
	if r.Load == nil || r.Load.Retries != nil {
		t.Fatal("the sample must be a load section without retry figures")
	}
	loadSection(t, r)
}

func TestBrowserRendersRetries(t *testing.T) {
	r := withRetries(t)
	page := writePage(t, r)
	dom := browse(t, "1280,900", page, "--dump-dom")
	checkDOM(t, dom, r)
	for _, want := range []string{`<div id="load-retries">`, "1.005×", "all attempts", "retry-storm edge"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if phone := measure(t, page, 390, 844); phone.SW > phone.VW+1 {
		t.Errorf("on a 390px phone the page with retries is %.0fpx wide: it scrolls sideways", phone.SW)
	}
}

// props returns the properties of each test case of a junit.xml, by check
// ID.
func props(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, s := range parse(t, path).Suites {
		for _, c := range s.Cases {
			id, _, _ := strings.Cut(c.Name, ": ")
			out[id] = map[string]string{}
			for _, p := range c.Props {
				out[id][p.Name] = p.Value
			}
		}
	}
	return out
}

// TestJUnitRetriesGolden compares the junit.xml of a load with retry
// figures byte for byte with testdata/retries.golden.xml (-update rewrites
// it).
func TestJUnitRetriesGolden(t *testing.T) {
	got, err := os.ReadFile(writeJUnit(t, withRetries(t)))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "retries.golden.xml", got)
}

func TestJUnitRetryProperties(t *testing.T) {
	r := withRetries(t)
	path := writeJUnit(t, r)
	xmllint(t, path)
	sameCounts(t, r, consume(t, path))
	got := props(t, path)
	want := map[string]string{
		"verdict":                        `"INFO"`,
		"level":                          `"INFO"`,
		"load.retries.enabled":           "true",
		"load.retries.schedule":          `["1s","2s","4s"]`,
		"load.retries.events":            "1000",
		"load.retries.deliveries":        "1005",
		"load.retries.amplification":     "1.005",
		"load.retries.attempt2":          "3",
		"load.retries.attempt2.ok":       "1",
		"load.retries.attempt3":          "2",
		"load.retries.attempt3.ok":       "0",
		"load.retries.neverAcknowledged": "4",
		"load.retries.pending":           "2",
		"load.retries.pendingCap":        "64",
		"load.retries.capDropped":        "2",
		"load.latency.firstAttempts.p50": `"38ms"`,
		"load.latency.firstAttempts.p99": `"412ms"`,
		"load.latency.allAttempts.p50":   `"39ms"`,
		"load.latency.allAttempts.p99":   `"1.6s"`,
		"load.capacity.highestRate":      "200",
		"load.capacity.stormSearched":    "true",
		"load.capacity.stormEdge":        "100",
	}
	// LOAD-04, the measurement, carries the figures; the verdicts do not.
	for name, v := range want {
		if got["LOAD-04"][name] != v {
			t.Errorf("LOAD-04: property %s = %q, want %q", name, got["LOAD-04"][name], v)
		}
	}
	if len(got["LOAD-04"]) != len(want) {
		t.Errorf("LOAD-04 has properties %v, want exactly %v", got["LOAD-04"], want)
	}
	for _, id := range []string{"LOAD-01", "LOAD-02", "LOAD-03"} {
		if len(got[id]) != 2 {
			t.Errorf("%s has properties %v, want only its verdict and level", id, got[id])
		}
	}

	t.Run("with retries off the storm edge is not searched", func(t *testing.T) {
		r := withRetries(t)
		r.Load.Retries.Enabled, r.Load.Retries.Schedule = false, nil
		r.Load.Capacity.StormSearched, r.Load.Capacity.StormEdge = false, 0
		p := props(t, writeJUnit(t, r))["LOAD-04"]
		if p["load.retries.enabled"] != "false" || p["load.retries.schedule"] != "[]" || p["load.capacity.stormSearched"] != "false" {
			t.Errorf("properties %v, want retries off, an empty schedule and the storm edge not searched", p)
		}
		if _, ok := p["load.capacity.stormEdge"]; ok {
			t.Error("a storm edge that was not searched is written as a property")
		}
	})
	t.Run("without an INFO check the first load check carries them", func(t *testing.T) {
		r := withRetries(t)
		r.Results = slices.DeleteFunc(r.Results, func(res harness.Result) bool { return res.Level == harness.Info })
		p := props(t, writeJUnit(t, r))
		if p["LOAD-01"]["load.retries.amplification"] != "1.005" || len(p["LOAD-02"]) != 2 {
			t.Errorf("LOAD-01 %v, LOAD-02 %v: want the figures on LOAD-01 alone", p["LOAD-01"], p["LOAD-02"])
		}
	})
	t.Run("a report without retry figures has no load properties", func(t *testing.T) {
		r := withRetries(t)
		r.Load.Retries = nil
		for id, p := range props(t, writeJUnit(t, r)) {
			if len(p) != 2 {
				t.Errorf("%s has properties %v, want only its verdict and level", id, p)
			}
		}
	})
}

func TestSummaryShowsRetries(t *testing.T) {
	s := withRetries(t).Summary()
	want := "retries on (1s, 2s, 4s): amplification 1.005× (1005 deliveries for 1000 events); 4 events never acknowledged; 2 retries pending at the end; 2 retries dropped: the cap of 64 pending retries was reached; retry-storm edge (amplification < 1.01): 100/s\n"
	if !strings.Contains(s, want) {
		t.Errorf("summary lacks %q:\n%s", want, s)
	}
	r := withRetries(t)
	r.Load.Retries = &report.Retries{Events: 1000, Deliveries: 1000, Amplification: 1, NeverAcknowledged: 1}
	r.Load.Capacity = nil
	if s := r.Summary(); !strings.Contains(s, "retries off: amplification 1.000× (1000 deliveries for 1000 events); 1 event never acknowledged\n") {
		t.Errorf("summary of a run with retries off:\n%s", s)
	}
	// A run that sent fewer events than its rate and duration planned
	// says so: under a receiver too slow for the rate, the deliveries
	// waiting on it and their retries hold the generator.
	r.Load.Retries = &report.Retries{Enabled: true, Events: 600, Deliveries: 1400, Amplification: 2.333}
	const short = "only 600 of the 1000 events planned at 50/s for 20s were sent"
	if s := r.Summary(); !strings.Contains(s, "; "+short+"\n") {
		t.Errorf("summary of a run short of its plan lacks %q:\n%s", short, s)
	}
	if md := r.Markdown(""); !strings.Contains(md, "| events | 600 ("+short+") |") {
		t.Errorf("Markdown of a run short of its plan lacks %q in its events row:\n%s", short, md)
	}
	if page := loadSection(t, r); !strings.Contains(page, "<dt>events</dt><dd>600 ("+short+")</dd>") {
		t.Errorf("the HTML of a run short of its plan lacks %q in its events row:\n%s", short, page)
	}
	if s := sample(t).Summary(); strings.Contains(s, "amplification") {
		t.Errorf("a report without retry figures mentions them:\n%s", s)
	}
}

// retryPart is one generator's load section with retry figures, for the
// merge tests.
func retryPart(t *testing.T, attacker string, r report.Retries) *report.Report {
	t.Helper()
	_, p := split(t)
	p.Results = nil
	p.Load.Attackers, p.Load.ResultsFiles = []string{attacker}, []string{"load-" + attacker + ".gob"}
	p.Load.Retries = &r
	return p
}

func TestMergeAddsRetries(t *testing.T) {
	a := retryPart(t, "attacker-1", report.Retries{
		Schedule: nil, Events: 1000, Deliveries: 1010, Amplification: 1.01,
		ByAttempt:         []report.AttemptCount{{Attempt: 2, Deliveries: 8, OK: 6}, {Attempt: 3, Deliveries: 2, OK: 1}},
		NeverAcknowledged: 1, Pending: 1, PendingCap: 64, CapDropped: 0,
		AllAttempts: report.Latencies{Min: ms(3), Mean: ms(50), P50: ms(40), P90: ms(90), P95: ms(100), P99: ms(800), Max: ms(2000)},
	})
	b := retryPart(t, "attacker-2", report.Retries{
		Enabled: true, Schedule: []harness.Duration{ms(1000), ms(2000)}, Events: 3000, Deliveries: 3050, Amplification: 3050.0 / 3000,
		ByAttempt:         []report.AttemptCount{{Attempt: 2, Deliveries: 40, OK: 30}, {Attempt: 4, Deliveries: 10, OK: 2}},
		NeverAcknowledged: 8, Pending: 0, PendingCap: 64, CapDropped: 5,
		AllAttempts: report.Latencies{Min: ms(2), Mean: ms(10), P50: ms(30), P90: ms(95), P95: ms(99), P99: ms(700), Max: ms(3000)},
	})
	before := *a.Load.Retries
	before.ByAttempt = slices.Clone(before.ByAttempt)
	m, err := report.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Load.Retries
	if r == nil {
		t.Fatal("the merged load section lost its retry figures")
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"retries were on if on in either part", r.Enabled, true},
		{"the schedule is the first part's that has one", schedule(r.Schedule), "1s 2s"},
		{"events add up", r.Events, 4000},
		{"deliveries add up", r.Deliveries, 4060},
		{"the amplification is recomputed from the sums", r.Amplification, 4060.0 / 4000},
		{"attempts add up by attempt number", attempts(r.ByAttempt), "2:48/36 3:2/1 4:10/2"},
		{"never acknowledged adds up", r.NeverAcknowledged, 9},
		{"pending adds up", r.Pending, 1},
		{"the caps add up", r.PendingCap, 128},
		{"dropped adds up", r.CapDropped, 5},
		{"min of every attempt is exact", time.Duration(r.AllAttempts.Min), 2 * time.Millisecond},
		{"the mean of every attempt is weighted by deliveries", r.AllAttempts.Mean, harness.Duration((float64(ms(50))*1010 + float64(ms(10))*3050) / 4060)},
		{"p99 of every attempt keeps the slower part", time.Duration(r.AllAttempts.P99), 800 * time.Millisecond},
		{"max of every attempt is exact", time.Duration(r.AllAttempts.Max), 3 * time.Second},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if !slices.Equal(a.Load.Retries.ByAttempt, before.ByAttempt) || a.Load.Retries.Events != before.Events {
		t.Error("merging modified an input's retry figures")
	}
	m.Load.Retries.ByAttempt[0].Deliveries = -1
	if a.Load.Retries.ByAttempt[0].Deliveries == -1 || b.Load.Retries.ByAttempt[0].Deliveries == -1 {
		t.Error("the merged retry figures share their attempts with an input")
	}

	t.Run("a part written before the load test retried sent every event once", func(t *testing.T) {
		_, old := split(t)
		old.Results = nil
		m, err := report.Merge(old, b)
		if err != nil {
			t.Fatal(err)
		}
		r := m.Load.Retries
		// The old part: 1000 requests, 995 answered 2xx, p99 412ms.
		if r.Events != 4000 || r.Deliveries != 4050 || r.NeverAcknowledged != 5+8 || attempts(r.ByAttempt) != "2:40/30 4:10/2" || time.Duration(r.AllAttempts.P99) != 700*time.Millisecond {
			t.Errorf("merged %+v, want the old part's requests counted as events and deliveries, its non-2xx as never acknowledged", r)
		}
	})
	t.Run("parts without retry figures merge as they always did", func(t *testing.T) {
		_, x := split(t)
		_, y := split(t)
		y.Results = nil
		m, err := report.Merge(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if m.Load.Retries != nil {
			t.Errorf("merged retry figures %+v out of none", m.Load.Retries)
		}
	})
}

// TestMergeWithMeasuresRetries: measured from the results files, the
// retry figures the files hold are the measure's; what no delivery
// records (retries on, the schedule, pending, the caps, dropped) comes
// from the parts, added up, and the events of the pending and dropped
// retries count as never acknowledged besides the measured ones.
func TestMergeWithMeasuresRetries(t *testing.T) {
	a := retryPart(t, "attacker-1", report.Retries{Enabled: true, Schedule: []harness.Duration{ms(1000)}, Events: 1, Deliveries: 1, Pending: 2, PendingCap: 64, CapDropped: 3})
	b := retryPart(t, "attacker-2", report.Retries{Events: 1, Deliveries: 1, Pending: 4, PendingCap: 32, CapDropped: 5})
	measured := report.Retries{
		Events: 5000, Deliveries: 5100, Amplification: 1.02, NeverAcknowledged: 11,
		ByAttempt:   []report.AttemptCount{{Attempt: 2, Deliveries: 100, OK: 89}},
		AllAttempts: report.Latencies{P50: ms(20), P99: ms(900)},
		// What the files cannot hold: the measure leaves it at zero.
	}
	measure := func(retries *report.Retries) report.Measure {
		return func([]string, time.Duration, time.Duration) (*report.Load, error) {
			return &report.Load{Requests: 5000, Retries: retries}, nil
		}
	}
	m, err := report.MergeWith(measure(&measured), a, b)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Load.Retries
	if r.Events != 5000 || r.Deliveries != 5100 || r.Amplification != 1.02 || r.NeverAcknowledged != 11+6+8 || attempts(r.ByAttempt) != "2:100/89" || r.AllAttempts.P99 != ms(900) {
		t.Errorf("merged %+v: want the measured events, deliveries, attempts and latencies, and never acknowledged the measured 11 plus 6 pending and 8 dropped", r)
	}
	if !r.Enabled || schedule(r.Schedule) != "1s" || r.Pending != 6 || r.PendingCap != 96 || r.CapDropped != 8 {
		t.Errorf("merged %+v: want retries on, the schedule 1s, and the parts' pending (6), caps (96) and dropped (8) added up", r)
	}
	measured.ByAttempt[0].Deliveries = -1
	if m.Load.Retries.ByAttempt[0].Deliveries == -1 {
		t.Error("the merged figures share their attempts with the measure's")
	}

	m, err = report.MergeWith(measure(nil), a, b)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Load.Retries; r == nil || r.Events != 2 || r.Pending != 6 {
		t.Errorf("a measure that counts no retries: %+v, want the parts' figures added up", r)
	}

	_, x := split(t)
	_, y := split(t)
	y.Results = nil
	y.Load.ResultsFiles = []string{"load-attacker-2.gob"}
	m, err = report.MergeWith(measure(&measured), x, y)
	if err != nil {
		t.Fatal(err)
	}
	if m.Load.Retries != nil {
		t.Errorf("parts written before the load test retried: merged retry figures %+v, want none", m.Load.Retries)
	}
}

// TestRetriesRoundTrip: report.json keeps the retry figures
// (TestReportMatchesItsSchema validates it).
func TestRetriesRoundTrip(t *testing.T) {
	r := withRetries(t)
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := report.Read(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if back.Load.Retries == nil || attempts(back.Load.Retries.ByAttempt) != "2:3/1 3:2/0" || !back.Load.Capacity.StormSearched || back.Load.Capacity.Steps[2].Amplification != 1.032 {
		t.Errorf("read back %+v, %+v", back.Load.Retries, back.Load.Capacity)
	}
}

func schedule(ds []harness.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, " ")
}

func attempts(as []report.AttemptCount) string {
	var s []string
	for _, a := range as {
		s = append(s, fmt.Sprintf("%d:%d/%d", a.Attempt, a.Deliveries, a.OK))
	}
	return strings.Join(s, " ")
}

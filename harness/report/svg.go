package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/figure"
)

// The load section draws its charts as inline SVG, computed here from the
// numbers of the Load section, so the page needs no script and no fetch.
// Every string written into the SVG is escaped; the geometry is numbers.

// loadView is the load section as the HTML shows it.
type loadView struct {
	*Load
	SuccessPct  string
	PastPct     string
	Codes       []Count
	Percentiles []percentileRow
	// AllPercentiles are every attempt's latency percentiles, shown
	// beside the first attempts' (Percentiles) when the run retried.
	AllPercentiles []percentileRow
	// P99Within says whether p99 stayed within the ack deadline (LOAD-01).
	P99Within  bool
	PercentSVG template.HTML
	Histogram  template.HTML
	OverTime   template.HTML
	// RetryBlock and CapacityTable are the retries and the capacity
	// search, nil without them.
	RetryBlock    *retriesView
	CapacityTable *capacityView
}

type percentileRow struct {
	Name  string
	Value string
	Over  bool
}

func newLoadView(l *Load) *loadView {
	v := &loadView{
		Load:       l,
		SuccessPct: figure.Percent(l.Success),
		PastPct:    figure.Percent(l.PastTimeoutShare),
	}
	for _, k := range sortedKeys(l.StatusCodes) {
		v.Codes = append(v.Codes, Count{What: k, Count: l.StatusCodes[k]})
	}
	deadline := time.Duration(l.AckDeadline)
	v.Percentiles = percentileRows(l.Latencies, deadline)
	if l.Retries != nil {
		v.AllPercentiles = percentileRows(l.Retries.AllAttempts, deadline)
	}
	v.RetryBlock, v.CapacityTable = newRetriesView(l), newCapacityView(l)
	v.P99Within = deadline <= 0 || time.Duration(l.Latencies.P99) <= deadline
	v.PercentSVG = percentileChart(l)
	if len(l.Histogram) > 0 {
		v.Histogram = histogramChart(l)
	}
	if len(l.OverTime) > 0 {
		v.OverTime = overTimeChart(l)
	}
	return v
}

// percentileRows are the cells of a row of latency percentiles; a
// latency past the deadline is marked.
func percentileRows(l Latencies, deadline time.Duration) []percentileRow {
	var out []percentileRow
	for _, p := range percentiles(l) {
		out = append(out, percentileRow{Name: p.name, Value: latency(p.d), Over: deadline > 0 && p.d > deadline})
	}
	return out
}

type namedDuration struct {
	name string
	d    time.Duration
}

func percentiles(l Latencies) []namedDuration {
	return []namedDuration{
		{"min", time.Duration(l.Min)}, {"mean", time.Duration(l.Mean)},
		{"p50", time.Duration(l.P50)}, {"p90", time.Duration(l.P90)},
		{"p95", time.Duration(l.P95)}, {"p99", time.Duration(l.P99)},
		{"max", time.Duration(l.Max)},
	}
}

// Chart geometry, in SVG user units; the SVG scales to its container.
const (
	chartW     = 640
	chartH     = 240
	padLeft    = 56
	padRight   = 16
	padTop     = 16
	padBottom  = 40
	plotW      = chartW - padLeft - padRight
	plotH      = chartH - padTop - padBottom
	labelShift = 4
)

// svgBuilder writes an SVG element by element.
type svgBuilder struct{ strings.Builder }

func newSVG(label string, w, h int) *svgBuilder {
	b := &svgBuilder{}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" class="chart">`, w, h, html.EscapeString(label))
	fmt.Fprintf(b, `<title>%s</title>`, html.EscapeString(label))
	return b
}

func (b *svgBuilder) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" class="%s"/>`, num(x1), num(y1), num(x2), num(y2), class)
}

func (b *svgBuilder) rect(x, y, w, h float64, class, title string) {
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" class="%s"><title>%s</title></rect>`,
		num(x), num(y), num(w), num(h), class, html.EscapeString(title))
}

func (b *svgBuilder) text(x, y float64, anchor, class, s string) {
	fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, num(x), num(y), anchor, class, html.EscapeString(s))
}

func (b *svgBuilder) polyline(pts [][2]float64, class, title string) {
	var p []string
	for _, pt := range pts {
		p = append(p, num(pt[0])+","+num(pt[1]))
	}
	fmt.Fprintf(b, `<polyline points="%s" class="%s"><title>%s</title></polyline>`, strings.Join(p, " "), class, html.EscapeString(title))
}

func (b *svgBuilder) done() template.HTML {
	b.WriteString(`</svg>`)
	// The builder escapes every string it writes; the rest is numbers and
	// fixed markup.
	return template.HTML(b.String())
}

// num prints a coordinate with at most one decimal, so the output is
// stable and small.
func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// niceStep returns a round step (1, 2 or 5 times a power of ten) that
// divides 0..max into about n intervals.
func niceStep(max float64, n int) float64 {
	if max <= 0 || n <= 0 {
		return 1
	}
	raw := max / float64(n)
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

// durationAxis returns the top of a duration axis that holds max, and its
// ticks: round durations from 0.
func durationAxis(max time.Duration) (time.Duration, []time.Duration) {
	if max <= 0 {
		max = time.Millisecond
	}
	step := time.Duration(niceStep(float64(max), 4))
	if step <= 0 {
		step = 1
	}
	top := time.Duration(math.Ceil(float64(max)/float64(step))) * step
	var ticks []time.Duration
	for t := time.Duration(0); t <= top; t += step {
		ticks = append(ticks, t)
	}
	return top, ticks
}

// countAxis is durationAxis for counts.
func countAxis(max int) (int, []int) {
	if max <= 0 {
		max = 1
	}
	step := int(math.Max(1, niceStep(float64(max), 4)))
	top := (max + step - 1) / step * step
	var ticks []int
	for t := 0; t <= top; t += step {
		ticks = append(ticks, t)
	}
	return top, ticks
}

// percentileChart draws the latency percentiles as horizontal bars with
// the ack deadline as a vertical line: a bar that crosses it is late.
func percentileChart(l *Load) template.HTML {
	ps := percentiles(l.Latencies)
	deadline := time.Duration(l.AckDeadline)
	max := deadline
	for _, p := range ps {
		max = maxDuration(max, p.d)
	}
	top, ticks := durationAxis(max)
	const rowH, left = 22, 56
	h := padTop + len(ps)*rowH + padBottom
	b := newSVG("latency percentiles against the ack deadline", chartW, h)
	x := func(d time.Duration) float64 { return left + float64(plotW)*float64(d)/float64(top) }
	for _, t := range ticks {
		b.line(x(t), padTop, x(t), float64(padTop+len(ps)*rowH), "grid")
		b.text(x(t), float64(padTop+len(ps)*rowH+16), "middle", "tick", t.String())
	}
	for i, p := range ps {
		y := float64(padTop + i*rowH)
		class := "bar"
		if deadline > 0 && p.d > deadline {
			class = "bar over"
		}
		b.text(left-8, y+rowH/2+labelShift, "end", "tick", p.name)
		b.rect(left, y+3, x(p.d)-left, rowH-6, class, fmt.Sprintf("%s %s", p.name, latency(p.d)))
		b.text(x(p.d)+4, y+rowH/2+labelShift, "start", "value", latency(p.d))
	}
	if deadline > 0 {
		b.line(x(deadline), padTop-6, x(deadline), float64(padTop+len(ps)*rowH), "deadline")
		b.text(x(deadline), padTop-8+labelShift, "middle", "deadline-label", "ack deadline "+deadline.String())
	}
	return b.done()
}

// histogramChart draws the latency histogram: one bar per bucket, bars of
// buckets past the ack deadline in the failure colour.
func histogramChart(l *Load) template.HTML {
	buckets := l.Histogram
	deadline := time.Duration(l.AckDeadline)
	maxCount := 0
	for _, bk := range buckets {
		maxCount = max(maxCount, bk.Count)
	}
	top, ticks := countAxis(maxCount)
	b := newSVG("latency histogram: deliveries per latency bucket", chartW, chartH)
	y := func(c int) float64 { return padTop + float64(plotH) - float64(plotH)*float64(c)/float64(top) }
	for _, t := range ticks {
		b.line(padLeft, y(t), padLeft+plotW, y(t), "grid")
		b.text(padLeft-6, y(t)+labelShift, "end", "tick", strconv.Itoa(t))
	}
	slot := float64(plotW) / float64(len(buckets))
	// Label every bucket when they fit, else every k-th.
	every := int(math.Ceil(float64(len(buckets)) * 64 / plotW))
	prev := time.Duration(0)
	for i, bk := range buckets {
		le := time.Duration(bk.Le)
		class := "bar"
		if deadline > 0 && le > deadline {
			class = "bar over"
		}
		x := padLeft + slot*float64(i)
		b.rect(x+slot*0.1, y(bk.Count), slot*0.8, y(0)-y(bk.Count), class,
			fmt.Sprintf("%d deliveries in (%s, %s]", bk.Count, prev, le))
		if i%every == 0 || i == len(buckets)-1 {
			b.text(x+slot/2, padTop+plotH+16, "middle", "tick", "≤"+le.String())
		}
		prev = le
	}
	b.line(padLeft, y(0), padLeft+plotW, y(0), "axis")
	b.text(padLeft+plotW/2, chartH-6, "middle", "axis-label", "acknowledgement latency (upper bound of bucket)")
	return b.done()
}

// overTimeChart draws p50, p99 and max latency per time slice of the
// attack, the ack deadline as a line, and marks slices with errors.
func overTimeChart(l *Load) template.HTML {
	ss := l.OverTime
	deadline := time.Duration(l.AckDeadline)
	maxLat := deadline
	var end time.Duration
	for i, s := range ss {
		maxLat = maxDuration(maxLat, time.Duration(s.Max))
		width := time.Second
		if i+1 < len(ss) {
			width = time.Duration(ss[i+1].Offset) - time.Duration(s.Offset)
		} else if i > 0 {
			width = time.Duration(s.Offset) - time.Duration(ss[i-1].Offset)
		}
		end = maxDuration(end, time.Duration(s.Offset)+width)
	}
	top, ticks := durationAxis(maxLat)
	right, xticks := durationAxis(end)
	b := newSVG("latency over time: p50, p99 and max per time slice", chartW, chartH)
	x := func(d time.Duration) float64 { return padLeft + float64(plotW)*float64(d)/float64(right) }
	y := func(d time.Duration) float64 { return padTop + float64(plotH) - float64(plotH)*float64(d)/float64(top) }
	for _, t := range ticks {
		b.line(padLeft, y(t), padLeft+plotW, y(t), "grid")
		b.text(padLeft-6, y(t)+labelShift, "end", "tick", t.String())
	}
	for _, t := range xticks {
		b.text(x(t), padTop+plotH+16, "middle", "tick", t.String())
	}
	b.line(padLeft, y(0), padLeft+plotW, y(0), "axis")
	series := []struct {
		name  string
		class string
		pick  func(Slice) harness.Duration
	}{
		{"max", "series s-max", func(s Slice) harness.Duration { return s.Max }},
		{"p99", "series s-p99", func(s Slice) harness.Duration { return s.P99 }},
		{"p50", "series s-p50", func(s Slice) harness.Duration { return s.P50 }},
	}
	for _, se := range series {
		var pts [][2]float64
		for _, s := range ss {
			pts = append(pts, [2]float64{x(time.Duration(s.Offset)), y(time.Duration(se.pick(s)))})
		}
		b.polyline(pts, se.class, se.name+" latency per slice")
	}
	for _, s := range ss {
		if s.Errors > 0 {
			b.rect(x(time.Duration(s.Offset))-2, padTop+plotH-8, 4, 8, "err",
				fmt.Sprintf("%d errors of %d requests at +%s", s.Errors, s.Requests, time.Duration(s.Offset)))
		}
	}
	if deadline > 0 {
		b.line(padLeft, y(deadline), padLeft+plotW, y(deadline), "deadline")
		b.text(padLeft+plotW, y(deadline)-4, "end", "deadline-label", "ack deadline "+deadline.String())
	}
	// Legend, top left inside the plot.
	for i, se := range []struct{ name, class string }{{"p50", "s-p50"}, {"p99", "s-p99"}, {"max", "s-max"}} {
		lx := float64(padLeft + 10 + i*64)
		b.line(lx, padTop+8, lx+18, padTop+8, "series "+se.class)
		b.text(lx+22, padTop+8+labelShift, "start", "tick", se.name)
	}
	b.text(padLeft+plotW/2, chartH-6, "middle", "axis-label", "time since the start of the attack")
	return b.done()
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// heldWord says whether a capacity step held the deadline and success
// ratio.
func heldWord(held bool) string {
	if held {
		return "held"
	}
	return "did not hold"
}

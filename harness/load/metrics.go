package load

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// Bounds of what metrics keeps, so that its memory does not grow with the
// number of requests.
const (
	// maxSlices bounds the time slices of "latency over time": a longer run
	// gets wider slices.
	maxSlices = 100
	// maxErrorKinds bounds the distinct error messages counted, otherErrors
	// included: the errors beyond the first maxErrorKinds-1 kinds are
	// counted together as otherErrors.
	maxErrorKinds = 20
	// otherErrors is the label of the errors beyond maxErrorKinds.
	otherErrors = "other errors"
)

// metrics aggregates the results of an attack as they arrive: counts by
// status, errors, latency percentiles, a latency histogram, latency over
// time and the deliveries past the sender timeout, all of first attempts;
// and the retries' figures over every attempt (a result's attempt is read
// from its URL's fragment, see attemptOf). Its memory is fixed: it keeps
// no result. Success is 2xx only; vegeta's own Metrics counts 3xx as
// success, which REALM does not. Add and Snapshot are safe for concurrent
// use.
type metrics struct {
	mu       sync.Mutex
	began    time.Time
	width    time.Duration
	timeout  time.Duration
	deadline time.Duration
	bounds   []time.Duration

	requests, ok, past int
	codes              map[int]int
	errors             map[string]int
	display            []int
	latency            *histogram
	// slices are every time slice the plan holds, allocated up front so
	// that memory does not grow as the attack goes on; used counts those
	// up to the last one a result fell in.
	slices           []*slice
	used             int
	total            float64 // nanoseconds: a sum of durations can pass 292 years
	min, max         time.Duration
	earliest, latest time.Time
	end              time.Time

	// Every attempt, first and retried.
	deliveries, maxAttempts int
	byAttempt               []report.AttemptCount // attempts 2, 3, …, those seen
	neverAcked              int                   // failed last attempts
	all                     *histogram
	allTotal                float64
	allMin, allMax          time.Duration
}

// slice is one time slice of the attack.
type slice struct {
	requests, errors int
	max              time.Duration
	min              time.Duration
	latency          *histogram
}

// newMetrics returns empty metrics for an attack that began at began and
// is planned to last planned; time slices are sized so that the plan fits
// in maxSlices of them, and no narrower than a second. senderTimeout and
// ackDeadline are the thresholds the histogram always has a bound at.
func newMetrics(began time.Time, planned, senderTimeout, ackDeadline time.Duration) *metrics {
	width := sliceWidth(planned)
	slots := make([]*slice, min(maxSlices, int(planned/width)+1))
	for i := range slots {
		slots[i] = &slice{latency: newHistogram(coarseBits)}
	}
	return &metrics{
		began:    began,
		width:    width,
		slices:   slots,
		timeout:  senderTimeout,
		deadline: ackDeadline,
		bounds:   histogramBounds(ackDeadline, senderTimeout),
		codes:    map[int]int{},
		errors:   map[string]int{},
		latency:  newHistogram(fineBits),
		all:      newHistogram(fineBits),

		maxAttempts: 1,
	}
}

// sliceWidth is the width of the time slices of a run planned to last d:
// whole seconds, at most maxSlices of them.
func sliceWidth(d time.Duration) time.Duration {
	w := (d + maxSlices - 1) / maxSlices
	return max(time.Second, w.Round(time.Second))
}

// histogramBounds are the upper bounds of the latency histogram's bars: a
// 1-2-5 series from 1 ms to 10 s, plus the ack deadline and the sender
// timeout so that the chart shows where they fall. Latencies past the last
// bound fall in a last bar that ends at the max.
func histogramBounds(extra ...time.Duration) []time.Duration {
	var b []time.Duration
	for d := time.Millisecond; d <= time.Second; d *= 10 {
		b = append(b, d, 2*d, 5*d)
	}
	b = append(b, 10*time.Second)
	for _, d := range extra {
		if d > 0 && !slices.Contains(b, d) {
			b = append(b, d)
		}
	}
	slices.Sort(b)
	return b
}

// Add counts one result.
func (m *metrics) Add(r *vegeta.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	good := success(r.Code)
	d := r.Latency
	n, most := attemptOf(r.URL)
	m.deliveries++
	m.maxAttempts = max(m.maxAttempts, most)
	if m.deliveries == 1 || d < m.allMin {
		m.allMin = d
	}
	m.allMax = max(m.allMax, d)
	m.allTotal += float64(d)
	m.all.add(d)
	if !good && n == most {
		m.neverAcked++
	}
	if n > 1 {
		// A row per attempt number seen, not per number up to it: a
		// results file read back may name any number.
		i, seen := slices.BinarySearchFunc(m.byAttempt, n, func(c report.AttemptCount, n int) int { return cmp.Compare(c.Attempt, n) })
		if !seen {
			m.byAttempt = slices.Insert(m.byAttempt, i, report.AttemptCount{Attempt: n})
		}
		c := &m.byAttempt[i]
		c.Deliveries++
		if good {
			c.OK++
		}
		return
	}
	m.requests++
	m.codes[int(r.Code)]++
	if good {
		m.ok++
	} else {
		m.countError(r)
	}
	if m.timeout > 0 && (d >= m.timeout || isTimeout(r)) {
		m.past++
	}
	m.total += float64(d)
	if m.requests == 1 || d < m.min {
		m.min = d
	}
	m.max = max(m.max, d)
	m.latency.add(d)
	i, _ := slices.BinarySearch(m.bounds, d)
	if len(m.display) <= i {
		m.display = append(m.display, make([]int, i+1-len(m.display))...)
	}
	m.display[i]++

	if m.earliest.IsZero() || r.Timestamp.Before(m.earliest) {
		m.earliest = r.Timestamp
	}
	if r.Timestamp.After(m.latest) {
		m.latest = r.Timestamp
	}
	if end := r.End(); end.After(m.end) {
		m.end = end
	}
	s := m.slice(r.Timestamp)
	s.requests++
	if !good {
		s.errors++
	}
	if s.latency.n == 0 || d < s.min {
		s.min = d
	}
	s.max = max(s.max, d)
	s.latency.add(d)
}

// slice returns the time slice of a result started at t. Results before
// the beginning count in the first slice, those past maxSlices in the last.
func (m *metrics) slice(t time.Time) *slice {
	i := 0
	if off := t.Sub(m.began); off > 0 {
		i = min(int(off/m.width), maxSlices-1)
	}
	for len(m.slices) <= i {
		m.slices = append(m.slices, &slice{latency: newHistogram(coarseBits)})
	}
	m.used = max(m.used, i+1)
	return m.slices[i]
}

// success is REALM's notion of an acknowledgement: 2xx only.
func success(code uint16) bool { return code >= 200 && code < 300 }

// isTimeout reports whether the result ended on the client's timeout.
func isTimeout(r *vegeta.Result) bool {
	return r.Code == 0 && (strings.Contains(r.Error, "Client.Timeout") || strings.Contains(r.Error, "deadline exceeded"))
}

func (m *metrics) countError(r *vegeta.Result) {
	what := errorKind(r)
	if _, ok := m.errors[what]; !ok && len(m.errors) >= maxErrorKinds-1 {
		what = otherErrors
	}
	m.errors[what]++
}

// errorKind names the failure of a result that was not a 2xx: the status
// for an answer (3xx included, which vegeta does not count as an error),
// the transport error otherwise.
func errorKind(r *vegeta.Result) string {
	if r.Code != 0 {
		return strconv.Itoa(int(r.Code)) + " " + http.StatusText(int(r.Code))
	}
	if r.Error == "" {
		return "no answer"
	}
	return r.Error
}

// snapshot is what the progress line shows of a running attack.
type snapshot struct {
	// Requests counts the first attempts (the events); Errors those not
	// answered 2xx; P99 is theirs.
	Requests int
	Errors   int
	P99      time.Duration
	// Deliveries counts every attempt, retries included.
	Deliveries int
}

// snapshot returns the figures so far.
func (m *metrics) snapshot() snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return snapshot{
		Requests:   m.requests,
		Errors:     m.requests - m.ok,
		P99:        m.latency.quantile(0.99, m.min, m.max),
		Deliveries: m.deliveries,
	}
}

// firstAttempts returns the number of first attempts added.
func (m *metrics) firstAttempts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests
}

// load returns the measured side of the report's load section; the caller
// adds what the attack itself knows (attackers, requested rate and
// duration, results files, the probe's account).
func (m *metrics) load() *report.Load {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := &report.Load{
		Requests:      m.requests,
		OK:            m.ok,
		StatusCodes:   map[string]int{},
		SenderTimeout: harness.Duration(m.timeout),
		AckDeadline:   harness.Duration(m.deadline),
		PastTimeout:   m.past,
		Histogram:     []report.Bucket{},
		OverTime:      []report.Slice{},
	}
	for code, n := range m.codes {
		l.StatusCodes[strconv.Itoa(code)] = n
	}
	for what, n := range m.errors {
		l.Errors = append(l.Errors, report.Count{What: what, Count: n})
	}
	slices.SortFunc(l.Errors, func(a, b report.Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.What, b.What))
	})
	if m.requests == 0 {
		l.Retries = m.retries()
		return l
	}
	l.Success = float64(m.ok) / float64(m.requests)
	l.PastTimeoutShare = float64(m.past) / float64(m.requests)
	if span := m.end.Sub(m.earliest); span > 0 {
		l.Throughput = float64(m.ok) / span.Seconds()
	}
	l.Latencies = percentiles(m.latency, m.min, m.max, m.total, m.requests)
	// Bars up to the ack deadline at least, so that the chart shows how
	// far the latencies are from it.
	bars := len(m.display)
	if i, ok := slices.BinarySearch(m.bounds, m.deadline); ok {
		bars = max(bars, i+1)
	}
	for i := range bars {
		le, n := m.max, 0
		if i < len(m.bounds) {
			le = m.bounds[i]
		}
		if i < len(m.display) {
			n = m.display[i]
		}
		l.Histogram = append(l.Histogram, report.Bucket{Le: harness.Duration(le), Count: n})
	}
	l.Retries = m.retries()
	for i, s := range m.slices[:m.used] {
		sl := report.Slice{Offset: harness.Duration(time.Duration(i) * m.width), Requests: s.requests, Errors: s.errors}
		if s.requests > 0 {
			sl.P50 = harness.Duration(s.latency.quantile(0.50, s.min, s.max))
			sl.P99 = harness.Duration(s.latency.quantile(0.99, s.min, s.max))
			sl.Max = harness.Duration(s.max)
		}
		l.OverTime = append(l.OverTime, sl)
	}
	return l
}

// retries returns the retry figures of every attempt; the caller adds
// what only the attack knows (the schedule, the cap, the retries pending
// or dropped).
func (m *metrics) retries() *report.Retries {
	r := &report.Retries{
		Enabled:           m.maxAttempts > 1,
		Schedule:          []harness.Duration{},
		Events:            m.requests,
		Deliveries:        m.deliveries,
		ByAttempt:         append([]report.AttemptCount{}, m.byAttempt...),
		NeverAcknowledged: m.neverAcked,
	}
	if m.requests > 0 {
		r.Amplification = float64(m.deliveries) / float64(m.requests)
	}
	if m.deliveries > 0 {
		r.AllAttempts = percentiles(m.all, m.allMin, m.allMax, m.allTotal, m.deliveries)
	}
	return r
}

// mean is total ÷ n nanoseconds within [lo, hi], clamped before it
// becomes a Duration: rounded to a float, a sum of the largest durations
// is past the largest Duration, whose conversion would wrap around.
func mean(total float64, n int, lo, hi time.Duration) time.Duration {
	m := total / float64(n)
	switch {
	case m <= float64(lo):
		return lo
	case m >= float64(hi):
		return hi
	}
	return time.Duration(m)
}

// percentiles are the latency percentiles of n latencies in h, which sum
// to total and lie within [lo, hi]; n > 0.
func percentiles(h *histogram, lo, hi time.Duration, total float64, n int) report.Latencies {
	q := func(p float64) harness.Duration { return harness.Duration(h.quantile(p, lo, hi)) }
	return report.Latencies{
		Min:  harness.Duration(lo),
		Mean: harness.Duration(mean(total, n, lo, hi)),
		P50:  q(0.50), P90: q(0.90), P95: q(0.95), P99: q(0.99),
		Max: harness.Duration(hi),
	}
}

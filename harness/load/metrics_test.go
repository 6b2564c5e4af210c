package load

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func result(at time.Duration, code uint16, latency time.Duration, errMsg string) *vegeta.Result {
	return &vegeta.Result{Timestamp: t0.Add(at), Code: code, Latency: latency, Error: errMsg}
}

// TestMetricsSuccessIs2xxOnly feeds the answers vegeta counts as success
// (2xx and 3xx) and those it does not, and checks that only 2xx count,
// as REALM counts them.
func TestMetricsSuccessIs2xxOnly(t *testing.T) {
	m := newMetrics(t0, 10*time.Second, 5*time.Second, time.Second)
	for i, code := range []uint16{200, 202, 204, 307, 301, 500, 503, 0} {
		errMsg := ""
		if code == 0 {
			errMsg = "connection refused"
		}
		m.Add(result(time.Duration(i)*time.Second, code, 10*time.Millisecond, errMsg))
	}
	l := m.load()
	if l.Requests != 8 || l.Success != 3.0/8 {
		t.Fatalf("requests %d, success %v: want 8 and 3/8 (3xx is a failure)", l.Requests, l.Success)
	}
	if s := m.snapshot(); s.Errors != 5 {
		t.Fatalf("snapshot errors %d, want 5", s.Errors)
	}
	got := map[string]int{}
	for _, e := range l.Errors {
		got[e.What] = e.Count
	}
	for _, want := range []string{"307 Temporary Redirect", "301 Moved Permanently", "500 Internal Server Error", "503 Service Unavailable", "connection refused"} {
		if got[want] != 1 {
			t.Errorf("errors %v lack %q", l.Errors, want)
		}
	}
	if l.StatusCodes["202"] != 1 || l.StatusCodes["0"] != 1 {
		t.Errorf("status codes %v", l.StatusCodes)
	}
}

func TestMetricsPastTimeout(t *testing.T) {
	m := newMetrics(t0, 10*time.Second, 5*time.Second, time.Second)
	m.Add(result(0, 200, 4900*time.Millisecond, ""))
	m.Add(result(0, 200, 5*time.Second, ""))
	m.Add(result(0, 0, 5001*time.Millisecond, `Post "https://x/webhook": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`))
	m.Add(result(0, 0, 10*time.Millisecond, "connection reset by peer"))
	l := m.load()
	if l.PastTimeout != 2 || l.PastTimeoutShare != 0.5 {
		t.Fatalf("past timeout %d (%v), want 2 (0.5): an answer at the timeout or a client timeout each mean a retry", l.PastTimeout, l.PastTimeoutShare)
	}
}

func TestMetricsHistogramAndSlices(t *testing.T) {
	m := newMetrics(t0, 3*time.Second, 5*time.Second, 1500*time.Millisecond)
	lat := []time.Duration{500 * time.Microsecond, 3 * time.Millisecond, 300 * time.Millisecond, 1200 * time.Millisecond, 1600 * time.Millisecond, 12 * time.Second}
	for i, d := range lat {
		m.Add(result(time.Duration(i)*500*time.Millisecond, 200, d, ""))
	}
	l := m.load()
	total, deadlineBar := 0, false
	for i, b := range l.Histogram {
		total += b.Count
		if time.Duration(b.Le) == 1500*time.Millisecond {
			deadlineBar = true
		}
		if i > 0 && b.Le <= l.Histogram[i-1].Le {
			t.Fatalf("histogram bounds are not increasing: %v", l.Histogram)
		}
	}
	if total != len(lat) || !deadlineBar {
		t.Fatalf("histogram %v: want %d latencies and a bar at the 1.5s ack deadline", l.Histogram, len(lat))
	}
	if last := l.Histogram[len(l.Histogram)-1]; time.Duration(last.Le) != 12*time.Second || last.Count != 1 {
		t.Fatalf("the last bar %v should hold the 12s latency past the last bound (10s) and end at it", last)
	}
	if got := over(l, 1500*time.Millisecond); got != 2 {
		t.Fatalf("%d latencies over the deadline, want 2", got)
	}
	if len(l.OverTime) != 3 {
		t.Fatalf("%d slices, want 3 one-second slices", len(l.OverTime))
	}
	for i, s := range l.OverTime {
		if s.Requests != 2 || time.Duration(s.Offset) != time.Duration(i)*time.Second {
			t.Fatalf("slice %d: %+v, want 2 requests at offset %ds", i, s, i)
		}
	}
	if s := l.OverTime[2]; time.Duration(s.Max) != 12*time.Second || s.P99 > s.Max || s.P50 < harness.Duration(1600*time.Millisecond) {
		t.Fatalf("last slice %+v", s)
	}
}

func TestMetricsBounded(t *testing.T) {
	m := newMetrics(t0, time.Second, 5*time.Second, time.Second)
	for i := range 3 * maxErrorKinds {
		// Errors that differ by the client port, as connection errors do.
		m.Add(result(time.Duration(i)*time.Hour, 0, time.Millisecond, fmt.Sprintf("read tcp 127.0.0.1:%d->127.0.0.1:8080: connection reset by peer", 40000+i)))
	}
	l := m.load()
	if len(l.Errors) > maxErrorKinds {
		t.Fatalf("%d error kinds kept, want at most %d", len(l.Errors), maxErrorKinds)
	}
	if l.Errors[0].What != otherErrors || l.Errors[0].Count != 2*maxErrorKinds+1 {
		t.Fatalf("the errors beyond the first %d kinds are not counted together: %v", maxErrorKinds-1, l.Errors[0])
	}
	if len(l.OverTime) > maxSlices {
		t.Fatalf("%d slices for a run planned at 1s but lasting hours: want at most %d", len(l.OverTime), maxSlices)
	}
}

// TestMetricsOfAResultsFileReadBack: a results file read back may name any
// attempt number and any latency; the figures stay as many as the results
// and the mean within the extremes.
func TestMetricsOfAResultsFileReadBack(t *testing.T) {
	m := newMetrics(t0, time.Second, 5*time.Second, time.Second)
	first := result(0, 202, 1<<63-1, "")
	m.Add(first)
	m.Add(result(0, 202, 1<<63-1, ""))
	retry := result(0, 202, time.Millisecond, "")
	retry.URL = "https://example.test/webhook#attempt=1000000000/1000000000"
	m.Add(retry)
	l := m.load()
	if by := l.Retries.ByAttempt; len(by) != 1 || by[0].Attempt != 1000000000 || by[0].Deliveries != 1 {
		t.Fatalf("one retry of attempt 1000000000 makes the rows %v", by)
	}
	if got := time.Duration(l.Latencies.Mean); got != 1<<63-1 {
		t.Fatalf("the mean of two latencies of the largest Duration is %s", got)
	}
}

func TestSliceWidth(t *testing.T) {
	for _, c := range []struct{ planned, want time.Duration }{
		{2 * time.Second, time.Second},
		{20 * time.Second, time.Second},
		{5 * time.Minute, 3 * time.Second},
		{24 * time.Hour, 864 * time.Second},
	} {
		if got := sliceWidth(c.planned); got != c.want {
			t.Errorf("sliceWidth(%s) = %s, want %s", c.planned, got, c.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	base := func() *report.Load {
		return &report.Load{
			Rate: 50, Duration: harness.Duration(20 * time.Second), Requests: 1000,
			StatusCodes: map[string]int{"202": 1000}, OK: 1000, Success: 1,
			AckDeadline: harness.Duration(time.Second), SenderTimeout: harness.Duration(5 * time.Second),
			Latencies: report.Latencies{P50: harness.Duration(time.Millisecond), P99: harness.Duration(900 * time.Millisecond)},
			Processed: &report.Processed{Checked: 1000, Once: 1000},
		}
	}
	verdicts := func(l *report.Load, strict bool) string {
		var v []string
		for _, r := range evaluate(l, strict) {
			v = append(v, r.ID+"="+string(r.Verdict))
		}
		return strings.Join(v, " ")
	}
	cases := []struct {
		why    string
		edit   func(*report.Load)
		strict bool
		want   string
	}{
		{"all well", func(*report.Load) {}, false, "LOAD-01=PASS LOAD-02=PASS LOAD-03=PASS LOAD-04=INFO"},
		{"p99 exactly at the deadline holds", func(l *report.Load) { l.Latencies.P99 = l.AckDeadline }, false, "LOAD-01=PASS LOAD-02=PASS LOAD-03=PASS LOAD-04=INFO"},
		{"p99 past the deadline fails LOAD-01", func(l *report.Load) { l.Latencies.P99 = harness.Duration(1001 * time.Millisecond) }, false, "LOAD-01=FAIL LOAD-02=PASS LOAD-03=PASS LOAD-04=INFO"},
		{"999 of 1000 is the floor", func(l *report.Load) { l.StatusCodes, l.OK = map[string]int{"202": 999, "503": 1}, 999 }, false, "LOAD-01=PASS LOAD-02=PASS LOAD-03=PASS LOAD-04=INFO"},
		{"998 of 1000 is under it", func(l *report.Load) { l.StatusCodes, l.OK = map[string]int{"202": 998, "307": 2}, 998 }, false, "LOAD-01=PASS LOAD-02=FAIL LOAD-03=PASS LOAD-04=INFO"},
		{"a lost event warns", func(l *report.Load) { l.Processed = &report.Processed{Checked: 1000, Once: 999, Missing: 1} }, false, "LOAD-01=PASS LOAD-02=PASS LOAD-03=WARN LOAD-04=INFO"},
		{"a lost event fails under STRICT", func(l *report.Load) { l.Processed = &report.Processed{Checked: 1000, Once: 999, Missing: 1} }, true, "LOAD-01=PASS LOAD-02=PASS LOAD-03=FAIL LOAD-04=INFO"},
		{"a duplicate warns", func(l *report.Load) { l.Processed = &report.Processed{Checked: 1000, Once: 999, Duplicated: 1} }, false, "LOAD-01=PASS LOAD-02=PASS LOAD-03=WARN LOAD-04=INFO"},
		{"an unanswered probe call warns", func(l *report.Load) { l.Processed = &report.Processed{Checked: 1000, Once: 999} }, false, "LOAD-01=PASS LOAD-02=PASS LOAD-03=WARN LOAD-04=INFO"},
		{"no probe skips LOAD-03", func(l *report.Load) { l.Processed = nil }, false, "LOAD-01=PASS LOAD-02=PASS LOAD-03=SKIP LOAD-04=INFO"},
		{"nothing acknowledged skips LOAD-03", func(l *report.Load) {
			l.StatusCodes, l.OK = map[string]int{"500": 1000}, 0
			l.Processed = &report.Processed{}
		}, false, "LOAD-01=PASS LOAD-02=FAIL LOAD-03=SKIP LOAD-04=INFO"},
		{"no delivery at all fails the MUSTs", func(l *report.Load) {
			l.Requests, l.StatusCodes, l.OK = 0, map[string]int{}, 0
		}, false, "LOAD-01=FAIL LOAD-02=FAIL LOAD-03=PASS LOAD-04=INFO"},
	}
	for _, c := range cases {
		l := base()
		c.edit(l)
		if got := verdicts(l, c.strict); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.why, got, c.want)
		}
	}
	// Every check that can fail or warn says how to fix it, linking to the
	// README's load section; the INFO measurement has nothing to fix.
	broken := base()
	broken.Latencies.P99 = harness.Duration(2 * time.Second)
	broken.StatusCodes, broken.OK = map[string]int{"202": 900, "503": 100}, 900
	broken.Processed = &report.Processed{Checked: 900, Once: 899, Missing: 1}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "\n## The load test\n") {
		t.Fatal("the README has no heading \"The load test\", which the load checks' fixes link to")
	}
	for _, r := range evaluate(broken, false) {
		hasFix := strings.HasSuffix(r.Fix, "See README.md#the-load-test")
		if wantFix := r.Verdict == harness.Fail || r.Verdict == harness.Warn; hasFix != wantFix {
			t.Errorf("%s (%s) has fix %q: want one ending with the README link exactly when it fails or warns", r.ID, r.Verdict, r.Fix)
		}
	}

	sampled := base()
	sampled.Processed = &report.Processed{Checked: 500, Sampled: true, Once: 500}
	r := evaluate(sampled, false)[2]
	if !strings.Contains(r.Observed, "sample of 500 of the 1000") || len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "sampled") {
		t.Errorf("a sampled LOAD-03 does not say so: %q %v", r.Observed, r.Notes)
	}
}

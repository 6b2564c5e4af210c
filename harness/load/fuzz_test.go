package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness/report"
)

// gobResults encodes results as a results file does.
func gobResults(t testing.TB, rs ...vegeta.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := vegeta.NewEncoder(&b)
	for i := range rs {
		if err := enc.Encode(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// FuzzResultsFile recomputes a load's figures from an arbitrary results
// file, as hookcert report does when it merges generators, seeded with the
// file of a real two-second load (retries included, the flaky fault
// planted), its first half, and results no generator writes (attempt
// numbers in the millions, negative and huge latencies, timestamps far
// apart). Properties: a file that is not results is an error wrapping
// ErrNoResults that names it; otherwise every result the file holds up to
// where it ends is counted once, as a first attempt or a retry, in the
// status codes, the histogram and the time slices; the figures are as
// many as the results at most, whatever numbers the file names; the
// percentiles are in order within the extremes; the section encodes as
// JSON and is judged.
func FuzzResultsFile(f *testing.F) {
	real, err := os.ReadFile(filepath.Join("testdata", "results-hookcert.gob"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add(real[:len(real)/2])
	at := time.Unix(1710083175, 0)
	u := "https://127.0.0.1:8443/webhook"
	f.Add(gobResults(f,
		vegeta.Result{Attack: "a", Code: 202, Timestamp: at, Latency: time.Millisecond, URL: u + "#attempt=1/4"},
		vegeta.Result{Attack: "a", Code: 500, Timestamp: at, Latency: -time.Second, URL: u + "#attempt=1000000/1000000"},
		vegeta.Result{Attack: "b", Code: 0, Error: "Client.Timeout exceeded", Timestamp: at.Add(100 * 365 * 24 * time.Hour), Latency: 1<<63 - 1, URL: u + "#attempt=2/4"},
		vegeta.Result{Attack: "b", Code: 202, Timestamp: time.Time{}, Latency: 1<<63 - 1, URL: u},
	))
	f.Add([]byte{})
	f.Add([]byte("not a results file"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name := filepath.Join(t.TempDir(), ResultsFile("fuzz"))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		n, complete := countResults(data)
		l, err := recompute([]string{name}, 5*time.Second, time.Second)
		if err != nil {
			if complete || !errors.Is(err, ErrNoResults) || !strings.Contains(err.Error(), name) {
				t.Fatalf("recompute: %v (%d results, the file complete: %t)", err, n, complete)
			}
			return
		}
		if !complete {
			t.Fatalf("recompute read a file that is not results: %d results, then garbage", n)
		}
		checkFigures(t, l, n)
	})
}

// countResults counts the results data holds up to where it ends, and
// says whether it is a results file, perhaps cut short.
func countResults(data []byte) (int, bool) {
	dec := vegeta.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var r vegeta.Result
		switch err := dec.Decode(&r); {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return n, true
		case err != nil:
			return n, false
		}
	}
}

// checkFigures asserts that the load section l counts n results.
func checkFigures(t *testing.T, l *report.Load, n int) {
	t.Helper()
	retries := 0
	for _, a := range l.Retries.ByAttempt {
		retries += a.Deliveries
	}
	if l.Retries.Deliveries != n || l.Requests+retries != n || l.OK > l.Requests {
		t.Fatalf("%d results counted as %d deliveries, %d first attempts (%d OK) and %d retries", n, l.Retries.Deliveries, l.Requests, l.OK, retries)
	}
	if len(l.Retries.ByAttempt) > n || len(l.OverTime) > maxSlices || len(l.Histogram) > len(histogramBounds(time.Duration(l.AckDeadline), time.Duration(l.SenderTimeout)))+1 {
		t.Fatalf("%d results make %d attempt rows, %d time slices and %d bars", n, len(l.Retries.ByAttempt), len(l.OverTime), len(l.Histogram))
	}
	codes, bars, slices := 0, 0, 0
	for _, c := range l.StatusCodes {
		codes += c
	}
	for _, b := range l.Histogram {
		bars += b.Count
	}
	for _, s := range l.OverTime {
		slices += s.Requests
	}
	if codes != l.Requests || bars != l.Requests || slices != l.Requests {
		t.Fatalf("%d first attempts, but %d by status code, %d in the histogram, %d in the time slices", l.Requests, codes, bars, slices)
	}
	if p := l.Latencies; l.Requests > 0 && !(p.Min <= p.P50 && p.P50 <= p.P90 && p.P90 <= p.P95 && p.P95 <= p.P99 && p.P99 <= p.Max && p.Min <= p.Mean && p.Mean <= p.Max) {
		t.Fatalf("latencies out of order: %+v", p)
	}
	if _, err := json.Marshal(l); err != nil {
		t.Fatalf("the load section does not encode: %v", err)
	}
	evaluate(l, false)
}

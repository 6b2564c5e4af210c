//go:build soak

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness/report"
)

// tally is what the soak computes of a results file, on its own: every
// result read with vegeta's decoder, each latency kept, so that its
// percentiles are exact.
type tally struct {
	// first holds the latencies of the first attempts (the events), all
	// those of every attempt.
	first, all []time.Duration
	firstOK    int
	codes      map[string]int
	// pastTimeout counts the first attempts past the sender timeout, or
	// that ended on it.
	pastTimeout int
	// byAttempt counts the retries by attempt number, and their 2xx.
	byAttempt map[int]*report.AttemptCount
	// failedLast counts the events whose last attempt failed.
	failedLast int
	// earliest is when the first first attempt began, end when the last
	// one ended.
	earliest, end time.Time
}

// tallyResults reads a results file. An attempt is read from its URL's
// fragment, "#attempt=n/m", as the README says; a URL without one is a
// first and only attempt.
func tallyResults(t *testing.T, path string, timeout time.Duration) *tally {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tl := &tally{codes: map[string]int{}, byAttempt: map[int]*report.AttemptCount{}}
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n, m := 1, 1
		if _, frag, ok := strings.Cut(r.URL, "#attempt="); ok {
			a, b, _ := strings.Cut(frag, "/")
			n, _ = strconv.Atoi(a)
			m, _ = strconv.Atoi(b)
		}
		ok := r.Code >= 200 && r.Code < 300
		tl.all = append(tl.all, r.Latency)
		if !ok && n == m {
			tl.failedLast++
		}
		if n > 1 {
			c := tl.byAttempt[n]
			if c == nil {
				c = &report.AttemptCount{Attempt: n}
				tl.byAttempt[n] = c
			}
			c.Deliveries++
			if ok {
				c.OK++
			}
			continue
		}
		tl.first = append(tl.first, r.Latency)
		tl.codes[strconv.Itoa(int(r.Code))]++
		if ok {
			tl.firstOK++
		}
		if r.Latency >= timeout || (r.Code == 0 && (strings.Contains(r.Error, "Client.Timeout") || strings.Contains(r.Error, "deadline exceeded"))) {
			tl.pastTimeout++
		}
		if tl.earliest.IsZero() || r.Timestamp.Before(tl.earliest) {
			tl.earliest = r.Timestamp
		}
		if r.End().After(tl.end) {
			tl.end = r.End()
		}
	}
	slices.Sort(tl.first)
	slices.Sort(tl.all)
	return tl
}

// checkReportAgreesWithResults holds the load figures of the report the
// generator wrote to its results file: the counts exactly, the
// percentiles within the precision the report's histograms have (a
// bucket is at most 1/512 of its value wide).
func checkReportAgreesWithResults(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	l := rep.Load
	if l == nil || len(l.ResultsFiles) != 1 || l.Retries == nil {
		t.Fatalf("report.json has no load section with one results file and its retries: %s", b)
	}
	tl := tallyResults(t, filepath.Join(dir, l.ResultsFiles[0]), time.Duration(l.SenderTimeout))
	var bad []string
	same := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			bad = append(bad, fmt.Sprintf("%s: the report says %v, the results file %v", what, got, want))
		}
	}
	rt := l.Retries
	same("first attempts", l.Requests, len(tl.first))
	same("first attempts answered 2xx", l.OK, tl.firstOK)
	same("status codes", l.StatusCodes, tl.codes)
	same("first attempts past the sender timeout", l.PastTimeout, tl.pastTimeout)
	same("events", rt.Events, len(tl.first))
	same("deliveries", rt.Deliveries, len(tl.all))
	same("events never acknowledged", rt.NeverAcknowledged, tl.failedLast+rt.Pending+rt.CapDropped)
	var attempts []report.AttemptCount
	for n := 2; n <= len(tl.byAttempt)+1; n++ {
		if c := tl.byAttempt[n]; c != nil {
			attempts = append(attempts, *c)
		}
	}
	same("retries by attempt", rt.ByAttempt, attempts)
	errs, bars, slicesN := 0, 0, 0
	for _, e := range l.Errors {
		errs += e.Count
	}
	for _, h := range l.Histogram {
		bars += h.Count
	}
	for _, s := range l.OverTime {
		slicesN += s.Requests
	}
	same("errors", errs, len(tl.first)-tl.firstOK)
	same("histogram", bars, len(tl.first))
	same("latency over time", slicesN, len(tl.first))
	if len(tl.first) > 0 {
		same("amplification", rt.Amplification, float64(len(tl.all))/float64(len(tl.first)))
		if span := tl.end.Sub(tl.earliest).Seconds(); math.Abs(l.Throughput*span-float64(tl.firstOK)) > 1e-3*float64(tl.firstOK) {
			bad = append(bad, fmt.Sprintf("throughput: the report says %.3f/s, the results file %.3f/s", l.Throughput, float64(tl.firstOK)/span))
		}
	}
	bad = append(bad, latenciesDisagree("first attempts", l.Latencies, tl.first)...)
	bad = append(bad, latenciesDisagree("every attempt", rt.AllAttempts, tl.all)...)
	if len(bad) > 0 {
		t.Errorf("report.json's load figures disagree with %s:\n%s", l.ResultsFiles[0], strings.Join(bad, "\n"))
		return
	}
	fmt.Printf("soak: report.json agrees with %s: %d events, %d deliveries, %d first attempts 2xx, p99 %s (exact %s)\n",
		l.ResultsFiles[0], len(tl.first), len(tl.all), tl.firstOK, time.Duration(l.Latencies.P99), quantile(tl.first, 0.99))
}

// latenciesDisagree compares the report's percentiles of sorted with
// sorted's own: min, max and mean exactly, the others within a histogram
// bucket.
func latenciesDisagree(what string, got report.Latencies, sorted []time.Duration) []string {
	if len(sorted) == 0 {
		return nil
	}
	var total time.Duration
	for _, d := range sorted {
		total += d
	}
	var bad []string
	exact := func(name string, g, w time.Duration) {
		if g != w {
			bad = append(bad, fmt.Sprintf("%s %s: the report says %s, the results file %s", what, name, g, w))
		}
	}
	exact("min", time.Duration(got.Min), sorted[0])
	exact("max", time.Duration(got.Max), sorted[len(sorted)-1])
	exact("mean", time.Duration(got.Mean), total/time.Duration(len(sorted)))
	for _, p := range []struct {
		name string
		q    float64
		got  time.Duration
	}{{"p50", 0.50, time.Duration(got.P50)}, {"p90", 0.90, time.Duration(got.P90)}, {"p95", 0.95, time.Duration(got.P95)}, {"p99", 0.99, time.Duration(got.P99)}} {
		w := quantile(sorted, p.q)
		if diff := p.got - w; diff.Abs() > w/512+1 {
			bad = append(bad, fmt.Sprintf("%s %s: the report says %s, the results file %s", what, p.name, p.got, w))
		}
	}
	return bad
}

// quantile is the q-quantile of sorted by rank: the value at rank
// ceil(q × n).
func quantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(1, min(rank, len(sorted)))-1]
}

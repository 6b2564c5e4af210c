package load

import (
	"bytes"
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	runtimemetrics "runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The generator's own figures (issue 5): run with -benchtime 1x and
// -count N, and compare medians; `make bench` does.

// trivialReceiver answers 202 to everything at once: the ceiling of what a
// generator can push on this machine.
func trivialReceiver(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// flatOut is the attack of the throughput and memory benchmarks: as fast
// as workers allow, until n deliveries or d.
func flatOut(g *Generator, n int, d time.Duration, workers uint64, enc vegeta.Encoder) (*run, error) {
	return g.attack(context.Background(), plan{
		name: g.o.attacker, pacer: vegeta.ConstantPacer{}, planned: n, duration: d, maxWorkers: workers,
	}, enc)
}

// BenchmarkThroughput compares the highest rate of our attack (a fresh
// signed event per request, metrics, gob results) with vegeta's own attack
// of one static target (the same body and headers, gob results), against
// the same trivial loopback receiver with the same number of workers, in
// the same run: req/s of each and their ratio. The two alternate in short
// windows (ABBA), each keeping its connections from one window to the
// next, and the ratio is the median of the ratios of neighbouring
// windows: a burst of other work on a noisy machine slows one pair, not
// the figure.
func BenchmarkThroughput(b *testing.B) {
	const (
		window  = 250 * time.Millisecond
		pairs   = 16
		workers = 64
	)
	srv := trivialReceiver(b)
	url := srv.URL + "/webhook"
	g, err := NewGenerator(url, testSecret, WithLimits(ForcedLimits()))
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	var static vegeta.Target
	if err := g.targeter(&static); err != nil {
		b.Fatal(err)
	}
	ours := func(d time.Duration) int {
		run, err := flatOut(g, math.MaxInt32, d, workers, vegeta.NewEncoder(io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		return run.Metrics.firstAttempts()
	}
	// vegeta's default client, shared by its attackers (one cannot attack
	// twice), so that its connections too are kept between windows.
	client := &http.Client{
		Timeout: vegeta.DefaultTimeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     vegeta.DefaultTLSConfig,
			MaxIdleConnsPerHost: vegeta.DefaultConnections,
			MaxConnsPerHost:     vegeta.DefaultMaxConnections,
		},
	}
	defer client.CloseIdleConnections()
	theirs := func(d time.Duration) int {
		atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(workers), vegeta.MaxWorkers(workers))
		enc := vegeta.NewEncoder(io.Discard)
		n := 0
		for res := range atk.Attack(vegeta.NewStaticTargeter(static), vegeta.ConstantPacer{}, d, "static") {
			n++
			if err := enc.Encode(res); err != nil {
				b.Fatal(err)
			}
		}
		return n
	}
	theirs(window)
	ours(window)
	for b.Loop() {
		var v, o int
		ratios := make([]float64, 0, pairs)
		for i := range pairs {
			var vi, oi int
			if i%2 == 0 {
				vi = theirs(window)
				oi = ours(window)
			} else {
				oi = ours(window)
				vi = theirs(window)
			}
			v, o = v+vi, o+oi
			ratios = append(ratios, float64(oi)/float64(max(vi, 1)))
		}
		slices.Sort(ratios)
		secs := (pairs * window).Seconds()
		b.ReportMetric(float64(v)/secs, "vegeta-req/s")
		b.ReportMetric(float64(o)/secs, "signed-req/s")
		b.ReportMetric((ratios[pairs/2-1]+ratios[pairs/2])/2, "ratio")
	}
}

// BenchmarkAccuracy attacks a receiver that waits a fixed 200 ms at 100/s
// for 3 s and reports the measured p50 and p99, their error against
// 200 ms, and the estimator's own error against the exact quantiles of the
// same latencies (decoded from the results).
func BenchmarkAccuracy(b *testing.B) {
	const wait = 200 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(wait)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	g, err := NewGenerator(srv.URL+"/webhook", testSecret)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	for b.Loop() {
		var buf bytes.Buffer
		run, err := g.attackFor(context.Background(), 100, 3*time.Second, vegeta.NewEncoder(&buf))
		if err != nil {
			b.Fatal(err)
		}
		var all []time.Duration
		var vm vegeta.Metrics
		dec := vegeta.NewDecoder(&buf)
		for {
			var r vegeta.Result
			if dec.Decode(&r) != nil {
				break
			}
			all = append(all, r.Latency)
			vm.Add(&r)
		}
		vm.Close()
		slices.Sort(all)
		exact := func(q float64) time.Duration { return all[int(math.Ceil(q*float64(len(all))))-1] }
		l := run.load()
		p50, p99 := time.Duration(l.Latencies.P50), time.Duration(l.Latencies.P99)
		us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
		b.ReportMetric(us(p50)/1000, "p50-ms")
		b.ReportMetric(us(p99)/1000, "p99-ms")
		b.ReportMetric(us(p50-wait), "p50-err-µs")
		b.ReportMetric(us(p99-wait), "p99-err-µs")
		b.ReportMetric(us(p50-exact(0.5)), "p50-est-err-µs")
		b.ReportMetric(us(p99-exact(0.99)), "p99-est-err-µs")
		b.ReportMetric(us(vm.Latencies.P99-exact(0.99)), "vegeta-p99-est-err-µs")
	}
}

// BenchmarkMemory makes runs of 100 000 and 1 000 000 deliveries, results
// streamed to a file, and reports the peak heap and the peak resident set
// of the process while each runs (sampled every 10 ms; the receiver is in
// the same process, so both count it too): flat from one to the other if
// memory does not grow with the requests. The goal is a peak RSS under
// 64 MB at 1 000 000.
func BenchmarkMemory(b *testing.B) {
	srv := trivialReceiver(b)
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(strconv.Itoa(n/1000)+"k", func(b *testing.B) {
			g, err := NewGenerator(srv.URL+"/webhook", testSecret, WithLimits(ForcedLimits()))
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			for b.Loop() {
				f, err := os.Create(filepath.Join(b.TempDir(), "results.gob"))
				if err != nil {
					b.Fatal(err)
				}
				var (
					run   *run
					start time.Time
				)
				// The clock starts after peakMemory's collection, as it
				// did before the sampler was shared.
				heap, _, rss := peakMemory(func() {
					start = time.Now()
					run, err = flatOut(g, n, 10*time.Minute, 64, vegeta.NewEncoder(f))
				})
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				if got := run.Metrics.firstAttempts(); got != n {
					b.Fatalf("%d deliveries, want %d", got, n)
				}
				b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "req/s")
			}
		})
	}
}

// peakMemory runs f after a collection and returns the peak heap (live and
// not yet collected objects), the peak live heap (as the last collection
// marked it) and the peak resident set of the process while it ran,
// sampled every 10 ms.
func peakMemory(f func()) (heap, live, rss uint64) {
	runtime.GC()
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		s := []runtimemetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtimemetrics.Read(s)
			heap, live, rss = max(heap, s[0].Value.Uint64()), max(live, s[1].Value.Uint64()), max(rss, residentSet())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-sampled
	return heap, live, rss
}

// BenchmarkPendingRetries: what retries waiting for their time cost. A
// receiver refuses every delivery; each is owed a retry a minute later,
// so they pile up to the pending cap (10 000) and the rest are dropped.
// The same attack with retries off is the baseline: the difference in
// peak live heap, over the pending count, is one pending retry's cost.
func BenchmarkPendingRetries(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	b.Cleanup(srv.Close)
	const rate, d = 5000, 3 * time.Second
	for _, c := range []struct {
		name     string
		schedule []time.Duration
	}{{"off", nil}, {"pending", []time.Duration{time.Minute}}} {
		b.Run(c.name, func(b *testing.B) {
			g, err := NewGenerator(srv.URL+"/webhook", testSecret, WithLimits(ForcedLimits()), WithRetries(c.schedule))
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			for b.Loop() {
				var run *run
				// No tail: the attack ends at its duration, its retries
				// still pending.
				heap, live, rss := peakMemory(func() { run, err = g.attackAt(context.Background(), "bench", rate, d, 0, nil) })
				if err != nil {
					b.Fatal(err)
				}
				rt := run.load().Retries
				if c.schedule != nil && (rt.Pending+rt.CapDropped != rt.Events || rt.Pending != defaultPendingCap) {
					b.Fatalf("retries %+v: want every event owed a retry, %d of them pending", *rt, defaultPendingCap)
				}
				b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
				b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
				b.ReportMetric(float64(rt.Pending), "pending")
				b.ReportMetric(float64(rt.Events), "events")
			}
		})
	}
}

// residentSet is the process's resident set now, in bytes (VmRSS of
// /proc/self/status): what the kernel holds in memory for it, the Go heap,
// stacks and runtime included; 0 where there is no /proc to read it from.
func residentSet() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

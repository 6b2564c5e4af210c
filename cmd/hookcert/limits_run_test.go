//go:build limits

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// The resource limits (make limits): the catalogue and the load under a
// tight limit of open files, and the generator's memory against a
// receiver it overloads. Each runs hookcert as a process of its own.

// noneRanOut fails t when a check of r's report was judged on a delivery
// the harness could not make for want of open files.
func noneRanOut(t *testing.T, what string, r limitRun) {
	t.Helper()
	if r.rep == nil {
		t.Fatalf("%s wrote no report.json (exit %d):\n%s", what, r.code, r.stderr)
	}
	for _, res := range r.rep.Results {
		if (res.Verdict == harness.Fail || res.Verdict == harness.Warn) && strings.Contains(res.Observed, "too many open files") {
			t.Errorf("%s: %s %s on the harness's own want of files: %s", what, res.ID, res.Verdict, res.Observed)
		}
	}
}

// TestLimitsEachRunWorksOrStopsAtOnce runs the catalogue and the load
// under `ulimit -n 256`: each either works (a compliant run of the
// reference receiver) or stops before it starts, with status 2 and a
// message naming the limit.
func TestLimitsEachRunWorksOrStopsAtOnce(t *testing.T) {
	for _, args := range [][]string{
		{"conformance"},
		{"conformance", "--http-version", "1.1"},
		{"conformance", "--plain-http"},
		{"load", "--duration", "10s"},
		{"load", "--http-version", "1.1", "--duration", "10s"},
		{"load", "--http-version", "1.1", "--rate", "200", "--duration", "10s"},
	} {
		what := strings.Join(args, " ")
		r := underFileLimit(t, 256, 0, t.TempDir(), args...)
		noneRanOut(t, what, r)
		switch {
		case r.code == 0 && r.rep.Complete:
			fmt.Printf("limits: hookcert %s under ulimit -n 256: works, %s, in %s\n", what, r.rep.Overall, r.took.Round(100*time.Millisecond))
		case r.code == 2 && strings.Contains(r.stderr, "open files limit 256 is below the ") && r.took < 10*time.Second:
			fmt.Printf("limits: hookcert %s under ulimit -n 256: stops at once (%s), exit 2: %s", what, r.took.Round(10*time.Millisecond), r.stderr[:strings.IndexByte(r.stderr, '\n')+1])
		default:
			t.Errorf("hookcert %s under ulimit -n 256: exit %d after %s, want a compliant run or exit 2 at once naming the limit:\n%s", what, r.code, r.took, r.stderr)
		}
	}
}

// TestLimitsRunningOutStopsTheRun takes most of a run's files before it
// starts, so that it passes the check of its limit and runs out half-way:
// it must stop with status 2 naming the limit, its checks cut short,
// never judged.
func TestLimitsRunningOutStopsTheRun(t *testing.T) {
	for _, tc := range []struct {
		limit, taken int
		args         []string
	}{
		// The catalogue over HTTP/1.1 holds about 110 connections at
		// once, 220 files with the reference receiver in the process.
		{400, 300, []string{"conformance", "--http-version", "1.1"}},
		// 50 deliveries a second answered in 1.5 s hold 75 at once, 150
		// files: more than the 50 a receiver that answers within the
		// ack deadline would, which is what the load checks it has.
		{400, 300, []string{"load", "--http-version", "1.1", "--fault", "slow-ack", "--rate", "50", "--duration", "10s"}},
	} {
		what := strings.Join(tc.args, " ")
		r := underFileLimit(t, tc.limit, tc.taken, t.TempDir(), tc.args...)
		noneRanOut(t, what, r)
		say := fmt.Sprintf("open files limit %d was reached", tc.limit)
		if r.code != 2 || !strings.Contains(r.stderr, say) || !strings.Contains(r.rep.Error, say) {
			t.Errorf("hookcert %s with %d of %d files taken: exit %d, want 2 saying %q:\n%s", what, tc.taken, tc.limit, r.code, say, r.stderr)
			continue
		}
		fmt.Printf("limits: hookcert %s with %d of %d files taken: stopped after %s, exit 2, %v\n", what, tc.taken, tc.limit, r.took.Round(100*time.Millisecond), r.rep.Counts)
	}
}

// overloaded is a receiver that handles overloadSlots deliveries at once,
// each for overloadWork, and refuses with 503 one that waited
// overloadQueue for a slot: it holds overloadSlots/overloadWork a second
// and sheds the rest, as the README tells a receiver to.
const (
	overloadSlots = 10
	overloadWork  = 100 * time.Millisecond
	overloadQueue = 250 * time.Millisecond
)

func overloaded() http.Handler {
	slots := make(chan struct{}, overloadSlots)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		queued := time.NewTimer(overloadQueue)
		defer queued.Stop()
		select {
		case slots <- struct{}{}:
			time.Sleep(overloadWork)
			<-slots
			w.WriteHeader(http.StatusOK)
		case <-queued.C:
			w.WriteHeader(http.StatusServiceUnavailable)
		case <-r.Context().Done():
		}
	})
}

// The overload: three times what the receiver holds, for 2 minutes, with
// the schedule's waits long enough (30 s) that the failed events' retries
// pile up past the cap.
const (
	overloadRate     = 300
	overloadFor      = 2 * time.Minute
	overloadSchedule = "30s,30s,30s"
)

// What the generator's live heap may hold at most: what every attack
// holds (its histograms, time slices and sample), a pending retry's event
// and its place in the queue for each retry up to the cap, and a
// delivery's request, connection and answer for each connection it held
// open. Each is a generous budget: the bench measures about 0.6 KB a
// pending retry.
const (
	heapBase       = 16 << 20
	heapPerPending = 2 << 10
	heapPerConn    = 32 << 10
)

// TestLimitsOverloadStaysWithinTheRetryCap attacks a receiver that cannot
// keep up, retries on: the retries waiting must stop at the cap (10 000),
// and the generator's live heap within what its caps allow. It prints the
// peaks of its resident set, heap, goroutines and open files.
func TestLimitsOverloadStaysWithinTheRetryCap(t *testing.T) {
	srv := httptest.NewServer(overloaded())
	defer srv.Close()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "runtime.jsonl")
	life := overloadFor + 4*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), life)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "load", "--url", srv.URL+"/webhook", "--rate", strconv.Itoa(overloadRate),
		"--duration", overloadFor.String(), "--retry-schedule", overloadSchedule, "--report-dir", dir)
	cmd.Env = append(os.Environ(), "REALM_WEBHOOK_SECRET=whsec_overload_secret",
		runtimeLogEnv+"="+logPath, runtimeEveryEnv+"=1s")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	peak := watchPeak(cmd.Process.Pid, logPath, exited, life)
	if ctx.Err() != nil {
		t.Fatalf("the generator did not end within %s", life)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil || rep.Load == nil || rep.Load.Retries == nil {
		t.Fatalf("report.json has no load section with retries (%v): %s", err, b)
	}
	rt := rep.Load.Retries
	bound := uint64(heapBase+rt.PendingCap*heapPerPending) + peak.FDs*heapPerConn
	fmt.Printf("limits: overload at %d/s against a receiver holding %d/s for %s, retries after %s: exit %d, %d events, %d deliveries, %d first attempts 2xx; "+
		"retries dropped at the cap of %d: %d, waiting at the end: %d; never acknowledged %d\n",
		overloadRate, int(overloadSlots/overloadWork.Seconds()), overloadFor, overloadSchedule, cmd.ProcessState.ExitCode(),
		rt.Events, rt.Deliveries, rep.Load.OK, rt.PendingCap, rt.CapDropped, rt.Pending, rt.NeverAcknowledged)
	fmt.Printf("limits: the generator's peaks: RSS %s, live heap %s (its caps allow %s), goroutines %d, open files %d\n",
		mib(peak.RSS), mib(peak.HeapLive), mib(bound), peak.Goroutines, peak.FDs)
	if rt.CapDropped == 0 {
		t.Errorf("no retry was dropped at the cap of %d: the overload did not reach it", rt.PendingCap)
	}
	if peak.HeapLive > bound {
		t.Errorf("the live heap reached %s, more than the %s its caps allow", mib(peak.HeapLive), mib(bound))
	}
}

// watchPeak samples process pid every second until it exits, at most
// life long, and returns the highest of each figure.
func watchPeak(pid int, logPath string, exited <-chan error, life time.Duration) procSample {
	var peak procSample
	log := &tail{path: logPath}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; i < int(life/time.Second); i++ {
		select {
		case <-exited:
			return peak
		case <-tick.C:
			if v, err := statusField(pid, "VmHWM:"); err == nil {
				peak.RSS = max(peak.RSS, v)
			}
			if n, err := openFiles(pid); err == nil {
				peak.FDs = max(peak.FDs, n)
			}
			if rt, ok := log.last(); ok {
				peak.HeapLive = max(peak.HeapLive, rt.HeapLive)
				peak.Goroutines = max(peak.Goroutines, rt.Goroutines)
			}
		}
	}
	return peak
}

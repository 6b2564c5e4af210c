package load

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// TestMergeJudgesTheWhole: one generator saw slow answers, the other fast
// ones. report.Merge alone bounds the figures and keeps the verdict of the
// last report merged; Merge measures the whole from the raw results and
// judges it.
func TestMergeJudgesTheWhole(t *testing.T) {
	root := t.TempDir()
	write := func(attacker string, n int, latency time.Duration) string {
		dir := filepath.Join(root, attacker)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, ResultsFile(attacker)))
		if err != nil {
			t.Fatal(err)
		}
		enc := vegeta.NewEncoder(f)
		for i := range n {
			r := &vegeta.Result{Attack: attacker, Seq: uint64(i), Code: 202, Timestamp: t0.Add(time.Duration(i) * 10 * time.Millisecond), Latency: latency}
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		l, err := recompute([]string{f.Name()}, 5*time.Second, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		l.Rate, l.Duration, l.ResultsFiles = 100, harness.Duration(time.Second), []string{ResultsFile(attacker)}
		l.Attackers = []string{attacker}
		rep := report.New("https://example.test/webhook", report.Settings{})
		rep.Load = l
		rep.Finish(evaluate(l, false), true, nil)
		if err := rep.Write(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	slow := write("slow", 50, 1500*time.Millisecond)
	fast := write("fast", 100, time.Millisecond)
	out := filepath.Join(root, "merged")

	var reps []*report.Report
	for _, d := range []string{slow, fast} {
		r, _ := report.Read(filepath.Join(d, report.JSONFile))
		r.Rebase(d, out)
		reps = append(reps, r)
	}
	bounded, err := report.Merge(reps...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(bounded.Notes, report.ReplacedNote(load01)) {
		t.Fatalf("the merge's notes %q do not say that the later LOAD-01 replaced the earlier", bounded.Notes)
	}
	if got := time.Duration(bounded.Load.Latencies.P50); got < time.Second {
		t.Fatalf("bounded p50 %s, want the larger of the parts' (1.5s)", got)
	}
	merged, err := Merge(out, reps...)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Load.Requests != 150 || len(merged.Load.Attackers) != 2 || merged.Load.Rate != 200 {
		t.Fatalf("merged load: %d requests by %v at %.0f/s, want 150 by both at 200/s", merged.Load.Requests, merged.Load.Attackers, merged.Load.Rate)
	}
	for _, n := range merged.Notes {
		if strings.Contains(n, "replaces an earlier one") {
			t.Fatalf("after judging on all the results, the report still says %q", n)
		}
	}
	if r := merged.Results[0]; r.ID != load01 || r.Verdict != harness.Fail {
		t.Fatalf("%s %s: a third of the merged deliveries took 1.5 s, so p99 is past the deadline", r.ID, r.Verdict)
	}
	if merged.Overall != harness.NotCompliant || merged.ExitCode != 1 {
		t.Fatalf("merged verdict %s (exit %d), want NOT COMPLIANT (exit 1)", merged.Overall, merged.ExitCode)
	}
	if got := time.Duration(merged.Load.Latencies.P50); got > 2*time.Millisecond {
		t.Fatalf("merged p50 %s: the fast two thirds should set it", got)
	}
	// Exactly the figures of one attack that made every request.
	whole, err := recompute([]string{filepath.Join(slow, ResultsFile("slow")), filepath.Join(fast, ResultsFile("fast"))}, 5*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Load.Latencies != whole.Latencies {
		t.Fatalf("merged latencies %+v, want those of all results %+v", merged.Load.Latencies, whole.Latencies)
	}
}

// TestMergeWithoutResults: when a generator's results file is gone, the
// merged report holds the bounds and the parts' verdicts, and says why.
func TestMergeWithoutResults(t *testing.T) {
	part := func(attacker string) *report.Report {
		r := report.New("https://example.test/webhook", report.Settings{})
		r.Load = &report.Load{Attackers: []string{attacker}, Requests: 10, ResultsFiles: []string{ResultsFile(attacker)}}
		r.Finish(evaluate(r.Load, false), true, nil)
		return r
	}
	merged, err := Merge(t.TempDir(), part("a"), part("b"))
	if !errors.Is(err, ErrNoResults) || merged == nil || merged.Load.Requests != 20 {
		t.Fatalf("Merge = %v, %v: want the bounded report (20 requests) and ErrNoResults", merged, err)
	}
	if merged, err := Merge(t.TempDir(), report.New("https://example.test/webhook", report.Settings{})); err != nil || merged.Load != nil {
		t.Fatalf("a report without a load section: %v", err)
	}
}

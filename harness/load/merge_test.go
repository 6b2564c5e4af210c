package load

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
)

// generate runs one generator against the target into its own report
// directory, as one pod of a distributed run would, and writes its report.
func generate(t *testing.T, o certify.Options, attacker string, rate int) string {
	t.Helper()
	o.ReportDir = filepath.Join(o.ReportDir, attacker)
	s, err := certify.Prepare(context.Background(), o)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer s.Close()
	set := short(rate, 2*time.Second)
	set.Attacker = attacker
	out, err := Certify(context.Background(), s, set)
	if err != nil {
		t.Error(err)
		return ""
	}
	s.Report.Load = out.Load
	if err := s.Finish(out.Results, out.Complete, nil); err != nil {
		t.Error(err)
	}
	return s.ReportDir
}

// merge does what `hookcert report --from A --from B --out DIR` does with
// several generators' reports: Merge, then Refine from the raw results.
func merge(t *testing.T, dirs []string, out string) *report.Report {
	t.Helper()
	var reps []*report.Report
	for _, d := range dirs {
		r, err := report.Read(filepath.Join(d, report.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		r.Rebase(d, out)
		reps = append(reps, r)
	}
	merged, err := report.Merge(reps...)
	if err != nil {
		t.Fatal(err)
	}
	if err := Refine(merged, out); err != nil {
		t.Fatal(err)
	}
	return merged
}

// TestTwoGeneratorsMerge runs two generators at once against one receiver,
// each with its own name and results file, and merges their reports: the
// figures are those of all the requests together, exactly.
func TestTwoGeneratorsMerge(t *testing.T) {
	srv, err := receiver.Start("", receiver.Config{Secrets: []harness.Secret{testSecret}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	root := t.TempDir()
	o := certify.Options{URL: srv.WebhookURL, ProbeURL: srv.ProbeURL, Secret: testSecret, ReportDir: root}
	dirs := make([]string, 2)
	var wg sync.WaitGroup
	for i, rate := range []int{60, 40} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i] = generate(t, o, "gen-"+string(rune('0'+i)), rate)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	out := filepath.Join(root, "merged")
	m := merge(t, dirs, out)
	l := m.Load

	parts := make([]*report.Load, 2)
	for i, d := range dirs {
		r, _ := report.Read(filepath.Join(d, report.JSONFile))
		parts[i] = r.Load
	}
	if l.Requests != parts[0].Requests+parts[1].Requests || l.Rate != 100 {
		t.Fatalf("merged %d requests at %v/s, want %d + %d at 100/s", l.Requests, l.Rate, parts[0].Requests, parts[1].Requests)
	}
	if !slices.Equal(l.Attackers, []string{"gen-0", "gen-1"}) || len(l.ResultsFiles) != 2 {
		t.Fatalf("attackers %v, results files %v", l.Attackers, l.ResultsFiles)
	}
	for _, f := range l.ResultsFiles {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatalf("results file %s is not reachable from the merged report: %v", f, err)
		}
	}
	// Exactly the figures of one attack that made every request.
	var files []string
	for i, d := range dirs {
		files = append(files, filepath.Join(d, parts[i].ResultsFiles[0]))
	}
	whole, err := Recompute(files, 5*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l.Latencies != whole.Latencies {
		t.Fatalf("merged latencies %+v, want those of all results %+v", l.Latencies, whole.Latencies)
	}
	sliced := 0
	for _, s := range l.OverTime {
		sliced += s.Requests
	}
	if sliced != l.Requests {
		t.Fatalf("the time slices hold %d requests, want %d", sliced, l.Requests)
	}
	if p := l.Processed; p == nil || p.Checked != l.Requests || p.Once != l.Requests {
		t.Fatalf("the probe's accounts were not added up: %+v", p)
	}
	var ids []string
	for _, r := range m.Results {
		ids = append(ids, r.ID+"="+string(r.Verdict))
		if !strings.Contains(strings.Join(r.Notes, " "), "merged results of 2 generators") {
			t.Errorf("%s does not say it was judged on the merged results", r.ID)
		}
	}
	if got := strings.Join(ids, " "); got != "LOAD-01=PASS LOAD-02=PASS LOAD-03=PASS LOAD-04=INFO" {
		t.Fatalf("merged results %s", got)
	}
	if m.Overall != harness.Compliant || m.ExitCode != report.ExitCompliant {
		t.Fatalf("merged verdict %s (exit %d)", m.Overall, m.ExitCode)
	}
}

// TestRefineJudgesTheWhole: one generator saw slow answers, the other fast
// ones. Merge alone keeps the verdict of the last report merged; Refine
// judges the merged latencies.
func TestRefineJudgesTheWhole(t *testing.T) {
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
		l, err := Recompute([]string{f.Name()}, 5*time.Second, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		l.Rate, l.Duration, l.ResultsFiles = 100, harness.Duration(time.Second), []string{ResultsFile(attacker)}
		l.Attackers = []string{attacker}
		rep := report.New("https://example.test/webhook", report.Settings{})
		rep.Load = l
		rep.Finish(Evaluate(l, false), true, nil)
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
	merged, err := report.Merge(reps...)
	if err != nil {
		t.Fatal(err)
	}
	if err := Refine(merged, out); err != nil {
		t.Fatal(err)
	}
	if r := merged.Results[0]; r.ID != Load01 || r.Verdict != harness.Fail {
		t.Fatalf("%s %s: a third of the merged deliveries took 1.5 s, so p99 is past the deadline", r.ID, r.Verdict)
	}
	if merged.Overall != harness.NotCompliant || merged.ExitCode != report.ExitNotCompliant {
		t.Fatalf("merged verdict %s (exit %d), want NOT COMPLIANT (exit 1)", merged.Overall, merged.ExitCode)
	}
	if got := time.Duration(merged.Load.Latencies.P50); got > 2*time.Millisecond {
		t.Fatalf("merged p50 %s: the fast two thirds should set it", got)
	}
}

func TestRefineWithoutResults(t *testing.T) {
	r := &report.Report{Load: &report.Load{ResultsFiles: []string{"results-gone.gob"}}}
	if err := Refine(r, t.TempDir()); !errors.Is(err, ErrNoResults) {
		t.Fatalf("error %v, want ErrNoResults", err)
	}
	if err := Refine(&report.Report{}, t.TempDir()); err != nil {
		t.Fatalf("a report without a load section: %v", err)
	}
}

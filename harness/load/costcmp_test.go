//go:build loadcost

package load_test

// The generator's whole-process cost (issue "Generator cost"): the CPU
// time per delivery of a `hookcert load` process against that of the
// `vegeta attack` CLI, at the same paced rate against the same trivial
// loopback receiver, and wrk's as the floor where wrk is installed. Run
// it on its own (the receiver runs in the test process, never counted in
// a measured process's CPU; everything else on the machine slows both
// alike, which is why they alternate):
//
//	go test -tags loadcost -run TestLoadCost -v -timeout 30m ./harness/load
//
// with -loadcost.rate, -loadcost.duration and -loadcost.runs to change
// the load (5000/s for 4 s, 5 runs of each by default), and
// -loadcost.hookcert to measure other builds of hookcert (several, to
// compare changes in one run).

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/load"
)

var (
	costRate     = flag.Int("loadcost.rate", 5000, "deliveries per second of each run")
	costDuration = flag.Duration("loadcost.duration", 4*time.Second, "how long each run attacks")
	costRuns     = flag.Int("loadcost.runs", 5, "runs of each generator, alternating")
	costHookcert = flag.String("loadcost.hookcert", "", "hookcert binaries to measure instead of one built from ./cmd/hookcert, separated by commas")
)

// costGoal is the most CPU per delivery hookcert may cost against
// vegeta's: vegeta's rate at 0.95 of the CPU.
const costGoal = 1 / 0.95

// costSecret signs the deliveries of both generators.
const costSecret = "whsec_loadcost"

// costRun is one measured process.
type costRun struct {
	tool       string
	deliveries int64
	user, sys  time.Duration
}

func (r costRun) perDelivery() time.Duration {
	if r.deliveries == 0 {
		return 0
	}
	return (r.user + r.sys) / time.Duration(r.deliveries)
}

func TestLoadCost(t *testing.T) {
	if *costRate <= 0 || *costDuration <= 0 || *costRuns <= 0 {
		t.Fatal("-loadcost.rate, -loadcost.duration and -loadcost.runs must be positive")
	}
	bin := t.TempDir()
	hookcerts, names := hookcertBuilds(t, bin)
	vegetaCLI := buildVegeta(t, bin)
	wrk, wrkErr := exec.LookPath("wrk")

	var answered atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		answered.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	url := srv.URL + "/webhook"

	// vegeta's target is one delivery of ours, as its own attack in
	// BenchmarkThroughput: the same body and headers every time.
	targets := staticTargets(t, bin, url)
	rate, du := strconv.Itoa(*costRate), costDuration.String()
	commands := map[string]func(run int) *exec.Cmd{
		"vegeta": func(run int) *exec.Cmd {
			return exec.Command(vegetaCLI, "attack", "-rate", rate+"/s", "-duration", du,
				"-targets", targets, "-output", filepath.Join(bin, fmt.Sprintf("vegeta-%d.bin", run)))
		},
	}
	for _, name := range names {
		commands[name] = func(run int) *exec.Cmd {
			// Retries are on by default; against a receiver that always
			// answers 202 none is ever sent.
			return exec.Command(hookcerts[name], "load", "--url", url, "--secret", costSecret,
				"--rate", rate, "--duration", du, "--max-rate", rate,
				"--report-dir", filepath.Join(bin, fmt.Sprintf("%s-%d", name, run)))
		}
	}
	tools := append(slices.Clone(names), "vegeta")
	if wrkErr == nil {
		// wrk cannot pace: it sends as fast as 10 connections allow for
		// the duration, so its figure is a floor, not a comparison.
		script := filepath.Join(bin, "post.lua")
		writeWrkScript(t, script, targets)
		commands["wrk"] = func(int) *exec.Cmd {
			return exec.Command(wrk, "-t1", "-c10", "-d"+du, "-s", script, url)
		}
		tools = append(tools, "wrk")
	} else {
		t.Logf("wrk is not installed (%v): no floor", wrkErr)
	}

	runs := map[string][]costRun{}
	for i := range *costRuns {
		order := slices.Clone(tools)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, tool := range order {
			answered.Store(0)
			r := measure(t, tool, commands[tool](i), &answered)
			t.Logf("run %d %-10s %6d deliveries  user %-8s sys %-8s  %6.1f µs/delivery",
				i+1, tool, r.deliveries, r.user.Round(time.Millisecond), r.sys.Round(time.Millisecond), micros(r.perDelivery()))
			planned := int64(*costRate) * int64(costDuration.Seconds())
			if tool != "wrk" && r.deliveries < planned*95/100 {
				t.Logf("note: %s delivered %d of %d planned: it did not keep the pace (a busy machine?), so this run is not comparable; the median leaves out one such run",
					tool, r.deliveries, planned)
			}
			runs[tool] = append(runs[tool], r)
		}
	}

	// The median is the figure; the least, which other work on the
	// machine can only have raised, says how much of the spread is noise.
	med, least := map[string]time.Duration{}, map[string]time.Duration{}
	for _, tool := range tools {
		med[tool], least[tool] = median(runs[tool]), minimum(runs[tool])
		t.Logf("median %-10s %6.1f µs/delivery (user+sys, %d runs; least %.1f)", tool, micros(med[tool]), len(runs[tool]), micros(least[tool]))
	}
	if wrkErr == nil {
		t.Logf("wrk floor (flat out, not paced): %.1f µs/request; vegeta %.2f× it", micros(med["wrk"]), float64(med["vegeta"])/float64(med["wrk"]))
	}
	for _, name := range names {
		ratio := float64(med[name]) / float64(med["vegeta"])
		t.Logf("%s / vegeta CPU per delivery: %.3f (goal at most %.3f; of the least: %.3f; median of each round's: %.3f)",
			name, ratio, costGoal, float64(least[name])/float64(least["vegeta"]), pairedRatio(runs[name], runs["vegeta"]))
		if ratio > costGoal {
			t.Errorf("%s load costs %.3f× vegeta's CPU per delivery, above the goal of %.3f×", name, ratio, costGoal)
		}
	}
}

// measure runs cmd to its end (bounded: twice the duration and a minute)
// and returns its own CPU time, from its rusage, and the deliveries the
// receiver answered meanwhile.
func measure(t *testing.T, tool string, cmd *exec.Cmd, answered *atomic.Int64) costRun {
	t.Helper()
	cmd.Env = costEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2**costDuration + time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not end in time:\n%s", tool, out.Bytes())
	}
	// hookcert exits 1 for a receiver it finds not compliant (a p99
	// beyond the deadline on a busy machine, say): the run still counts.
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && strings.HasPrefix(tool, "hookcert") && ee.ExitCode() == 1) {
		t.Fatalf("%s: %v\n%s", tool, err, out.Bytes())
	}
	st := cmd.ProcessState
	return costRun{tool: tool, deliveries: answered.Load(), user: st.UserTime(), sys: st.SystemTime()}
}

// costEnv is the environment of a measured process: the test's, without
// the settings hookcert reads from it, so that only the flags count.
func costEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKCERT_") && !strings.HasPrefix(kv, harness.SecretEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// hookcertBuilds returns the builds of hookcert measured, by name
// (hookcert, hookcert-2, ...), and their names in order: those
// -loadcost.hookcert names, or one built in dir from ./cmd/hookcert.
func hookcertBuilds(t *testing.T, dir string) (map[string]string, []string) {
	t.Helper()
	hookcerts := map[string]string{}
	var names []string
	for i, exe := range strings.Split(*costHookcert, ",") {
		if exe == "" {
			exe = buildHookcert(t, dir)
		}
		name := "hookcert"
		if i > 0 {
			name += "-" + strconv.Itoa(i+1)
			t.Logf("%s is %s", name, exe)
		}
		hookcerts[name] = exe
		names = append(names, name)
	}
	return hookcerts, names
}

func buildHookcert(t *testing.T, dir string) string {
	t.Helper()
	exe := filepath.Join(dir, "hookcert")
	goCmd(t, "", "build", "-o", exe, "github.com/realm-ai/hookcert/cmd/hookcert")
	return exe
}

// buildVegeta builds the vegeta CLI of the version this module requires,
// in a module of its own (its main package needs modules that this one
// does not), checked against vegeta's own go.sum.
func buildVegeta(t *testing.T, dir string) string {
	t.Helper()
	const mod = "github.com/tsenart/vegeta/v12"
	version := strings.TrimSpace(goCmd(t, "", "list", "-m", "-f", "{{.Version}}", mod))
	src := strings.TrimSpace(goCmd(t, "", "list", "-m", "-f", "{{.Dir}}", mod))
	sums, err := os.ReadFile(filepath.Join(src, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSpace(goCmd(t, "", "list", "-m", "-f", "{{.Dir}}"))
	own, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	var modSums []byte
	for _, line := range bytes.SplitAfter(own, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(mod+" "+version+" ")) || bytes.HasPrefix(line, []byte(mod+" "+version+"/go.mod ")) {
			modSums = append(modSums, line...)
		}
	}
	tmp := filepath.Join(dir, "vegeta-module")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod := fmt.Sprintf("module loadcost/vegeta\n\ngo 1.26\n\nrequire %s %s\n", mod, version)
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), append(modSums, sums...), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "vegeta")
	goCmd(t, tmp, "build", "-mod=mod", "-o", exe, mod)
	return exe
}

// goCmd runs the go command in dir ("" for this package's) and returns
// its output.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// staticTargets writes vegeta's targets file: one signed delivery of
// ours, in vegeta's HTTP format with its body in a file beside it.
func staticTargets(t *testing.T, dir, url string) string {
	t.Helper()
	tr, err := load.NewTargeter(url, costSecret)
	if err != nil {
		t.Fatal(err)
	}
	var tgt vegeta.Target
	if err := tr(&tgt); err != nil {
		t.Fatal(err)
	}
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, tgt.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", tgt.Method, tgt.URL)
	for _, name := range slices.Sorted(maps.Keys(tgt.Header)) {
		fmt.Fprintf(&b, "%s: %s\n", name, tgt.Header.Get(name))
	}
	fmt.Fprintf(&b, "@%s\n", body)
	path := filepath.Join(dir, "targets.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeWrkScript writes wrk's Lua script: the same delivery as vegeta's.
func writeWrkScript(t *testing.T, path, targets string) {
	t.Helper()
	raw, err := os.ReadFile(targets)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	body, err := os.ReadFile(strings.TrimPrefix(lines[len(lines)-1], "@"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("wrk.method = \"POST\"\n")
	fmt.Fprintf(&b, "wrk.body = %s\n", luaString(string(body)))
	for _, l := range lines[1 : len(lines)-1] {
		name, value, _ := strings.Cut(l, ": ")
		fmt.Fprintf(&b, "wrk.headers[%s] = %s\n", luaString(name), luaString(value))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// luaString quotes s as a Lua long string, which takes it verbatim.
func luaString(s string) string {
	eq := ""
	for strings.Contains(s, "]"+eq+"]") {
		eq += "="
	}
	return "[" + eq + "[" + s + "]" + eq + "]"
}

func median(rs []costRun) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = r.perDelivery()
	}
	slices.SortFunc(ds, cmp.Compare)
	return ds[len(ds)/2]
}

// pairedRatio is the median of the ratios of a's runs to b's run of the
// same round: neighbours in time share the machine's other work.
func pairedRatio(a, b []costRun) float64 {
	rs := make([]float64, len(a))
	for i := range a {
		rs[i] = float64(a[i].perDelivery()) / float64(max(b[i].perDelivery(), 1))
	}
	slices.Sort(rs)
	return rs[len(rs)/2]
}

func minimum(rs []costRun) time.Duration {
	least := rs[0].perDelivery()
	for _, r := range rs[1:] {
		least = min(least, r.perDelivery())
	}
	return least
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

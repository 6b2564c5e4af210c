package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// compressed is the timing both paths of TestBothPathsAgree run at: the
// waits that only cost time shortened, so the whole catalogue takes
// seconds, and the bounds a correct answer must meet generous, so that a
// busy machine does not make one path's verdict differ from the other's.
// IDEM-06 bursts a tenth of its real volume.
var compressed = map[string]string{
	"ACK_DEADLINE": "3s", "SENDER_TIMEOUT": "6s", "SETTLE": "2s", "RETRY_SCHEDULE": "250ms,500ms,1s", "DEDUPE_GAP": "2s",
	"DEDUPE_VOLUME": "200",
}

// verdicts reads a report.json's verdict per check ID, its counts and its
// exit code.
func verdicts(t *testing.T, dir string) (map[string]string, map[string]int, int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		ExitCode int            `json:"exitCode"`
		Counts   map[string]int `json:"counts"`
		Results  []struct {
			ID      string `json:"id"`
			Verdict string `json:"verdict"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rep.Results {
		out[r.ID] = r.Verdict
	}
	return out, rep.Counts, rep.ExitCode
}

// TestBothPathsAgree certifies one receiver, a reference receiver with a
// planted fault running as its own process, twice: through make and the
// Ginkgo suite, and through the binary alone. Both give the same check
// IDs, the same verdict for each and the same counts: they are one
// session and one report writer, whatever front end.
func TestBothPathsAgree(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the catalogue twice")
	}
	const secret = "whsec_both_paths_agree_secret"
	webhook, probe := startReceiver(t, secret, "--fault", "double-process")
	makeDir, binDir := t.TempDir(), t.TempDir()

	vars := []string{"URL=" + webhook, "PROBE_URL=" + probe, "SECRET=" + secret, "REPORT_DIR=" + makeDir}
	args := []string{"conformance", "--url", webhook, "--probe-url", probe, "--report-dir", binDir}
	var env []string
	for _, k := range slices.Sorted(maps.Keys(compressed)) {
		vars = append(vars, k+"="+compressed[k])
		env = append(env, "HOOKCERT_"+k+"="+compressed[k])
	}
	env = append(env, "REALM_WEBHOOK_SECRET="+secret)

	code, out := makeConformance(t, vars...)
	if code != 2 || statusOf(t, makeDir) != 1 {
		t.Fatalf("make conformance: exit %d, status %d; want 2 (make) and 1 (not compliant)\n%s", code, statusOf(t, makeDir), out)
	}
	r := hookcert(t, "", env, args...)
	if r.code != 1 {
		t.Fatalf("hookcert conformance: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mv, mc, mexit := verdicts(t, makeDir)
	bv, bc, bexit := verdicts(t, binDir)
	if !maps.Equal(mv, bv) || !maps.Equal(mc, bc) || mexit != bexit {
		t.Fatalf("the paths disagree:\nmake:   %v %v exit %d\nbinary: %v %v exit %d", mv, mc, mexit, bv, bc, bexit)
	}
	if mv["IDEM-02"] != "FAIL" || mv["SIG-01"] != "PASS" {
		t.Fatalf("double-process is not caught: IDEM-02 %s, SIG-01 %s", mv["IDEM-02"], mv["SIG-01"])
	}
	// One summary on each console, the binary's on stdout.
	for name, console := range map[string]string{"make": out, "binary": r.stdout} {
		if n := strings.Count(console, "verdict: NOT COMPLIANT (exit 1)"); n != 1 {
			t.Errorf("%s printed the verdict %d times, want once:\n%s", name, n, console)
		}
		if strings.Contains(console, "Ran ") || strings.Contains(console, "Specs in") {
			t.Errorf("%s printed Ginkgo's summary too:\n%s", name, console)
		}
	}
}

// TestConformanceCommandExits checks the binary's own exit statuses: 0
// for a correct receiver, 1 for a faulty one (0 under --fail-on
// cannot-run, which only a run that cannot be made fails), 2 for a run
// that cannot be made, each with its report written.
func TestConformanceCommandExits(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs part of the catalogue")
	}
	const secret = "whsec_conformance_command_exits"
	webhook, probe := startReceiver(t, secret)
	faulty, faultyProbe := startReceiver(t, secret, "--fault", "double-process")
	env := []string{"REALM_WEBHOOK_SECRET=" + secret, "HOOKCERT_SETTLE=2s", "HOOKCERT_DEDUPE_GAP=1s", "HOOKCERT_ACK_DEADLINE=3s"}
	for _, tc := range []struct {
		why    string
		args   []string
		code   int
		report int
	}{
		{"a correct receiver", []string{"--url", webhook, "--probe-url", probe}, 0, 0},
		{"a receiver that processes duplicates twice", []string{"--url", faulty, "--probe-url", faultyProbe}, 1, 1},
		{"the same under --fail-on cannot-run", []string{"--url", faulty, "--probe-url", faultyProbe, "--fail-on", "cannot-run"}, 0, 1},
		{"an unreachable receiver", []string{"--url", "http://127.0.0.1:1/webhook", "--fail-on", "cannot-run"}, 2, 2},
		{"a label filter that selects nothing", []string{"--url", webhook, "--labels", "idempotence"}, 2, 2},
	} {
		t.Run(tc.why, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := append([]string{"conformance", "--labels", "idempotency && !slow", "--dedupe-volume", "200", "--report-dir", dir}, tc.args...)
			r := hookcert(t, "", env, args...)
			_, _, exit := verdicts(t, dir)
			if r.code != tc.code || exit != tc.report {
				t.Fatalf("exit %d and report.json exitCode %d, want %d and %d\n%s\n%s", r.code, exit, tc.code, tc.report, r.stdout, r.stderr)
			}
		})
	}
}

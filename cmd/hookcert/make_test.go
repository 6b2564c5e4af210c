package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness/scenario"
)

// makeConformance runs `make conformance` at the repository root with the
// given variables, as a user's pipeline would. GNU make exits 2 whenever a
// recipe fails, so make itself can only say 0 or 2; the exact status 0, 1
// or 2 is what its last command, `hookcert status`, exits with, checked by
// statusOf.
func makeConformance(t *testing.T, vars ...string) (int, string) {
	t.Helper()
	return makeTarget(t, "conformance", vars...)
}

// readReport checks the three report files exist and returns report.json's
// exit code and the number of JUnit test cases.
func readReport(t *testing.T, dir string) (exitCode, cases int) {
	t.Helper()
	for _, f := range []string{"index.html", "junit.xml", "report.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s was not written: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		ExitCode int `json:"exitCode"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	cases = len(junitCaseNames(t, dir))
	return rep.ExitCode, cases
}

// statusOf runs `hookcert status DIR`, the command make conformance ends
// with, and returns its exit status.
func statusOf(t *testing.T, dir string) int {
	t.Helper()
	return hookcert(t, "", nil, "status", dir).code
}

// wantRecordedExit checks that report.json in dir records the exit status
// want, and that hookcert status exits with it.
func wantRecordedExit(t *testing.T, dir string, want int) {
	t.Helper()
	if exit, _ := readReport(t, dir); exit != want {
		t.Fatalf("report.json says exit %d, want %d", exit, want)
	}
	if got := statusOf(t, dir); got != want {
		t.Fatalf("hookcert status exits %d, want %d", got, want)
	}
}

func TestMakeConformanceEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs make conformance three times")
	}
	t.Run("the bundled reference receiver is compliant", makeReferenceIsCompliant)
	t.Run("a receiver that processes duplicates twice is not compliant", makeDoubleProcessIsNotCompliant)
	t.Run("a receiver verifying another signing scheme is certified in it", makeOtherSchemeIsCertified)
	t.Run("an unreachable URL cannot be certified", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		code, out := makeConformance(t, "URL=http://127.0.0.1:1/webhook", "SECRET=whsec_x", "REPORT_DIR="+dir)
		if code != 2 {
			t.Fatalf("exit %d, want 2:\n%s", code, out)
		}
		wantRecordedExit(t, dir, 2)
		if !strings.Contains(out, "unreachable") {
			t.Fatalf("the output does not say the target is unreachable:\n%s", out)
		}
	})
	t.Run("a broken scenario file stops the run and says where", func(t *testing.T) {
		t.Parallel()
		scenarios := t.TempDir()
		if err := os.WriteFile(filepath.Join(scenarios, "mine.yaml"), []byte("id: MY-01\ntitle: x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		code, out := makeConformance(t, "SCENARIOS="+scenarios, "REPORT_DIR="+dir)
		if code != 2 || !strings.Contains(out, "mine.yaml:1:1") || strings.Contains(out, "Test Suite Passed") {
			t.Fatalf("exit %d, want 2 naming mine.yaml and the line:\n%s", code, out)
		}
		if exit, _ := readReport(t, dir); exit != 2 {
			t.Fatalf("report.json says exit %d, want 2", exit)
		}
	})
	// One that does not parse takes the same path (the suite's
	// TestLabelFilters).
	for _, tc := range []struct{ why, labels, want string }{
		{"a label filter that selects no check says so", "signatuer", `LABELS: "signatuer" selects no check`},
	} {
		t.Run(tc.why, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code, out := makeConformance(t, "LABELS="+tc.labels, "REPORT_DIR="+dir)
			if code != 2 || !strings.Contains(out, tc.want) || strings.Contains(out, "SUCCESS!") || strings.Contains(out, "interrupted") {
				t.Fatalf("exit %d, want 2 saying %q, and no word of a passed or interrupted suite:\n%s", code, tc.want, out)
			}
			wantRecordedExit(t, dir, 2)
		})
	}
	t.Run("a report directory that cannot be made is one clear error", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "a-file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := makeConformance(t, "REPORT_DIR="+filepath.Join(file, "reports"))
		if code != 2 || !strings.Contains(out, "a-file") || strings.Contains(out, "verdict") || strings.Contains(out, "reports:") {
			t.Fatalf("exit %d, want 2 naming the directory, with no verdict and no report paths:\n%s", code, out)
		}
	})
	t.Run("an empty secret cannot be certified", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		code, out := makeConformance(t, "URL=http://127.0.0.1:1/webhook", "REPORT_DIR="+dir)
		if code != 2 || !strings.Contains(out, "the secret is empty: give it with SECRET") {
			t.Fatalf("exit %d, want 2 with a message about SECRET:\n%s", code, out)
		}
		readReport(t, dir)
	})
}

// makeReferenceIsCompliant certifies the bundled reference receiver with
// make conformance's defaults: the one real-time run of the catalogue.
func makeReferenceIsCompliant(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out := makeConformance(t, "REPORT_DIR="+dir)
	if code != 0 || statusOf(t, dir) != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	exit, cases := readReport(t, dir)
	catalogue, err := scenario.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// The slow checks run only when LABELS names them.
	catalogue = slices.DeleteFunc(catalogue, func(s *scenario.Scenario) bool { return !s.Runs("") })
	if exit != 0 || cases != len(catalogue) {
		t.Fatalf("report.json exit %d and %d JUnit cases, want 0 and one per check (%d)", exit, cases, len(catalogue))
	}
	if !strings.Contains(out, "COMPLIANT (exit 0)") {
		t.Fatalf("the output does not end with the verdict:\n%s", out)
	}
}

// makeDoubleProcessIsNotCompliant plants a fault that processes
// duplicates twice: make fails, the reports say NOT COMPLIANT and name the
// check, and nothing holds the secret.
func makeDoubleProcessIsNotCompliant(t *testing.T) {
	t.Parallel()
	const secret = "whsec_make_e2e"
	webhook, probe := startReceiver(t, secret, "--fault", "double-process")
	dir := t.TempDir()
	// The one real-time run of the catalogue is makeReferenceIsCompliant's;
	// this one compresses the sender's waits through the make variables
	// and selects, through LABELS, the checks the fault breaks and those
	// whose evidence carries signatures; IDEM-06's burst is a tenth of
	// the real one, which makeReferenceIsCompliant sends.
	code, out := makeConformance(t, "URL="+webhook, "SECRET="+secret, "PROBE_URL="+probe, "REPORT_DIR="+dir,
		"SETTLE=1s", "SENDER_TIMEOUT=2s", "RETRY_SCHEDULE=250ms,500ms,1s", "DEDUPE_GAP=2s", "DEDUPE_VOLUME=200", "LABELS=idempotency || signature")
	if code != 2 || !strings.Contains(out, "NOT COMPLIANT (exit 1)") {
		t.Fatalf("make exit %d, want 2 (make's failure) with the verdict NOT COMPLIANT (exit 1):\n%s", code, out)
	}
	wantRecordedExit(t, dir, 1)
	if !strings.Contains(out, "IDEM-02") {
		t.Fatalf("the summary does not name the failed check IDEM-02:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Fatal("make conformance printed the secret")
	}
	for _, f := range []string{"index.html", "junit.xml", "report.json"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if strings.Contains(string(b), secret) {
			t.Fatalf("%s holds the secret", f)
		}
	}
}

// makeOtherSchemeIsCertified certifies the reference receiver in GitHub's
// signing scheme, which has no use for five checks of REALM's.
func makeOtherSchemeIsCertified(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out := makeConformance(t, "SCHEME=github", "REPORT_DIR="+dir, "LABELS=signature",
		"SETTLE=1s", "SENDER_TIMEOUT=2s", "RETRY_SCHEDULE=250ms,500ms,1s", "DEDUPE_GAP=2s")
	if code != 0 || !strings.Contains(out, "COMPLIANT (exit 0)") || !strings.Contains(out, "5 N/A") {
		t.Fatalf("make exit %d, want 0, COMPLIANT, with SIG-06, 07, 08, 13 and 14 N/A:\n%s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Settings struct {
			Scheme string `json:"scheme"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Settings.Scheme != "github" {
		t.Fatalf("report.json settings.scheme %q (%v), want github", rep.Settings.Scheme, err)
	}
}

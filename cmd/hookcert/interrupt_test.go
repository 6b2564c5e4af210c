package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// makeInterrupted runs `make TARGET VARS...` in a process group of its
// own, as a terminal runs it, and presses Ctrl-C (SIGINT to the whole
// group, make included) once a line of the output starts with cue. It
// returns make's exit status as a shell reports it (130 when the interrupt
// ended make, as GNU make does once its recipe has ended) and its output.
func makeInterrupted(t *testing.T, cue, target string, vars ...string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"-C", "../..", target}, vars...)...)
	cmd.Env = append(os.Environ(), "REALM_WEBHOOK_SECRET=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A stuck run is ended with its whole group.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		pressed := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !pressed && strings.HasPrefix(sc.Text(), cue) {
				pressed = true
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Wait()
	pw.Close()
	<-read
	if ctx.Err() != nil {
		t.Fatalf("make %s did not end after Ctrl-C:\n%s", target, out.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// As a shell reports it: 128 + the signal.
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

// TestCtrlCStopsARunOnce presses Ctrl-C once during make conformance and
// make load: the run stops once (no second interrupt, no stack dump),
// says so, and still writes reports that say it did not end.
func TestCtrlCStopsARunOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs make conformance and make load")
	}
	for _, tc := range []struct {
		target, cue string
		vars        []string
	}{
		// The retry checks wait out the retry schedule, so the run is
		// still under way when the key is pressed.
		{"conformance", "running ", []string{"LABELS=retry"}},
		{"load", "attacking ", []string{"RATE=20", "DURATION=30s"}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code, out := makeInterrupted(t, tc.cue, tc.target, append(tc.vars, "REPORT_DIR="+dir)...)
			if code != 128+int(syscall.SIGINT) && code != 2 {
				t.Errorf("make exit %d, want 130 (ended by the interrupt) or 2", code)
			}
			for _, bad := range []string{"goroutine ", "Interrupted by User", "SUCCESS!", "COMPLIANT (exit 0)"} {
				if strings.Contains(out, bad) {
					t.Errorf("the output holds %q", bad)
				}
			}
			if n := strings.Count(out, "interrupt: stopping"); n != 1 {
				t.Errorf("the interrupt was announced %d times, want once", n)
			}
			if !strings.Contains(out, "NOT CERTIFIED (exit 2)") {
				t.Errorf("the output does not give the verdict NOT CERTIFIED (exit 2)")
			}
			oneSummary(t, out)
			b, err := os.ReadFile(filepath.Join(dir, "report.json"))
			if err != nil {
				t.Fatalf("no report after Ctrl-C: %v\n%s", err, out)
			}
			var rep struct {
				ExitCode int    `json:"exitCode"`
				Complete bool   `json:"complete"`
				Error    string `json:"error"`
				Results  []struct {
					ID string `json:"id"`
				} `json:"results"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.ExitCode != 2 || rep.Complete || !strings.Contains(rep.Error, "interrupted") || len(rep.Results) == 0 {
				t.Errorf("report: exit %d, complete %t, error %q, %d results; want 2, false, interrupted, the checks' results",
					rep.ExitCode, rep.Complete, rep.Error, len(rep.Results))
			}
			if got := statusOf(t, dir); got != 2 {
				t.Errorf("hookcert status exits %d, want 2", got)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

var countsRE = regexp.MustCompile(`\d+ checks: \d+ FAIL, \d+ WARN, \d+ SKIP, \d+ PASS, \d+ INFO`)

// oneSummary checks that the console has one summary, the report's: its
// counts once, and not Ginkgo's tally, which would time the reporting
// rather than the checks.
func oneSummary(t *testing.T, out string) {
	t.Helper()
	if n := len(countsRE.FindAllString(out, -1)); n != 1 {
		t.Errorf("the console has the report's counts %d times, want once", n)
	}
	if strings.Contains(out, "Specs in") {
		t.Errorf("the console has Ginkgo's tally besides the report's summary")
	}
}

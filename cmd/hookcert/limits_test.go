package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/report"
)

// limitRun is one hookcert run under a limit of open files.
type limitRun struct {
	result
	took time.Duration
	rep  *report.Report
}

// underFileLimit runs hookcert with args under `ulimit -n limit` (soft and
// hard: the Go runtime raises the soft limit to the hard one), with taken
// descriptors already open in it, writing its reports into dir.
func underFileLimit(t *testing.T, limit, taken int, dir string, args ...string) limitRun {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("sets the limit with bash's ulimit and counts on Linux's EMFILE")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	var extra []*os.File
	for range taken {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		extra = append(extra, f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{"-c", `ulimit -n "$0" && exec "$@"`, strconv.Itoa(limit), binPath},
		append(args, "--report-dir", dir)...)...)
	cmd.ExtraFiles = extra
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	began := time.Now()
	err := cmd.Run()
	r := limitRun{result: result{stdout: out.String(), stderr: errb.String()}, took: time.Since(began)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "report.json")); err == nil {
		r.rep = new(report.Report)
		if err := json.Unmarshal(b, r.rep); err != nil {
			t.Fatalf("report.json: %v", err)
		}
	}
	return r
}

// TestTooFewOpenFilesStopAtOnce: a run whose process may open fewer files
// than it needs stops before its first check with status 2, naming the
// limit and what to do, and writes its report; it never fails the
// receiver for the harness's own want of connections. Over HTTP/1.1 each
// delivery under way holds a connection, two files with the reference
// receiver in the same process: the catalogue needs more than 256, a load
// its rate times the ack deadline.
func TestTooFewOpenFilesStopAtOnce(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"conformance", "--http-version", "1.1"},
		{"load", "--http-version", "1.1", "--rate", "200", "--duration", "2s"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			r := underFileLimit(t, 256, 0, t.TempDir(), args...)
			const say = "open files limit 256 is below the "
			if r.code != 2 || !strings.Contains(r.stderr, say) || !strings.Contains(r.stderr, "raise it with ulimit -n") {
				t.Fatalf("%v: exit %d, want 2 saying %q and what to do:\n%s", args, r.code, say, r.stderr)
			}
			if r.took > 10*time.Second {
				t.Errorf("%v took %s to stop: it must stop before it starts", args, r.took)
			}
			if r.rep == nil || r.rep.ExitCode != 2 || len(r.rep.Results) > 0 || !strings.Contains(r.rep.Error, say) {
				t.Fatalf("%v: the report must say why the run could not be made, with no verdict: %+v", args, r.rep)
			}
		})
	}
}

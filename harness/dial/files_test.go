package dial_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/dial"
)

// TestOutOfFilesTellsTheRun runs a child of this test under a limit of
// open files that it uses up, then has it dial a server through
// Transport: the dial fails for want of files, and the run's function is
// told so, with the limit, before the request returns.
func TestOutOfFilesTellsTheRun(t *testing.T) {
	if os.Getenv("HOOKCERT_DIAL_CHILD") == "1" {
		runOutOfFiles(t)
		return
	}
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("sets the limit with bash's ulimit")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", `ulimit -n 64 && exec "$@"`, "bash", exe, "-test.run=^TestOutOfFilesTellsTheRun$", "-test.v")
	cmd.Env = append(os.Environ(), "HOOKCERT_DIAL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestOutOfFilesTellsTheRun") {
		t.Fatalf("the child under ulimit -n 64: %v\n%s", err, out)
	}
}

func runOutOfFiles(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	if limit, ok := dial.FilesLimit(); !ok || limit != 64 {
		t.Fatalf("FilesLimit: %d, %v; want 64", limit, ok)
	}
	var held []*os.File
	defer func() {
		for _, f := range held {
			f.Close()
		}
	}()
	for len(held) < 64 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !dial.OutOfFiles(err) {
				t.Fatalf("opening a file past the limit: %v, which OutOfFiles does not recognise", err)
			}
			break
		}
		held = append(held, f)
	}
	var told *dial.FilesError
	ctx := dial.WithOutOfFiles(context.Background(), func(e *dial.FilesError) { told = e })
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := (&http.Client{Transport: dial.Transport(nil, 5*time.Second, 1)}).Do(req)
	if !dial.OutOfFiles(err) {
		t.Fatalf("a request with every file taken: %v, want one that ran out of files", err)
	}
	if told == nil || told.Limit != 64 || !errors.Is(told, dial.ErrOutOfFiles) ||
		!strings.Contains(told.Error(), "open files limit 64 was reached") || !strings.Contains(told.Error(), "ulimit -n") {
		t.Fatalf("the run was told %v, want the limit, that it was reached and what to do", told)
	}
}

// TestCheckFilesNamesTheLimitAndTheNeed: a need above the process's
// limit is refused in words that say both and what to do; one within it
// is not.
func TestCheckFilesNamesTheLimitAndTheNeed(t *testing.T) {
	t.Parallel()
	limit, ok := dial.FilesLimit()
	if !ok || limit >= 1<<40 {
		t.Skip("no limit of open files to speak of here")
	}
	if err := dial.CheckFiles(int(limit), "all of them"); err != nil {
		t.Fatalf("a need of the limit itself: %v", err)
	}
	err := dial.CheckFiles(int(limit)+1, "one too many")
	var fe *dial.FilesError
	if !errors.As(err, &fe) || fe.Limit != limit || !errors.Is(err, dial.ErrOutOfFiles) ||
		!strings.Contains(err.Error(), "is below the ") || !strings.Contains(err.Error(), "(one too many); raise it with ulimit -n") {
		t.Fatalf("CheckFiles(limit+1): %v", err)
	}
	if dial.OutOfFiles(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}) {
		t.Fatal("a refused connection is not a want of files")
	}
}

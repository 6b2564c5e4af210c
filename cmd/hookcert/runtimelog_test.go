package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRuntimeLogWritesTheProcessFigures: with HOOKCERT_RUNTIME_LOG set, a
// line at once, one every HOOKCERT_RUNTIME_EVERY and a last one at the
// end, each a sample of this process; without it, no file.
func TestRuntimeLogWritesTheProcessFigures(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "runtime.jsonl")
	vars := map[string]string{runtimeLogEnv: path, runtimeEveryEnv: "20ms"}
	e := env{stderr: io.Discard, getenv: func(k string) string { return vars[k] }}
	began := time.Now()
	stop := startRuntimeLog(e)
	time.Sleep(100 * time.Millisecond)
	stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d lines, want the first, at least one every 20ms and the last:\n%s", len(lines), b)
	}
	for _, l := range lines {
		var s runtimeSample
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if s.HeapObjects == 0 || s.Goroutines == 0 || s.Time.Before(began) {
			t.Fatalf("line %q is not a sample of this process", l)
		}
	}

	var stderr bytes.Buffer
	none := env{stderr: &stderr, getenv: func(string) string { return "" }}
	startRuntimeLog(none)()
	if stderr.Len() > 0 {
		t.Fatalf("without %s: %q", runtimeLogEnv, stderr.String())
	}
}

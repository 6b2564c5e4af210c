package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadBounded runs LoadDir, failing the test instead of hanging it should
// the after check ever loop.
func loadBounded(t *testing.T, dir string) ([]*Scenario, error) {
	t.Helper()
	type result struct {
		set []*Scenario
		err error
	}
	out := make(chan result, 1)
	go func() {
		set, err := LoadDir(dir)
		out <- result{set, err}
	}()
	select {
	case r := <-out:
		return r.set, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("LoadDir did not return")
		return nil, nil
	}
}

// TestLoadDirRejectsAfterCycles: a user's directory whose after order has a
// cycle is refused, with the cycle spelled out by ID at the file and line
// that closes it, and nothing is returned to run (a run would otherwise
// wait forever for a check that waits for itself).
func TestLoadDirRejectsAfterCycles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string // file name: ID and extra lines
		file  string            // the file blamed
		cycle string            // the cycle as the message spells it
		out   []string          // IDs the message must not name
	}{
		{
			name: "two files naming each other",
			files: map[string]string{
				"my-01.yaml": "MY-01\nafter: [MY-02]",
				"my-02.yaml": "MY-02\nafter: [MY-01]",
			},
			file:  "my-02.yaml",
			cycle: "MY-01 → MY-02 → MY-01",
		},
		{
			name: "three files in a ring, a fourth after the ring and a fifth alone",
			files: map[string]string{
				"my-01.yaml": "MY-01\nafter: [MY-02]",
				"my-02.yaml": "MY-02\nafter: [MY-03]",
				"my-03.yaml": "MY-03\nafter: [MY-01]",
				"my-04.yaml": "MY-04\nafter: [MY-01]",
				"my-05.yaml": "MY-05",
			},
			file:  "my-03.yaml",
			cycle: "MY-01 → MY-02 → MY-03 → MY-01",
			out:   []string{"MY-04", "MY-05"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, spec := range tc.files {
				id, extra, _ := strings.Cut(spec, "\n")
				var lines []string
				if extra != "" {
					lines = strings.Split(extra, "\n")
				}
				if err := os.WriteFile(filepath.Join(dir, name), file(id, lines...).Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			set, err := loadBounded(t, dir)
			if err == nil {
				t.Fatalf("LoadDir accepted a cycle: %v", ids(set))
			}
			if set != nil {
				t.Errorf("LoadDir returned %v with its error; want nothing to run", ids(set))
			}
			want := filepath.Join(dir, tc.file)
			var found bool
			for _, fe := range fileErrors(err) {
				for _, p := range fe.Problems {
					if fe.File == want && p.Line == 7 && p.Pointer == "/after/0" &&
						strings.Contains(p.Message, "after makes a cycle, "+tc.cycle) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("no problem in %s at line 7, /after/0, naming the cycle %s; got:\n%v", want, tc.cycle, err)
			}
			if !strings.Contains(err.Error(), "a check would wait for itself") {
				t.Errorf("the error does not say why a cycle is wrong:\n%v", err)
			}
			for _, id := range tc.out {
				if strings.Contains(err.Error(), id) {
					t.Errorf("the error names %s, which is not in the cycle:\n%v", id, err)
				}
			}
		})
	}
}

// TestLoadDirRejectsAnAfterToNowhere: an after that names an ID no file of
// the directory has is refused, naming the ID, the file and the line.
func TestLoadDirRejectsAnAfterToNowhere(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "my-01.yaml"), file("MY-01", "after: [MY-99]").Data, 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := loadBounded(t, dir)
	if err == nil {
		t.Fatalf("LoadDir accepted an after to a missing ID: %v", ids(set))
	}
	fes := fileErrors(err)
	if len(fes) != 1 || fes[0].File != filepath.Join(dir, "my-01.yaml") || len(fes[0].Problems) != 1 ||
		fes[0].Problems[0].Line != 7 || !strings.Contains(fes[0].Problems[0].Message, "after names MY-99, which is not a scenario of this set") {
		t.Errorf("LoadDir(after: [MY-99]) = %v; want one problem in my-01.yaml at line 7 naming MY-99", err)
	}
}

// TestMergeRejectsACycleThroughTheBuiltins: a scenario that replaces a
// built-in check can close a cycle with the built-in after order (ROB-06
// comes after ROB-01..05); merging the catalogue refuses it, naming both
// checks. (LoadDir already refuses a user's file whose after names an ID
// outside its directory, so this is Merge's own guard.)
func TestMergeRejectsACycleThroughTheBuiltins(t *testing.T) {
	builtin, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	mine := []*Scenario{{ID: "ROB-01", Source: "mine/rob-01.yaml", After: []string{"ROB-06"}}}
	set, _, err := Merge(builtin, mine)
	if err == nil {
		t.Fatalf("Merge accepted a cycle: %v", ids(set))
	}
	if !strings.Contains(err.Error(), "after makes a cycle, ROB-01 → ROB-06 → ROB-01") {
		t.Errorf("Merge(ROB-01 after ROB-06) = %v; want the cycle ROB-01 → ROB-06 → ROB-01 named", err)
	}
}

package scenario

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/realm-ai/hookcert/scenarios"
)

// file is a minimal valid scenario with the given ID and extra top-level
// lines (after:, probe:, ...) before its steps. Its id is on line 1.
func file(id string, extra ...string) *fstest.MapFile {
	src := "id: " + id + "\ntitle: t\nlevel: MUST\ncategory: test\nrequirement: r\nseed: s\n"
	for _, e := range extra {
		src += e + "\n"
	}
	src += "steps:\n  - tls: {check: info}\n"
	return &fstest.MapFile{Data: []byte(src)}
}

func ids(set []*Scenario) []string {
	out := make([]string, len(set))
	for i, s := range set {
		out[i] = s.ID
	}
	return out
}

// TestBuiltin loads the real catalogue: every file must load (a failure
// names the file, line and mistake of the built-in YAML), and follow the
// folder's conventions.
func TestBuiltin(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatalf("the built-in scenarios do not load:\n%v", err)
	}
	files, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != len(files) || len(set) == 0 {
		t.Fatalf("loaded %d scenarios from %d files", len(set), len(files))
	}
	if !slices.IsSortedFunc(set, func(a, b *Scenario) int { return compareIDs(a.ID, b.ID) }) {
		t.Errorf("not sorted by ID: %v", ids(set))
	}
	for _, s := range set {
		if want := path.Join(builtinDir, strings.ToLower(s.ID)+".yaml"); s.Source != want {
			t.Errorf("%s: Source %q, want %q (a built-in file is named for its ID)", s.ID, s.Source, want)
		}
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"set/sig-10.yaml":     file("SIG-10"),
		"set/sig-09.yml":      file("SIG-09", "after: [SIG-100]"),
		"set/sig-100.json":    {Data: []byte(`{"id":"SIG-100","title":"t","level":"INFO","category":"test","requirement":"r","seed":"s","steps":[{"tls":{"check":"info"}}]}`)},
		"set/README.md":       {Data: []byte("not a scenario")},
		"set/.draft.yaml":     {Data: []byte("broken: [")},
		"set/nested/x.yaml":   {Data: []byte("broken: [")},
		"other/ignored.yaml":  file("SIG-01"),
		"set/deeper.yaml/z.y": {Data: []byte("a directory with a scenario's extension is skipped")},
	}
	set, err := loadFS(fsys, "set")
	if err != nil {
		t.Fatalf("loadFS: %v", err)
	}
	if got, want := ids(set), []string{"SIG-09", "SIG-10", "SIG-100"}; !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v (numeric order; other files, hidden files and subfolders ignored)", got, want)
	}
	if set[0].Source != "set/sig-09.yml" {
		t.Errorf("Source = %q, want set/sig-09.yml", set[0].Source)
	}
}

// TestLoadRejects covers mistakes that span files; each must name the file
// at fault, the line and, for duplicates, the other file.
func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fsys    fstest.MapFS
		file    string
		line    int
		pointer string
		message string
	}{
		{
			name:    "duplicate ID across files names both",
			fsys:    fstest.MapFS{"a.yaml": file("SIG-01"), "b.yaml": file("SIG-01")},
			file:    "b.yaml",
			line:    1,
			pointer: "/id",
			message: "ID SIG-01 is already used by a.yaml:1",
		},
		{
			name:    "after with a malformed ID says what an ID looks like",
			fsys:    fstest.MapFS{"a.yaml": file("SIG-01", "after: [SIG-01X, SIG-99]")},
			file:    "a.yaml",
			line:    7,
			pointer: "/after/0",
			message: `"SIG-01X" is not a check ID`,
		},
		{
			name:    "after names a missing ID of the right shape",
			fsys:    fstest.MapFS{"a.yaml": file("SIG-01", "after: [SIG-99]")},
			file:    "a.yaml",
			line:    7,
			pointer: "/after/0",
			message: "after names SIG-99, which is not a scenario of this set",
		},
		{
			name: "after cycle across three files",
			fsys: fstest.MapFS{
				"a.yaml": file("A-01", "after: [B-01]"),
				"b.yaml": file("B-01", "after: [C-01]"),
				"c.yaml": file("C-01", "after:", "  - A-01"),
			},
			file:    "c.yaml",
			line:    8,
			pointer: "/after/0",
			message: "after makes a cycle, A-01 → B-01 → C-01 → A-01",
		},
		{
			name:    "a scenario waiting for itself",
			fsys:    fstest.MapFS{"a.yaml": file("A-01", "after: [A-01]")},
			file:    "a.yaml",
			line:    7,
			pointer: "/after/0",
			message: "after makes a cycle, A-01 → A-01",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := loadFS(tc.fsys, ".")
			if err == nil {
				t.Fatalf("loadFS accepted it: %v", ids(set))
			}
			var found bool
			for _, fe := range fileErrors(err) {
				for _, p := range fe.Problems {
					if fe.File == tc.file && p.Line == tc.line && p.Pointer == tc.pointer && strings.Contains(p.Message, tc.message) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("no problem in %s at line %d, %s, saying %q; got:\n%v", tc.file, tc.line, tc.pointer, tc.message, err)
			}
		})
	}
}

// TestLoadCollectsEveryError: a user fixing a directory wants every mistake
// at once, not one per run.
func TestLoadCollectsEveryError(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yaml":    {Data: []byte("id: [")},
		"b.yaml":    file("B-01", "level2: MUST"),
		"good.yaml": file("C-01", "after: [Z-01]"),
	}
	_, err := loadFS(fsys, ".")
	fes := fileErrors(err)
	var files []string
	for _, fe := range fes {
		files = append(files, fe.File)
	}
	// good.yaml's after is not reported: Z-01 might be the ID of a.yaml,
	// which did not parse.
	if want := []string{"a.yaml", "b.yaml"}; !slices.Equal(files, want) {
		t.Errorf("files with errors = %v, want %v; error:\n%v", files, want, err)
	}
}

func TestLoadEmpty(t *testing.T) {
	_, err := loadFS(fstest.MapFS{"notes.txt": {Data: []byte("x")}}, ".")
	if !errors.Is(err, errNoScenarios) {
		t.Errorf("loadFS(no scenario files) = %v, want errNoScenarios", err)
	}
	if _, err := loadFS(fstest.MapFS{}, "missing"); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("loadFS(missing dir) = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "my-01.yaml"), file("MY-01").Data, 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	if want := filepath.Join(dir, "my-01.yaml"); len(set) != 1 || set[0].Source != want {
		t.Errorf("LoadDir = %v, want MY-01 from %s", set, want)
	}

	missing := filepath.Join(dir, "nope")
	if _, err := LoadDir(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing+" does not exist") {
		t.Errorf("LoadDir(missing) = %v, want an error saying %s does not exist", err, missing)
	}
	if _, err := LoadDir(filepath.Join(dir, "my-01.yaml")); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("LoadDir(a file) = %v, want an error saying it is a file", err)
	}
	empty := t.TempDir()
	if _, err := LoadDir(empty); !errors.Is(err, errNoScenarios) || !strings.Contains(err.Error(), empty) {
		t.Errorf("LoadDir(empty) = %v, want errNoScenarios naming %s", err, empty)
	}

	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("id: MY-02\nsteps: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadDir(dir)
	if fes := fileErrors(err); len(fes) != 1 || fes[0].File != filepath.Join(dir, "bad.yaml") {
		t.Errorf("LoadDir(with a broken file) = %v, want one fileError for the path on disk", err)
	}
}

func TestMerge(t *testing.T) {
	builtin := []*Scenario{
		{ID: "SIG-01", Source: "scenarios/sig-01.yaml"},
		{ID: "SIG-02", Source: "scenarios/sig-02.yaml", After: []string{"SIG-01"}},
	}
	mine := []*Scenario{
		{ID: "SIG-01", Source: "mine/sig-01.yaml"},
		{ID: "MY-01", Source: "mine/my-01.yaml"},
	}
	set, replaced, err := Merge(builtin, mine)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if got, want := ids(set), []string{"MY-01", "SIG-01", "SIG-02"}; !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	if set[1] != mine[0] {
		t.Errorf("SIG-01 comes from %s, want the later set's mine/sig-01.yaml", set[1].Source)
	}
	if len(replaced) != 1 || replaced[0].Old != builtin[0] || replaced[0].New != mine[0] {
		t.Errorf("replaced = %+v, want the built-in SIG-01 replaced by mine", replaced)
	}

	if _, _, err := Merge(builtin, []*Scenario{{ID: "X-01", Source: "x.yaml"}, {ID: "X-01", Source: "y.yaml"}}); err == nil ||
		!strings.Contains(err.Error(), "x.yaml") || !strings.Contains(err.Error(), "y.yaml") {
		t.Errorf("Merge(a set with an ID twice) = %v, want an error naming both files", err)
	}
	dangling := []*Scenario{{ID: "X-01", Source: "x.yaml", After: []string{"GONE-01"}}}
	_, _, err = Merge(builtin, dangling)
	if fes := fileErrors(err); len(fes) != 1 || fes[0].File != "x.yaml" || !strings.Contains(err.Error(), "GONE-01") {
		t.Errorf("Merge(an after to nowhere) = %v, want a fileError for x.yaml naming GONE-01", err)
	}
}

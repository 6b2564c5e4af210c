package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/realm-ai/hookcert/harness/schema"
	"github.com/realm-ai/hookcert/scenarios"
)

// userFiles are what a user's directory can hold beyond the built-in
// catalogue's YAML: a file with every kind of step, JSON, anchors and
// merge keys, a literal signature header, and the set-level fields.
var userFiles = []string{
	fullFile, jsonFile, mergeFile,
	head + "steps:\n  - send:\n      build: {type: job.completed}\n      signature: {header: \"t={t},v1={v1/2}\"}\n    expect: {status: 4xx}\n",
	head + "exclusive: true\nlabels: [a.b, c-d]\nafter: [SIG-01, ROB-06]\nsteps:\n  - tls: {check: https}\n",
	head + "final: true\nsteps:\n  - ledger: {}\n",
	"%YAML 1.2\n---\n" + head + "steps:\n  - pause: {for: 1ms}\n...\n",
	head + "steps: &s\n  - pause: {for: 1ms}\nx: *s\n",
}

// builtinFiles are the built-in scenario files.
func builtinFiles(f *testing.F) [][]byte {
	names, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, name := range names {
		data, err := fs.ReadFile(scenarios.FS, name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// FuzzParse feeds the parser arbitrary files, seeded with the built-in
// scenarios (as written and as JSON), the files a user may write
// (userFiles) and the broken files of TestParseRejects. Properties: Parse
// never panics; a failure is a *fileError that names the file and whose
// problems all have a message and a place within the file; a success
// re-encodes to JSON that the schema accepts and that parses again to the
// same scenario.
func FuzzParse(f *testing.F) {
	for _, data := range builtinFiles(f) {
		f.Add(data)
		if s, err := Parse("builtin.yaml", data); err == nil {
			if raw, err := json.Marshal(s); err == nil {
				f.Add(raw)
			}
		}
	}
	for _, src := range userFiles {
		f.Add([]byte(src))
	}
	for _, tc := range brokenFiles {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkFileError(t, err, "fuzz.yaml", data)
			return
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if err := schema.Default().Validate(schemaName, raw); err != nil {
			t.Fatalf("accepted scenario re-encodes to invalid JSON: %v\n%s", err, raw)
		}
		again, err := Parse("fuzz.json", raw)
		if err != nil {
			t.Fatalf("accepted scenario does not parse again: %v\n%s", err, raw)
		}
		raw2, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != string(raw2) {
			t.Fatalf("round trip changed the scenario:\n%s\n%s", raw, raw2)
		}
	})
}

// checkFileError asserts that err is the *fileError of file, with problems
// that say something and point inside data.
func checkFileError(t *testing.T, err error, file string, data []byte) {
	t.Helper()
	var fe *fileError
	if !errors.As(err, &fe) {
		t.Fatalf("error is not a *fileError: %v", err)
	}
	if fe.File != file || !strings.HasPrefix(fe.Error(), file) {
		t.Fatalf("the error of %s names %q: %v", file, fe.File, err)
	}
	// A final newline ends the last line; it starts none.
	lines := bytes.Count(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) + 1
	for _, p := range fe.Problems {
		if p.Message == "" || p.Line < 0 || p.Column < 0 || p.Line > lines {
			t.Fatalf("malformed problem %+v in a file of %d lines", p, lines)
		}
	}
}

// FuzzLoad loads a user's directory of two arbitrary files and merges it
// with the built-in catalogue, as a run with SCENARIOS=dir does, seeded
// with pairs of built-in files, files whose after names the other, a
// cycle, and one ID twice. Properties: the error of a set joins one
// *fileError per file at fault, naming it; a set that loads has unique
// IDs, sorted, whose afters are in the set; and so has the merged
// catalogue, which runs (its after order has no cycle).
func FuzzLoad(f *testing.F) {
	// Two built-in files, the smallest, stand for the rest: the minimizer
	// spends its time in proportion to a seed's size.
	files := builtinFiles(f)
	slices.SortFunc(files, func(a, b []byte) int { return len(a) - len(b) })
	f.Add(files[0], files[1])
	my := func(id string, extra ...string) []byte { return file(id, extra...).Data }
	f.Add(my("MY-01", "after: [MY-02]"), my("MY-02"))
	f.Add(my("MY-01", "after: [MY-02]"), my("MY-02", "after: [MY-01]"))
	f.Add(my("MY-01"), my("MY-01"))
	f.Add(my("ROB-01", "after: [ROB-06]"), my("MY-02"))
	f.Add(my("SIG-01", "after: [MY-02]"), my("MY-02", "after: [SIG-01]"))
	f.Add([]byte(fullFile), []byte(mergeFile))
	builtin, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fsys := fstest.MapFS{"a.yaml": {Data: a}, "b.json": {Data: b}}
		set, err := loadFS(fsys, ".")
		if err != nil {
			fes := fileErrors(err)
			if len(fes) == 0 {
				t.Fatalf("loadFS error holds no *fileError: %v", err)
			}
			for _, fe := range fes {
				if data, ok := fsys[fe.File]; !ok {
					t.Fatalf("an error names %q, not a file of the set: %v", fe.File, err)
				} else {
					checkFileError(t, fe, fe.File, data.Data)
				}
			}
			return
		}
		checkRunnable(t, set)
		merged, _, err := Merge(builtin, set)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "merge scenarios: ") {
				t.Fatalf("Merge error does not say what failed: %v", err)
			}
			return
		}
		checkRunnable(t, merged)
	})
}

// checkRunnable asserts that set can run: unique IDs, sorted, each after
// naming a scenario of the set, and an order that lets every scenario run
// after those it names.
func checkRunnable(t *testing.T, set []*Scenario) {
	t.Helper()
	if !slices.IsSortedFunc(set, func(a, b *Scenario) int { return compareIDs(a.ID, b.ID) }) {
		t.Fatalf("not sorted by ID: %v", ids(set))
	}
	waiting := map[string][]string{}
	for _, s := range set {
		if _, dup := waiting[s.ID]; dup {
			t.Fatalf("ID %s twice in %v", s.ID, ids(set))
		}
		waiting[s.ID] = s.After
	}
	for _, s := range set {
		for _, a := range s.After {
			if _, ok := waiting[a]; !ok {
				t.Fatalf("%s's after names %s, which is not in the set %v", s.ID, a, ids(set))
			}
		}
	}
	for len(waiting) > 0 {
		ran := false
		for id, after := range waiting {
			if !slices.ContainsFunc(after, func(a string) bool { _, ok := waiting[a]; return ok }) {
				delete(waiting, id)
				ran = true
			}
		}
		if !ran {
			t.Fatalf("no scenario of %v can run: their afters make a cycle", ids(set))
		}
	}
}

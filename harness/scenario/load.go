package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/realm-ai/hookcert/scenarios"
)

// Extensions of scenario files. JSON is YAML, so .json files go through the
// same parser.
var extensions = []string{".yaml", ".yml", ".json"}

// builtinDir is the folder of the built-in scenarios in the repository; their
// Source is "scenarios/NAME.yaml".
const builtinDir = "scenarios"

// Builtin returns the built-in catalogue embedded from scenarios/, sorted
// by ID. It fails only if a built-in file is broken, which the package's
// tests rule out. The files are parsed once per process (a run, or a
// test binary that certifies a hundred receivers), so the scenarios are
// shared by every caller, and none may change them; the slice is the
// caller's own.
func Builtin() ([]*Scenario, error) {
	scs, err := builtin()
	return slices.Clone(scs), err
}

var builtin = sync.OnceValues(func() ([]*Scenario, error) {
	return load(scenarios.FS, ".", func(base string) string { return path.Join(builtinDir, base) })
})

// loadFS loads every scenario file (*.yaml, *.yml, *.json; not hidden ones, not
// in subdirectories) of dir in fsys and returns them sorted by ID. Each
// scenario's Source is path.Join(dir, file name).
//
// Besides what Parse checks in each file, loadFS checks the set: IDs are
// unique, and every ID a scenario's after names is in the set and the after
// order has no cycle. It reports every problem of every file, not only the
// first: the error joins one *fileError per file at fault (see fileErrors),
// and no scenario is returned. A directory with no scenario file is an
// error wrapping errNoScenarios.
func loadFS(fsys fs.FS, dir string) ([]*Scenario, error) {
	return load(fsys, dir, func(base string) string { return path.Join(dir, base) })
}

// LoadDir loads a user's own directory of scenario files on disk, as loadFS
// does: each file is parsed, then the set is checked (unique IDs, afters
// that exist and form no cycle), and every problem of every file is
// reported. Sources are paths on disk.
// A directory that does not exist, is a file, or holds no scenario file is
// an error that says so.
func LoadDir(dir string) ([]*Scenario, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("scenario directory %s does not exist (name a directory of *.yaml scenario files): %w", dir, err)
	case err != nil:
		return nil, fmt.Errorf("scenario directory %s: %w", dir, err)
	case !info.IsDir():
		return nil, fmt.Errorf("scenario directory %s is a file: name the directory that holds it", dir)
	}
	return load(os.DirFS(dir), ".", func(base string) string { return filepath.Join(dir, base) })
}

// load is loadFS with a choice of how files are named.
func load(fsys fs.FS, dir string, name func(base string) string) ([]*Scenario, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("scenario directory %s: %w", name(""), err)
	}
	var parsed []parsedFile
	var errs []error
	for _, e := range entries {
		base := e.Name()
		if e.IsDir() || strings.HasPrefix(base, ".") || !slices.Contains(extensions, path.Ext(base)) {
			continue
		}
		file := name(base)
		data, err := fs.ReadFile(fsys, path.Join(dir, base))
		if err != nil {
			errs = append(errs, fmt.Errorf("scenario %s: %w", file, err))
			continue
		}
		s, doc, err := parse(file, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		parsed = append(parsed, parsedFile{s, doc})
	}
	if len(parsed) == 0 && len(errs) == 0 {
		return nil, fmt.Errorf("scenario directory %s holds no scenario files (%s): %w", name(""), strings.Join(extensions, ", "), errNoScenarios)
	}
	// When a file failed, its ID is unknown, so an after naming it would be
	// reported as missing for nothing.
	errs = append(errs, checkSet(parsed, len(errs) == 0)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]*Scenario, len(parsed))
	for i, p := range parsed {
		out[i] = p.s
	}
	sortByID(out)
	return out, nil
}

// parsedFile is a scenario with the YAML tree it came from, to place the
// set-level problems at their lines.
type parsedFile struct {
	s   *Scenario
	doc *document
}

// checkSet checks the IDs and the after order of a set of scenarios. With
// complete false, the set lacks files that failed to parse, so unknown
// after IDs are not reported. It returns one *fileError per file at fault,
// ordered by file.
func checkSet(set []parsedFile, complete bool) []error {
	// A scenario that was not read from a file is named by its ID.
	file := func(p parsedFile) string { return cmp.Or(p.s.Source, p.s.ID) }
	problems := map[string][]problem{}
	add := func(p parsedFile, ptr, format string, args ...any) {
		problems[file(p)] = append(problems[file(p)], problemAt(p.doc, ptr, format, args...))
	}
	sorted := slices.Clone(set)
	slices.SortStableFunc(sorted, func(a, b parsedFile) int {
		return cmp.Or(cmp.Compare(file(a), file(b)), compareIDs(a.s.ID, b.s.ID))
	})

	byID := map[string]parsedFile{}
	for _, p := range sorted {
		if first, dup := byID[p.s.ID]; dup {
			line, _ := first.doc.position("/id")
			where := file(first)
			if line > 0 {
				where += ":" + strconv.Itoa(line)
			}
			add(p, "/id", "ID %s is already used by %s; IDs must be unique", p.s.ID, where)
			continue
		}
		byID[p.s.ID] = p
	}
	if complete {
		for _, p := range sorted {
			for i, id := range p.s.After {
				if _, ok := byID[id]; !ok {
					add(p, "/after/"+strconv.Itoa(i), "after names %s, which is not a scenario of this set", id)
				}
			}
		}
	}
	for _, c := range cycles(byID) {
		add(c.from, "/after/"+strconv.Itoa(c.index), "after makes a cycle, %s: a check would wait for itself", strings.Join(c.path, " → "))
	}

	var errs []error
	for _, p := range sorted {
		if ps, ok := problems[file(p)]; ok {
			errs = append(errs, &fileError{File: file(p), Problems: sortProblems(ps)})
			delete(problems, file(p))
		}
	}
	return errs
}

// cycle is an after edge that closes a cycle: from's after[index], and the
// IDs around the cycle.
type cycle struct {
	from  parsedFile
	index int
	path  []string
}

// cycles finds the after edges that close a cycle, visiting IDs in order so
// the report is stable; each cycle is reported once.
func cycles(byID map[string]parsedFile) []cycle {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var out []cycle
	var visit func(id string)
	visit = func(id string) {
		state[id] = active
		stack = append(stack, id)
		p := byID[id]
		for i, next := range p.s.After {
			if _, ok := byID[next]; !ok {
				continue
			}
			switch state[next] {
			case unseen:
				visit(next)
			case active:
				start := slices.Index(stack, next)
				path := append(slices.Clone(stack[start:]), next)
				out = append(out, cycle{from: p, index: i, path: path})
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)
	for _, id := range ids {
		if state[id] == unseen {
			visit(id)
		}
	}
	return out
}

// sortByID sorts scenarios by ID, numbers within a prefix in numeric order
// (SIG-9 before SIG-10).
func sortByID(set []*Scenario) {
	slices.SortStableFunc(set, func(a, b *Scenario) int { return compareIDs(a.ID, b.ID) })
}

// compareIDs orders check IDs by prefix, then by number.
func compareIDs(a, b string) int {
	ap, an, aok := cutID(a)
	bp, bn, bok := cutID(b)
	if !aok || !bok {
		return cmp.Compare(a, b)
	}
	return cmp.Or(cmp.Compare(ap, bp), cmp.Compare(len(an), len(bn)), cmp.Compare(an, bn))
}

// cutID splits an ID into its prefix and its number without leading zeros.
func cutID(id string) (prefix, number string, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return "", "", false
	}
	number = strings.TrimLeft(id[i+1:], "0")
	if strings.TrimLeft(number, "0123456789") != "" {
		return "", "", false
	}
	return id[:i], number, true
}

// Replacement records that a scenario of a later set took the place of one
// with the same ID from an earlier set.
type Replacement struct {
	// Old is the scenario replaced, New the one that replaced it.
	Old, New *Scenario
}

// Merge combines sets of scenarios, typically the built-in catalogue and a
// user's directory: Merge(builtin, mine). A scenario of a later set
// replaces the scenario with the same ID from an earlier set, so a user can
// sharpen a built-in check by writing their own file with its ID; every
// such replacement is returned, in ID order, so the caller can say so.
// Scenarios with new IDs are added. The result is sorted by ID.
//
// Merge fails when one set holds an ID twice (sets from loadFS never do), or
// when the merged after order names a missing ID or has a cycle.
func Merge(sets ...[]*Scenario) ([]*Scenario, []Replacement, error) {
	byID := map[string]*Scenario{}
	var replaced []Replacement
	for _, set := range sets {
		seen := map[string]*Scenario{}
		for _, s := range set {
			if first, dup := seen[s.ID]; dup {
				return nil, nil, fmt.Errorf("merge scenarios: ID %s is in both %s and %s", s.ID, first.Source, s.Source)
			}
			seen[s.ID] = s
			if old, ok := byID[s.ID]; ok {
				replaced = append(replaced, Replacement{Old: old, New: s})
			}
			byID[s.ID] = s
		}
	}
	out := make([]*Scenario, 0, len(byID))
	merged := make([]parsedFile, 0, len(byID))
	for _, s := range byID {
		out = append(out, s)
		merged = append(merged, parsedFile{s: s})
	}
	if errs := checkSet(merged, true); len(errs) > 0 {
		return nil, nil, fmt.Errorf("merge scenarios: %w", errors.Join(errs...))
	}
	sortByID(out)
	slices.SortStableFunc(replaced, func(a, b Replacement) int { return compareIDs(a.New.ID, b.New.ID) })
	return out, replaced, nil
}

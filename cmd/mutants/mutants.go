package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// gremlinsResults is the part of gremlins' -o output that mutants reads
// (gremlins v0.6.0, internal/report/internal/structure.go).
type gremlinsResults struct {
	Files []gremlinsFile `json:"files"`
}

// gremlinsFile is one mutated file of gremlins' results.
type gremlinsFile struct {
	Name      string             `json:"file_name"`
	Mutations []gremlinsMutation `json:"mutations"`
}

// gremlinsMutation is one mutant: its mutator, status and place.
type gremlinsMutation struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// gremlins' statuses of a mutant.
const (
	gKilled     = "KILLED"
	gLived      = "LIVED"
	gTimedOut   = "TIMED OUT"
	gNotViable  = "NOT VIABLE"
	gNotCovered = "NOT COVERED"
)

// record is one line of the catalogue test's log (mutationRecord in
// harness/receiver mutation_test.go).
type record struct {
	Event     string   `json:"event"`
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Column    int      `json:"column"`
	Was       string   `json:"was"`
	Now       string   `json:"now"`
	Broken    []string `json:"broken"`
	CannotRun []string `json:"cannotRun"`
}

// key names a mutant by the change it makes: where, and into what. Two
// gremlins mutators can make the same change (INVERT_NEGATIVES and
// ARITHMETIC_BASE both turn a binary - into +), and the test identifies
// its mutant by the change alone.
func (r record) key() string { return fmt.Sprintf("%s:%d:%d:%s", r.File, r.Line, r.Column, r.Now) }

// run is one run of the catalogue test: its start, and its end when it
// ended.
type run struct {
	end *record
}

// outcome is what mutants concludes about a mutant.
type outcome string

const (
	// killed: the catalogue broke a check, or the run could not be made.
	killed outcome = "killed"
	// crashed: the run started and never ended; a panic in the receiver's
	// own goroutines ends the process the catalogue runs in. The catalogue
	// drove it there, so it counts as killed.
	crashed outcome = "crashed"
	// lived: the catalogue certified the mutant clean.
	lived outcome = "lived"
	// equivalent: lived, and explained: no run of the catalogue against a
	// correct receiver can tell it from the original.
	equivalent outcome = "equivalent"
	// unspecified: lived, and explained: it behaves differently only where
	// the contract sets no requirement (input it leaves open, a load only
	// the load test makes), so no check can kill it without a new
	// requirement.
	unspecified outcome = "unspecified"
	timedOut    outcome = "timed out"
	// notViable: the mutant does not compile (or fails go vet), so the
	// catalogue never ran; gremlins counts these as killed.
	notViable outcome = "not viable"
	// notCovered: the catalogue never runs that code.
	notCovered outcome = "not covered"
	// duplicate: the same change as another mutant, counted once there.
	duplicate outcome = "duplicate"
)

// mutant is one mutant with everything the report says of it.
type mutant struct {
	File         string
	Line, Column int
	Type         string // gremlins' mutator
	Status       string // gremlins' verdict
	Was, Now     string // the token before and after
	Func         string // the function it is in
	InCase       bool   // in a switch case's expressions
	Code         string // the unmutated line, trimmed
	Mutated      string // the line as mutated, trimmed
	Outcome      outcome
	Broken       []string
	CannotRun    []string
	// Why explains an equivalent mutant, a duplicate, or a lived one
	// whose go test failed after a clean certification.
	Why string
}

func (m *mutant) key() string { return fmt.Sprintf("%s:%d:%d:%s", m.File, m.Line, m.Column, m.Now) }

func (m *mutant) where() string { return fmt.Sprintf("%s:%d:%d", m.File, m.Line, m.Column) }

// analysis is the joined results.
type analysis struct {
	Mutants []*mutant
	// Unmutated counts the runs of the unmutated receiver (gremlins'
	// coverage run); Flaky lists those that were not clean.
	Unmutated int
	Flaky     []string
	// Notes are inconsistencies worth a look: runs that match no mutant,
	// identical mutants judged differently, explanations that match none.
	Notes []string
}

// analyse reads gremlins' results and the test's log, and classifies
// every mutant.
func analyse(resultsPath, logPath, srcDir string) (*analysis, error) {
	b, err := os.ReadFile(resultsPath)
	if err != nil {
		return nil, err
	}
	var res gremlinsResults
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", resultsPath, err)
	}
	runs, err := readRuns(logPath)
	if err != nil {
		return nil, err
	}
	a := &analysis{}
	for _, r := range runs[record{}.key()] {
		a.Unmutated++
		switch {
		case r.end == nil:
			a.Flaky = append(a.Flaky, "a run of the unmutated receiver never ended")
		case len(r.end.Broken)+len(r.end.CannotRun) > 0:
			a.Flaky = append(a.Flaky, "the unmutated receiver broke "+strings.Join(append(r.end.Broken, r.end.CannotRun...), "; "))
		}
	}
	delete(runs, record{}.key())

	pkg := newPackage(srcDir)
	for _, f := range res.Files {
		src, err := pkg.file(f.Name)
		if err != nil {
			return nil, err
		}
		for _, g := range f.Mutations {
			m := &mutant{File: f.Name, Line: g.Line, Column: g.Column, Type: g.Type, Status: g.Status}
			if err := src.describe(m); err != nil {
				return nil, err
			}
			a.Mutants = append(a.Mutants, m)
		}
	}
	slices.SortStableFunc(a.Mutants, func(x, y *mutant) int {
		return cmp.Or(cmp.Compare(x.File, y.File), cmp.Compare(x.Line, y.Line), cmp.Compare(x.Column, y.Column), cmp.Compare(x.Type, y.Type))
	})
	for _, m := range a.Mutants {
		judge(m, runs)
	}
	for k, rs := range runs {
		if len(rs) > 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("%d run(s) of the catalogue test for %s match no mutant of gremlins: was the tree edited during the run?", len(rs), k))
		}
	}
	slices.Sort(a.Notes)
	a.collapse()
	a.explain(pkg)
	return a, nil
}

// readRuns reads the log into the runs of each mutant, by key, in the
// order they started.
func readRuns(path string) (map[string][]*run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	runs := map[string][]*run{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		k := r.key()
		switch r.Event {
		case "start":
			runs[k] = append(runs[k], &run{})
		case "end":
			i := slices.IndexFunc(runs[k], func(x *run) bool { return x.end == nil })
			if i < 0 {
				return nil, fmt.Errorf("%s:%d: the end of a run that did not start", path, n)
			}
			runs[k][i].end = &r
		default:
			return nil, fmt.Errorf("%s:%d: unknown event %q", path, n, r.Event)
		}
	}
	return runs, sc.Err()
}

// judge sets m's outcome from gremlins' status and the run of the
// catalogue test that judged m, which it takes from runs.
func judge(m *mutant, runs map[string][]*run) {
	var r *run
	if m.Status == gKilled || m.Status == gLived || m.Status == gTimedOut {
		if rs := runs[m.key()]; len(rs) > 0 {
			r, runs[m.key()] = rs[0], rs[1:]
		}
	}
	switch m.Status {
	case gNotCovered:
		m.Outcome = notCovered
	case gNotViable:
		m.Outcome = notViable
	case gTimedOut:
		m.Outcome = timedOut
	case gLived:
		m.Outcome = lived
	case gKilled:
		switch {
		case r == nil:
			// go test failed and the test never started: the mutant
			// did not build.
			m.Outcome = notViable
		case r.end == nil:
			m.Outcome = crashed
		case len(r.end.Broken)+len(r.end.CannotRun) > 0:
			m.Outcome = killed
		default:
			m.Outcome = lived
			m.Why = "go test failed after the catalogue certified the mutant clean"
		}
	default:
		m.Outcome = outcome(strings.ToLower(m.Status))
	}
	if r != nil && r.end != nil {
		m.Broken, m.CannotRun = r.end.Broken, r.end.CannotRun
	}
}

// collapse marks every mutant that makes the same change as an earlier
// one a duplicate, and notes identical mutants judged differently: a
// flaky verdict.
func (a *analysis) collapse() {
	first := map[string]*mutant{}
	for _, m := range a.Mutants {
		f, ok := first[m.key()]
		if !ok {
			first[m.key()] = m
			continue
		}
		if killedOrCrashed(f.Outcome) != killedOrCrashed(m.Outcome) {
			a.Notes = append(a.Notes, fmt.Sprintf("%s (%s) was judged %s as %s and %s as %s: a flaky verdict",
				m.where(), m.Mutated, f.Outcome, f.Type, m.Outcome, m.Type))
		}
		m.Why = fmt.Sprintf("the same change as %s", f.Type)
		m.Outcome = duplicate
	}
}

func killedOrCrashed(o outcome) bool { return o == killed || o == crashed }

// explain turns the lived mutants that cannot be told from the original
// into equivalent ones: those whose token the correct receiver never
// evaluates (behind a planted-fault switch that is off), and those that
// knownEquivalent explains.
func (a *analysis) explain(pkg *pkgSource) {
	used := make([]bool, len(knownEquivalent))
	for _, m := range a.Mutants {
		if m.Outcome != lived || m.Why != "" {
			continue
		}
		if why := pkg.faultGated(m); why != "" {
			m.Outcome, m.Why = equivalent, why
			continue
		}
		for i, e := range knownEquivalent {
			if e.File == m.File && squash(e.Mutant) == squash(m.Mutated) {
				m.Outcome, m.Why, used[i] = equivalent, e.Why, true
				if e.Unspecified {
					m.Outcome = unspecified
				}
				break
			}
		}
	}
	for i, e := range knownEquivalent {
		if !used[i] {
			a.Notes = append(a.Notes, fmt.Sprintf("the explanation of %s %q matches no surviving mutant: remove it from cmd/mutants/equivalent.go", e.File, e.Mutant))
		}
	}
}

// squash collapses runs of white space, so that an explanation does not
// depend on alignment.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// tally counts the distinct mutants by outcome. Killed counts every
// kill; Crashed and CannotRun count those of them that no check judged.
type tally struct {
	Killed, Crashed, CannotRun, Lived, Equivalent, Unspecified, TimedOut, NotViable, NotCovered, Duplicate, Other int
}

func (a *analysis) tally() tally {
	var t tally
	for _, m := range a.Mutants {
		switch m.Outcome {
		case killed:
			t.Killed++
			if len(m.Broken) == 0 {
				t.CannotRun++
			}
		case crashed:
			t.Killed++
			t.Crashed++
		case lived:
			t.Lived++
		case equivalent:
			t.Equivalent++
		case unspecified:
			t.Unspecified++
		case timedOut:
			t.TimedOut++
		case notViable:
			t.NotViable++
		case notCovered:
			t.NotCovered++
		case duplicate:
			t.Duplicate++
		default:
			t.Other++
		}
	}
	return t
}

// score is the percentage of the mutants not explained the catalogue
// killed, killed / (killed + lived); ok is false when there are none.
// A run that could not be made, or crashed, counts as a kill: the
// receiver is not certified.
func (t tally) score() (float64, bool) {
	return percent(t.Killed, t.Killed+t.Lived)
}

// strictScore counts only what a FAIL or WARN killed, leaving out the
// mutants no check judged (the run could not be made, or crashed), and
// counts the survivors whose difference the contract leaves open as
// survivors.
func (t tally) strictScore() (float64, bool) {
	byChecks := t.Killed - t.CannotRun - t.Crashed
	return percent(byChecks, byChecks+t.Lived+t.Unspecified)
}

func percent(n, of int) (float64, bool) {
	if of == 0 {
		return 0, false
	}
	return 100 * float64(n) / float64(of), true
}

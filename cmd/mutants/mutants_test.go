package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// src is the stand-in receiver the tests' mutants live in.
const src = "testdata/receiver"

// at returns the line and column of op in the first line of the stand-in
// receiver that contains code.
func at(t *testing.T, code, op string) (int, int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(src, "receiver.go"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.Index(line, code); j >= 0 {
			if k := strings.Index(line[j:], op); k >= 0 {
				return i + 1, j + k + 1
			}
		}
	}
	t.Fatalf("%q with %q is not in the stand-in receiver", code, op)
	return 0, 0
}

// row is one mutant of the fixture: what gremlins said of it, what the
// catalogue test logged, and what mutants must conclude.
type row struct {
	why      string
	code, op string
	typ      string
	status   string
	log      string // "" no run, "start" a run that never ended, "clean", or the broken check
	now      string
	want     outcome
}

var rows = []row{
	{"a check broke", "n > 10", ">", "CONDITIONALS_BOUNDARY", gKilled, "ORD-05 FAIL", ">=", killed},
	{"the run started and never ended", "n > 10", ">", "CONDITIONALS_NEGATION", gKilled, "start", "<=", crashed},
	{"the catalogue certified it", "n - 1", "-", "ARITHMETIC_BASE", gLived, "clean", "+", lived},
	{"the same change by another mutator", "n - 1", "-", "INVERT_NEGATIVES", gLived, "clean", "+", duplicate},
	{"behind a fault switch under &&", `id != ""`, "!=", "CONDITIONALS_NEGATION", gLived, "clean", "==", equivalent},
	{"behind a negated fault switch under ||", "n == 3", "==", "CONDITIONALS_NEGATION", gLived, "clean", "!=", equivalent},
	{"behind a field of rules", "n < 2", "<", "CONDITIONALS_BOUNDARY", gLived, "clean", "<=", equivalent},
	{"explained in knownEquivalent", "n == 4", "==", "CONDITIONALS_NEGATION", gLived, "clean", "!=", equivalent},
	{"go test failed and the test never ran: it does not build", "n == 4 &&", "&&", "INVERT_LOGICAL", gKilled, "", "||", notViable},
	{"gremlins' timeout", "n + 1", "+", "ARITHMETIC_BASE", gTimedOut, "start", "-", timedOut},
	{"never run by the catalogue", "n < 2", "<", "CONDITIONALS_NEGATION", gNotCovered, "", ">=", notCovered},
	{"the run could not be made", `r.faults["y"] ||`, "||", "INVERT_LOGICAL", gKilled, "cannot", "&&", killed},
	{"go test failed after a clean run", `r.faults["x"] &&`, "&&", "INVERT_LOGICAL", gKilled, "clean", "||", lived},
	{"&& and || between two operands that fault switches make false", `r.faults["a"] ||`, "||", "INVERT_LOGICAL", gLived, "clean", "&&", equivalent},
	{"explained as outside the contract", "case n >= 5", ">=", "CONDITIONALS_BOUNDARY", gLived, "clean", ">", unspecified},
	{"in a case expression, which gremlins calls not covered", "case n >= 5", ">=", "CONDITIONALS_NEGATION", gNotCovered, "", "<", notCovered},
}

// fixture writes gremlins' results and the test's log for rows, plus a
// clean run of the unmutated receiver and one run that matches no
// mutant, and returns their paths.
func fixture(t *testing.T) (results, log string) {
	t.Helper()
	dir := t.TempDir()
	var res gremlinsResults
	res.Files = make([]gremlinsFile, 1)
	res.Files[0].Name = "receiver.go"
	var lines []record
	lines = append(lines, record{Event: "start"}, record{Event: "end"})
	for _, r := range rows {
		line, col := at(t, r.code, r.op)
		res.Files[0].Mutations = append(res.Files[0].Mutations, gremlinsMutation{r.typ, r.status, line, col})
		rec := record{File: "receiver.go", Line: line, Column: col, Was: r.op, Now: r.now}
		if r.log == "" {
			continue
		}
		start := rec
		start.Event = "start"
		lines = append(lines, start)
		end := rec
		end.Event = "end"
		switch r.log {
		case "start":
			continue
		case "clean":
		case "cannot":
			end.CannotRun = []string{"the run could not be made: PROBE_URL: ..."}
		default:
			end.Broken = []string{r.log}
		}
		lines = append(lines, end)
	}
	lines = append(lines, record{Event: "start", File: "receiver.go", Line: 1, Column: 1, Now: "+"})
	results = filepath.Join(dir, "gremlins.json")
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(results, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var lb bytes.Buffer
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		lb.Write(append(b, '\n'))
	}
	log = filepath.Join(dir, "runs.jsonl")
	if err := os.WriteFile(log, lb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return results, log
}

// withExplanations sets knownEquivalent for one test.
func withExplanations(t *testing.T, es []explanation) {
	t.Helper()
	saved := knownEquivalent
	knownEquivalent = es
	t.Cleanup(func() { knownEquivalent = saved })
}

func TestAnalyseClassifiesEveryMutant(t *testing.T) {
	withExplanations(t, []explanation{
		{File: "receiver.go", Mutant: `if n  !=  4 && r.faults["z"] {`, Why: "n is never 4"},
		{File: "receiver.go", Mutant: "return n * 2", Why: "no such mutant"},
		{File: "receiver.go", Mutant: "case n > 5:", Why: "the contract says nothing of 5", Unspecified: true},
	})
	results, log := fixture(t)
	a, err := analyse(results, log, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Mutants) != len(rows) {
		t.Fatalf("%d mutants, want %d", len(a.Mutants), len(rows))
	}
	for _, r := range rows {
		line, col := at(t, r.code, r.op)
		found := false
		for _, m := range a.Mutants {
			if m.Line != line || m.Column != col || m.Type != r.typ {
				continue
			}
			found = true
			if m.Outcome != r.want {
				t.Errorf("%s (%s %s): %s, want %s", r.why, m.where(), m.Type, m.Outcome, r.want)
			}
			if m.Now != r.now {
				t.Errorf("%s: the mutant turns %s into %s, want %s", r.why, m.Was, m.Now, r.now)
			}
		}
		if !found {
			t.Errorf("%s: no mutant at %d:%d", r.why, line, col)
		}
	}
	want := tally{Killed: 3, Crashed: 1, CannotRun: 1, Lived: 2, Equivalent: 5, Unspecified: 1, TimedOut: 1, NotViable: 1, NotCovered: 2, Duplicate: 1}
	if got := a.tally(); got != want {
		t.Errorf("tally %+v, want %+v", got, want)
	}
	if s, _ := a.tally().score(); s != 60 {
		t.Errorf("score %.1f, want 60 (3 killed of 5 not explained)", s)
	}
	if s, _ := a.tally().strictScore(); s != 25 {
		t.Errorf("strict score %.1f, want 25 (1 killed by a check of 4: it, the 2 lived and the unspecified one)", s)
	}
	if a.inCase() != 1 {
		t.Errorf("%d not covered in a case expression, want 1", a.inCase())
	}
	if a.Unmutated != 1 || len(a.Flaky) != 0 {
		t.Errorf("unmutated runs %d, flaky %v; want one clean run", a.Unmutated, a.Flaky)
	}
	notes := strings.Join(a.Notes, "\n")
	for _, w := range []string{"receiver.go:1:1:+ match no mutant", `"return n * 2" matches no surviving mutant`} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes %q do not say %q", notes, w)
		}
	}
}

func TestFaultGatedNamesTheSwitch(t *testing.T) {
	withExplanations(t, nil)
	results, log := fixture(t)
	a, err := analyse(results, log, src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{`id != ""`: `r.faults["x"]`, "n == 3": `r.faults["y"]`, "n < 2": "r.rules.lastWriteWins"}
	for _, m := range a.Mutants {
		if m.Type == "INVERT_LOGICAL" && strings.Contains(m.Code, `r.faults["a"]`) &&
			!strings.Contains(m.Why, `Both operands are false in the correct receiver, as r.faults["a"] and r.faults["b"] are planted faults`) {
			t.Errorf("%s: why %q does not name both operands", m.where(), m.Why)
		}
	}
	for _, m := range a.Mutants {
		for code, sw := range want {
			if strings.Contains(m.Code, code) && m.Outcome == equivalent && !strings.Contains(m.Why, "when "+sw+" is true") {
				t.Errorf("%s: why %q does not name %s", m.where(), m.Why, sw)
			}
		}
		if strings.Contains(m.Code, "n == 4") && m.Type == "CONDITIONALS_NEGATION" && m.Outcome != lived {
			t.Errorf("%s: the operand before a switch is evaluated; it is %s, want lived", m.where(), m.Outcome)
		}
	}
}

func TestRunWritesTheReportAndGatesTheScore(t *testing.T) {
	withExplanations(t, nil)
	results, log := fixture(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := Run([]string{"-results", results, "-log", log, "-src", src, "-out", out, "-min", "90"}, &stdout, &stderr)
	if !errors.Is(err, errBelowMin) {
		t.Fatalf("Run: %v, want errBelowMin (the score is 42.9 %%: no explanations are set)", err)
	}
	if !strings.Contains(stdout.String(), "mutation score of the catalogue: 42.9 % (3 killed of 7 mutants not explained") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "survivors.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, w := range []string{
		"## Survivors (4)",
		"### receiver.go:18:12 ARITHMETIC_BASE in Receiver.handle\n\n```go\nreturn n - 1\nreturn n + 1\n```",
		"go test failed after the catalogue certified the mutant clean",
		"| ORD-05 | 1 | 1 |",
		"| (the run could not be made) | 1 | 1 |",
		"- receiver.go Receiver.handle: 26:32 CONDITIONALS_NEGATION, 36:9 CONDITIONALS_NEGATION (case expression: gremlins never runs these)",
		"## Killed without a verdict (2)",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("survivors.md lacks %q:\n%s", w, md)
		}
	}
	if err := Run([]string{"-results", results, "-log", log, "-src", src, "-out", out}, &stdout, &stderr); err != nil {
		t.Errorf("without -min: %v", err)
	}
	if err := Run([]string{"-results", results}, &stdout, &stderr); err == nil || exitCode(err, &stderr) != 2 {
		t.Errorf("without -log and -src: %v, want exit 2", err)
	}
}

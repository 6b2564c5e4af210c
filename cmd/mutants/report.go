package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// summary prints the score and the counts, the lines make mutation ends
// with.
func (a *analysis) summary(w io.Writer) {
	t := a.tally()
	if score, ok := t.score(); ok {
		fmt.Fprintf(w, "mutation score of the catalogue: %.1f %% (%d killed of %d mutants not explained as equivalent or unspecified)\n",
			score, t.Killed, t.Killed+t.Lived)
	} else {
		fmt.Fprintln(w, "mutation score of the catalogue: no mutant was judged")
	}
	byChecks := t.Killed - t.CannotRun - t.Crashed
	if strict, ok := t.strictScore(); ok {
		fmt.Fprintf(w, "by a FAIL or WARN alone: %.1f %% (%d of %d, the %d unspecified counted as survivors, the %d no check judged left out)\n",
			strict, byChecks, byChecks+t.Lived+t.Unspecified, t.Unspecified, t.CannotRun+t.Crashed)
	}
	fmt.Fprintf(w, "killed %d (%d by a FAIL or WARN, %d by a run that could not be made, %d by a crash), lived %d, "+
		"equivalent %d, unspecified %d, timed out %d, not viable %d, not covered %d (%d in a switch case), duplicates %d\n",
		t.Killed, byChecks, t.CannotRun, t.Crashed, t.Lived, t.Equivalent, t.Unspecified, t.TimedOut, t.NotViable, t.NotCovered, a.inCase(), t.Duplicate)
	for _, f := range a.Flaky {
		fmt.Fprintf(w, "FLAKY: %s\n", f)
	}
	for _, n := range a.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// inCase counts the mutants not covered because they are in a switch
// case's expression.
func (a *analysis) inCase() int {
	n := 0
	for _, m := range a.Mutants {
		if m.Outcome == notCovered && m.InCase {
			n++
		}
	}
	return n
}

// markdown is survivors.md: the score, every survivor with its code, the
// equivalent mutants with why, what timed out, which checks kill, and the
// code the catalogue never runs.
func (a *analysis) markdown() string {
	var b strings.Builder
	b.WriteString("# Mutation score of the catalogue\n\n")
	b.WriteString("Each mutant of the reference receiver was certified by the whole catalogue, probe on " +
		"(and the signature checks in every other built-in scheme); it is killed when a check FAILs or WARNs, " +
		"or the run cannot be made. The receiver's own unit tests do not count.\n\n```\n")
	a.summary(&b)
	b.WriteString("```\n")

	section := func(title, intro string, in func(*mutant) bool) {
		var ms []*mutant
		for _, m := range a.Mutants {
			if in(m) {
				ms = append(ms, m)
			}
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n%s\n", title, len(ms), intro)
		for _, m := range ms {
			fmt.Fprintf(&b, "\n### %s %s in %s\n\n```go\n%s\n%s\n```\n", m.where(), m.Type, m.Func, m.Code, m.Mutated)
			if m.Why != "" {
				fmt.Fprintf(&b, "\n%s\n", m.Why)
			}
			if len(m.Broken)+len(m.CannotRun) > 0 {
				fmt.Fprintf(&b, "\nBroke: %s\n", strings.Join(append(slices.Clone(m.Broken), m.CannotRun...), "; "))
			}
		}
	}
	is := func(o outcome) func(*mutant) bool { return func(m *mutant) bool { return m.Outcome == o } }
	section("Survivors", "The catalogue certified these mutants clean. Each is a gap in the catalogue "+
		"(say which check would kill it), or explain it in cmd/mutants/equivalent.go.", is(lived))
	section("Equivalent", "Survivors that no run of the catalogue against the receiver can tell from the original.", is(equivalent))
	section("Unspecified", "Survivors that differ only where the contract sets no requirement: "+
		"no check can kill them without a new requirement.", is(unspecified))
	section("Timed out", "Runs that overran gremlins' timeout: a hang, or a machine too busy.", is(timedOut))
	section("Killed without a verdict", "Killed, but no check judged them: the run could not be made (NOT CERTIFIED), "+
		"or it started and never ended because the receiver crashed the process.", func(m *mutant) bool {
		return m.Outcome == crashed || m.Outcome == killed && len(m.Broken) == 0
	})

	b.WriteString("\n## Kills by check\n\nHow many mutants each check broke, and of those how many no other check broke.\n\n" +
		"| check | mutants | only this check |\n| --- | --- | --- |\n")
	for _, k := range a.kills() {
		fmt.Fprintf(&b, "| %s | %d | %d |\n", k.check, k.all, k.only)
	}

	b.WriteString("\n## Not covered\n\nCode the catalogue never runs against the correct receiver " +
		"(a planted fault's own branch, another configuration, a declaration), by function.\n\n")
	byFunc := map[string][]string{}
	var funcs []string
	for _, m := range a.Mutants {
		if m.Outcome != notCovered {
			continue
		}
		f := m.File + " " + m.Func
		if _, ok := byFunc[f]; !ok {
			funcs = append(funcs, f)
		}
		c := ""
		if m.InCase {
			// Go's coverage starts a case's block after its colon, and
			// gremlins mutates only what a covered block holds.
			c = " (case expression: gremlins never runs these)"
		}
		byFunc[f] = append(byFunc[f], fmt.Sprintf("%d:%d %s%s", m.Line, m.Column, m.Type, c))
	}
	for _, f := range funcs {
		fmt.Fprintf(&b, "- %s: %s\n", f, strings.Join(byFunc[f], ", "))
	}
	return b.String()
}

// kill is one row of the kills-by-check table.
type kill struct {
	check     string
	all, only int
}

// kills counts, per check (its ID and the scheme it ran in), the killed
// mutants it broke, most first.
func (a *analysis) kills() []kill {
	rows := map[string]*kill{}
	for _, m := range a.Mutants {
		if m.Outcome != killed {
			continue
		}
		checks := map[string]bool{}
		for _, br := range m.Broken {
			checks[checkOf(br)] = true
		}
		if len(m.CannotRun) > 0 {
			checks["(the run could not be made)"] = true
		}
		for c := range checks {
			k := rows[c]
			if k == nil {
				k = &kill{check: c}
				rows[c] = k
			}
			k.all++
			if len(checks) == 1 {
				k.only++
			}
		}
	}
	var out []kill
	for _, k := range rows {
		out = append(out, *k)
	}
	slices.SortFunc(out, func(x, y kill) int {
		return cmp.Or(cmp.Compare(y.all, x.all), cmp.Compare(x.check, y.check))
	})
	return out
}

// checkOf drops the verdict from a broken check, "SIG-05 FAIL" or
// "stripe SIG-05 FAIL", keeping the scheme.
func checkOf(broken string) string {
	if i := strings.LastIndexByte(broken, ' '); i > 0 {
		return broken[:i]
	}
	return broken
}

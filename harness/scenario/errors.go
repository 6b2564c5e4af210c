package scenario

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// errNoScenarios means a directory holds no scenario file (*.yaml, *.yml or
// *.json).
var errNoScenarios = errors.New("no scenario files")

// fileError lists everything wrong with one scenario file, each problem
// with the line and column where it is, so that an editor or a CI log can
// jump there.
type fileError struct {
	// File is the name the file was loaded under, e.g. scenarios/sig-02.yaml.
	File string
	// Problems are sorted by position.
	Problems []problem
}

// problem is one mistake in a scenario file.
type problem struct {
	// Line and Column are 1-based; 0 when unknown (a Column of 0 with a
	// Line means only the line is known).
	Line, Column int
	// Pointer is the JSON pointer (RFC 6901) of the value at fault, e.g.
	// /steps/2/send; "" is the whole file or a syntax error.
	Pointer string
	// Message says what is wrong and, where it can, what to write instead.
	Message string
}

// String renders the problem without the file name: "LINE:COL: POINTER:
// MESSAGE", leaving out what is unknown.
func (p problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, "%d:", p.Column)
		}
		b.WriteByte(' ')
	}
	if p.Pointer != "" {
		b.WriteString(p.Pointer)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error renders one line per problem, "FILE:LINE:COL: POINTER: MESSAGE",
// the format compilers use, so editors and CI logs link to the place.
func (e *fileError) Error() string {
	if len(e.Problems) == 0 {
		return e.File + ": invalid scenario"
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		sep := ":"
		if p.Line == 0 {
			sep = ": "
		}
		lines[i] = e.File + sep + p.String()
	}
	return strings.Join(lines, "\n")
}

// sortProblems orders problems by position and drops exact repeats.
func sortProblems(ps []problem) []problem {
	slices.SortStableFunc(ps, func(a, b problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Pointer, b.Pointer), cmp.Compare(a.Message, b.Message))
	})
	return slices.Compact(ps)
}

// fileErrors returns every *fileError in err's tree, in order, so that a
// caller of loadFS (which joins one error per file) can list them all.
func fileErrors(err error) []*fileError {
	var out []*fileError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *fileError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

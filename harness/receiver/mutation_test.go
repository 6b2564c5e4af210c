//go:build mutation

// This file is the catalogue's own mutation score (make mutation): gremlins
// mutates the reference receiver's code one token at a time and runs this
// package's tests under the mutation tag against each mutant. Under the tag
// the tests are TestCatalogueCertifiesReceiver alone, so a mutant counts as
// killed only when the catalogue finds it; the receiver's unit tests, which
// know its internals, would kill mutants that no certification run can see.

package receiver_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/signing"
)

// The environment make mutation gives the test, so that each run can say
// which mutant it judged and what the catalogue found: gremlins itself only
// learns whether go test failed, and a mutant that does not compile fails
// go test too.
const (
	// mutationLogEnv names a file to which each run appends two JSON lines
	// (mutationRecord): one as it starts and one with its outcome.
	mutationLogEnv = "HOOKCERT_MUTATION_LOG"
	// mutationSrcEnv names the directory of the unmutated package, against
	// which a run finds the token gremlins changed in its copy.
	mutationSrcEnv = "HOOKCERT_MUTATION_SRC"
)

// catalogueTest is the one test the mutation tag runs.
const catalogueTest = "TestCatalogueCertifiesReceiver"

// TestMain runs catalogueTest alone, whatever -run says: gremlins gives go
// test no -run of its own, and every unit test of the package is compiled
// into the same binary.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := flag.Set("test.run", "^"+catalogueTest+"$"); err != nil {
		fmt.Fprintf(os.Stderr, "mutation: %v\n", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// mutationTiming is the planted-fault proof's timing: the proof shows the
// catalogue still catches every planted fault at it, and its generous
// bounds keep a busy machine (gremlins compiling the next mutant, other
// tests) from failing the correct receiver, which would count as a kill.
var mutationTiming = harness.CompressedTiming()

// mutationRun is one catalogue run against the receiver: in a signing
// scheme ("" is REALM v1), of one category of checks ("" is all of them).
type mutationRun struct {
	scheme, category string
}

// mutationRuns are the runs a mutant must pass: the whole catalogue in
// REALM v1, and the signature checks in every other built-in scheme. The
// receiver verifies those schemes by code of its own (verifyScheme, the
// scheme's keys), which only they reach; everything after verification is
// the same code in every scheme, as the planted-fault proof argues.
func mutationRuns() []mutationRun {
	runs := []mutationRun{{}}
	for _, s := range signing.BuiltinSchemes() {
		if s != signing.DefaultScheme {
			runs = append(runs, mutationRun{scheme: s, category: "signature"})
		}
	}
	return runs
}

// mutationRecord is one line of the mutation log, read by cmd/mutants.
type mutationRecord struct {
	// Event is "start", written before the catalogue runs, or "end", with
	// its outcome. A start without an end is a run that crashed or hung.
	Event string `json:"event"`
	// File, Line and Column locate the mutated token in the unmutated
	// source, as gremlins reports it; Was and Now are the token before and
	// after. All are empty for a run of the unmutated receiver.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Was    string `json:"was,omitempty"`
	Now    string `json:"now,omitempty"`
	// Broken lists the checks that did not pass, as "ID VERDICT" with the
	// scheme before it outside REALM v1.
	Broken []string `json:"broken,omitempty"`
	// CannotRun says why a run could not be made (NOT CERTIFIED).
	CannotRun []string `json:"cannotRun,omitempty"`
}

// TestCatalogueCertifiesReceiver runs the catalogue, probe on, against the
// reference receiver as compiled, which under make mutation is one
// mutant, and fails when the certification is not clean: a check FAILs or
// WARNs (or is skipped, which a run with the probe never is), or the run
// cannot be made at all. Either is what certifying a customer's receiver
// with that bug would show, so the mutant is killed by the catalogue.
func TestCatalogueCertifiesReceiver(t *testing.T) {
	rec := identifyMutant(t)
	logMutation(t, rec)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, run := range mutationRuns() {
		wg.Go(func() {
			broken, cannot := runCatalogue(ctx, t, run)
			mu.Lock()
			defer mu.Unlock()
			rec.Broken = append(rec.Broken, broken...)
			if cannot != "" {
				rec.CannotRun = append(rec.CannotRun, cannot)
			}
		})
	}
	wg.Wait()
	slices.Sort(rec.Broken)
	slices.Sort(rec.CannotRun)
	rec.Event = "end"
	logMutation(t, rec)
	for _, c := range rec.CannotRun {
		t.Errorf("the run could not be made: %s", c)
	}
	if len(rec.Broken) > 0 {
		t.Errorf("the catalogue broke %s", strings.Join(rec.Broken, ", "))
	}
}

// runCatalogue makes one run and returns the checks that did not pass
// and, when the run could not be made, why. It logs each failure in full,
// which go test -v shows.
func runCatalogue(ctx context.Context, t *testing.T, run mutationRun) (broken []string, cannotRun string) {
	prefix := ""
	if run.scheme != "" {
		prefix = run.scheme + " "
	}
	// The catalogue as make conformance runs it, IDEM-06's burst included,
	// at the proof's timing. A category is also a label.
	set := certify.Defaults()
	set.Scheme, set.ReportDir, set.Timing, set.Concurrency, set.Labels = run.scheme, t.TempDir(), mutationTiming, 8, run.category
	s, err := certify.Conformance(ctx, set, nil)
	if err != nil {
		return nil, prefix + err.Error()
	}
	if s.Report.ExitCode == report.ExitCannotRun {
		return nil, prefix + s.Report.Error
	}
	for _, r := range s.Report.Results {
		switch r.Verdict {
		case harness.Fail, harness.Warn, harness.Skip:
			broken = append(broken, fmt.Sprintf("%s%s %s", prefix, r.ID, r.Verdict))
			t.Logf("%s%s", prefix, report.Failure(r))
		}
	}
	return broken, ""
}

// identifyMutant finds the token gremlins changed: it compares, token by
// token, each Go file of the package as compiled (the working directory
// of a test is its package's) with the unmutated one in mutationSrcEnv.
// gremlins rewrites the whole file with go/printer, whose spacing differs
// from gofmt's, so lines cannot be compared; tokens can. Without the
// environment, or in the unmutated tree, the record names no mutant.
func identifyMutant(t *testing.T) mutationRecord {
	t.Helper()
	rec := mutationRecord{Event: "start"}
	src := os.Getenv(mutationSrcEnv)
	if src == "" {
		return rec
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		orig, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			continue // a file the unmutated tree does not have: not gremlins'
		}
		mutated, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if pos, was, now, ok := firstTokenDiff(orig, mutated); ok {
			rec.File, rec.Line, rec.Column, rec.Was, rec.Now = name, pos.Line, pos.Column, was, now
			return rec
		}
	}
	return rec
}

// firstTokenDiff returns the position in a of the first token where a and
// b differ, with the token in each; ok is false when they hold the same
// tokens. Parentheses are skipped: go/printer adds them where a mutated
// operator would otherwise parse differently ("a && b && c" with the first
// && turned into || is printed "(a || b) && c"), and a mutation never
// changes them.
func firstTokenDiff(a, b []byte) (pos token.Position, was, now string, ok bool) {
	fset := token.NewFileSet()
	var sa, sb scanner.Scanner
	fa := fset.AddFile("a", -1, len(a))
	sa.Init(fa, a, nil, 0)
	sb.Init(fset.AddFile("b", -1, len(b)), b, nil, 0)
	for {
		pa, ta, la := scanNoParen(&sa)
		_, tb, lb := scanNoParen(&sb)
		// An automatic semicolon's literal is the newline; compare kinds.
		if ta == token.SEMICOLON && tb == token.SEMICOLON {
			continue
		}
		if ta != tb || la != lb {
			return fa.Position(pa), tokenText(ta, la), tokenText(tb, lb), true
		}
		if ta == token.EOF {
			return token.Position{}, "", "", false
		}
	}
}

// scanNoParen is s.Scan without parentheses.
func scanNoParen(s *scanner.Scanner) (token.Pos, token.Token, string) {
	for {
		p, tok, lit := s.Scan()
		if tok != token.LPAREN && tok != token.RPAREN {
			return p, tok, lit
		}
	}
}

func tokenText(tok token.Token, lit string) string {
	if lit != "" {
		return lit
	}
	return tok.String()
}

// logMutation appends rec to the mutation log, when there is one.
func logMutation(t *testing.T, rec mutationRecord) {
	t.Helper()
	path := os.Getenv(mutationLogEnv)
	if path == "" {
		return
	}
	line, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	// One write of one line, in append mode: the lines of runs that
	// overlap (several gremlins workers) do not interleave.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatalf("mutation log: %v", err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatalf("mutation log: %v", err)
	}
}

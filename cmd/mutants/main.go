// Command mutants writes the report of make mutation: the catalogue's own
// mutation score against the reference receiver. gremlins mutates the
// receiver one token at a time and runs, against each mutant, the whole
// catalogue with the probe on (harness/receiver mutation_test.go); that
// test logs which mutant it judged and what broke. mutants joins
// gremlins' results with that log, so that a mutant counts as killed only
// when the catalogue found it (gremlins also counts a mutant that does not
// compile as killed), collapses mutants that make the same change,
// explains the survivors it can, and writes survivors.md.
//
// Usage:
//
//	mutants -results gremlins.json -log runs.jsonl -src harness/receiver -out reports/mutation [-min 90]
//
// It exits 1 when the score over the non-equivalent mutants is below
// -min, and 2 when its input cannot be read.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(exitCode(Run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// errBelowMin is returned when the score is below -min; the summary
// already says by how much.
var errBelowMin = errors.New("the mutation score is below the minimum")

// exitCode maps Run's error to the exit status, printing it.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errBelowMin):
		fmt.Fprintf(stderr, "mutants: %v\n", err)
		return 1
	default:
		fmt.Fprintf(stderr, "mutants: %v\n", err)
		return 2
	}
}

// Run reads the inputs named by args, writes survivors.md and prints the
// summary to stdout.
func Run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mutants", flag.ContinueOnError)
	fs.SetOutput(stderr)
	results := fs.String("results", "", "gremlins' machine-readable results (unleash -o)")
	logPath := fs.String("log", "", "the log the catalogue test wrote ($HOOKCERT_MUTATION_LOG)")
	src := fs.String("src", "", "the directory of the mutated package, unmutated")
	out := fs.String("out", "", "where survivors.md goes (default: the directory of -results)")
	minScore := fs.Float64("min", 0, "the lowest acceptable score over non-equivalent mutants, in percent (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *results == "" || *logPath == "" || *src == "" {
		return errors.New("-results, -log and -src are required (see make mutation)")
	}
	if *out == "" {
		*out = filepath.Dir(*results)
	}
	a, err := analyse(*results, *logPath, *src)
	if err != nil {
		return err
	}
	path := filepath.Join(*out, "survivors.md")
	if err := os.WriteFile(path, []byte(a.markdown()), 0o644); err != nil {
		return err
	}
	a.summary(stdout)
	fmt.Fprintf(stdout, "survivors and kills: %s\n", path)
	t := a.tally()
	if score, ok := t.score(); ok && *minScore > 0 && score < *minScore {
		return fmt.Errorf("%w: %.1f %% of the non-equivalent mutants killed, want at least %.1f %%", errBelowMin, score, *minScore)
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/load"
)

// runLoad load-tests a receiver (LOAD-01..04), as `make load` does through
// the Ginkgo suite; it is what each generator of a distributed run calls.
func runLoad(ctx context.Context, e env, args []string) error {
	return loadCommand(ctx, e, args, "load", "[--url URL] [--rate N] [--duration D] [flags]", certify.CmdLoad)
}

// runCapacity searches for the highest rate a receiver acknowledges within
// the deadline.
func runCapacity(ctx context.Context, e env, args []string) error {
	return loadCommand(ctx, e, args, "capacity", "[--url URL] [--rate N] [--step-duration D] [flags]", certify.CmdCapacity)
}

// loadCommand reads the settings of load or capacity, runs it, writes
// report.json, index.html and junit.xml beside the raw results, and exits
// with the run's status.
func loadCommand(ctx context.Context, e env, args []string, name, synopsis string, cmd certify.Command) error {
	set, bad, err := runSettings(e, name, synopsis, cmd, args)
	if err != nil {
		return err
	}
	if bad != nil {
		return unmade(e, set, bad)
	}
	stopLog := startRuntimeLog(e)
	s, out, werr := loadTest(ctx, e, set, cmd == certify.CmdCapacity)
	stopLog()
	var files []string
	if out != nil {
		for _, f := range out.Load.ResultsFiles {
			files = append(files, filepath.Join(s.ReportDir, f))
		}
	}
	printSummary(e, s, werr, files...)
	if werr != nil {
		return exitStatus(exitCannotRun)
	}
	if out != nil {
		fmt.Fprintln(e.stdout, load.Headline(out.Load))
	}
	return exitFor(set, s.Report.ExitCode)
}

// loadTest runs a load test or a capacity search with progress on stderr,
// saying why a run could not be made.
func loadTest(ctx context.Context, e env, set certify.Settings, search bool) (*certify.Session, *load.Outcome, error) {
	set.Load.Progress = e.stderr
	if f, ok := e.stderr.(*os.File); ok {
		set.Load.Live = load.IsTerminal(f)
	}
	if e.getenv("GOGC") == "" {
		// The attack's garbage is short-lived and its live heap small: a
		// heap goal four times the live heap halves the process's CPU
		// spent collecting. GOGC set by the user wins.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	name := "load"
	if search {
		name = "capacity"
	}
	return certify.LoadTest(ctx, set, search, func(s *certify.Session) {
		fmt.Fprintf(e.stderr, "%s: attacking %s\n", name, s.Report.Target)
	})
}

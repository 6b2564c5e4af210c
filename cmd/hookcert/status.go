package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/realm-ai/hookcert/harness/report"
)

// exitStatus carries a run's exit status out of Run without printing an
// error: the summary was printed already.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func runStatus(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "status", "[REPORT_DIR or report.json]")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	name, err := reportFile("status", pos)
	if err != nil {
		return err
	}
	r, err := report.Read(name)
	if errors.Is(err, report.ErrNoReport) {
		fmt.Fprintf(e.stderr, "hookcert: %v: the run did not start (see the output above)\n", err)
		return exitStatus(report.ExitCannotRun)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "hookcert: %v\n", err)
		return exitStatus(report.ExitCannotRun)
	}
	fmt.Fprintf(e.stdout, "%s: %s (exit %d)\n", r.Target, r.Overall, r.ExitCode)
	if r.Error != "" {
		fmt.Fprintf(e.stdout, "  %s\n", r.Error)
	}
	return exitStatus(r.ExitCode)
}

// reportFile is the report.json a command's arguments name: a report
// directory (reports when none is given) or the file itself.
func reportFile(cmd string, pos []string) (string, error) {
	name := "reports"
	switch len(pos) {
	case 0:
	case 1:
		name = pos[0]
	default:
		return "", usagef("%s: name one report directory or report.json", cmd)
	}
	if filepath.Ext(name) != ".json" {
		name = filepath.Join(name, report.JSONFile)
	}
	return name, nil
}

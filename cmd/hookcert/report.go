package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/report"
)

// runReport renders report.json files again as index.html, junit.xml and
// report.json, merging several runs (a conformance run and a load run,
// several load generators) into one report. It exits 0 once the files are
// written, whatever the verdict, unless --status asks for the merged
// report's own status (0, 1 or 2): a merge step in a container, with no
// shell to run `hookcert status` after it.
func runReport(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "report", "--from report.json [--from load/report.json ...] [--out DIR] [--status]")
	var from []string
	fs.Func("from", "a report.json, a directory holding one, or a directory whose subdirectories hold one each (every generator's, say); repeat to merge runs", func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("empty file name")
		}
		from = append(from, s)
		return nil
	})
	out := fs.String("out", "reports", "directory to write index.html, junit.xml and report.json into")
	status := fs.Bool("status", false, "exit with the merged report's status (0 compliant, 1 not, 2 not certified), as hookcert status does")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("report: unexpected argument %q: name reports with --from", pos[0])
	}
	if len(from) == 0 {
		return usagef("report: name at least one report with --from report.json")
	}
	if strings.TrimSpace(*out) == "" {
		return usagef("report: --out is empty: name the directory to write the report into")
	}
	var names []string
	for _, name := range from {
		found, err := reportsIn(name, *out)
		if err != nil {
			return usagef("report: %v", err)
		}
		names = append(names, found...)
	}
	merged, err := mergeReports(e, *out, names)
	if err != nil {
		return err
	}
	printFiles(e, *out, merged)
	if *status {
		return exitStatus(merged.ExitCode)
	}
	return nil
}

// reportsIn returns the report.json files name stands for: the file
// itself, the one in the directory it names, or, when that directory
// holds none, the one in each of its subdirectories (sorted), out's
// excepted: a merge of every generator under one path needs no shell
// glob.
func reportsIn(name, out string) ([]string, error) {
	info, err := os.Stat(name)
	if err != nil || !info.IsDir() {
		return []string{name}, nil
	}
	own := filepath.Join(name, report.JSONFile)
	if _, err := os.Stat(own); err == nil {
		return []string{own}, nil
	}
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	absOut, _ := filepath.Abs(out)
	var found []string
	for _, en := range entries {
		sub := filepath.Join(name, en.Name())
		if abs, _ := filepath.Abs(sub); !en.IsDir() || abs == absOut {
			continue
		}
		if _, err := os.Stat(filepath.Join(sub, report.JSONFile)); err == nil {
			found = append(found, filepath.Join(sub, report.JSONFile))
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w in %s or in any directory in it: --from names a report.json that a run wrote, its directory, or the directory of several", report.ErrNoReport, name)
	}
	slices.Sort(found)
	return found, nil
}

// mergeReports reads the report.json files named, merges them into out
// (several generators' load figures measured once from their raw results
// files, LOAD-* judged on the whole) and writes the merged report.
func mergeReports(e env, out string, names []string) (*report.Report, error) {
	var reps []*report.Report
	for _, name := range names {
		r, err := report.Read(name)
		if errors.Is(err, report.ErrNoReport) {
			return nil, usagef("report: %v: --from names a report.json that a run wrote, or its directory", err)
		}
		if err != nil {
			return nil, usagef("%v", err) // Read's errors name the file
		}
		r.Rebase(filepath.Dir(name), out)
		reps = append(reps, r)
	}
	merged, err := load.Merge(out, reps...)
	switch {
	case errors.Is(err, load.ErrNoResults):
		fmt.Fprintf(e.stderr, "hookcert: report: %v; the merged load figures are bounds\n", err)
	case err != nil:
		return nil, usagef("report: %v", err)
	}
	if err := merged.Write(out); err != nil {
		return nil, fmt.Errorf("report: writing into %s: %w", out, err)
	}
	return merged, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/report"
)

// runReport renders report.json files again as index.html, junit.xml and
// report.json, merging several runs (a conformance run and a load run)
// into one report. It exits 0 once the files are written, whatever the
// verdict: `hookcert status DIR` gates a pipeline on it.
func runReport(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "report", "--from report.json [--from load/report.json ...] [--out DIR]")
	var from []string
	fs.Func("from", "a report.json, or a directory holding one (repeat to merge runs)", func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("empty file name")
		}
		from = append(from, s)
		return nil
	})
	out := fs.String("out", "reports", "directory to write index.html, junit.xml and report.json into")
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
	var reps []*report.Report
	for _, name := range from {
		if info, err := os.Stat(name); err == nil && info.IsDir() {
			name = filepath.Join(name, report.JSONFile)
		}
		r, err := report.Read(name)
		if errors.Is(err, report.ErrNoReport) {
			return usagef("report: %v: --from names a report.json that a run wrote, or its directory", err)
		}
		if err != nil {
			return usagef("%v", err) // Read's errors name the file
		}
		r.Rebase(filepath.Dir(name), *out)
		reps = append(reps, r)
	}
	// Several generators' load figures are measured once from their raw
	// results files, and LOAD-* judged on the whole.
	merged, err := load.Merge(*out, reps...)
	switch {
	case errors.Is(err, load.ErrNoResults):
		fmt.Fprintf(e.stderr, "hookcert: report: %v; the merged load figures are bounds\n", err)
	case err != nil:
		return usagef("report: %v", err)
	}
	if err := merged.Write(*out); err != nil {
		return fmt.Errorf("report: writing into %s: %w", *out, err)
	}
	fmt.Fprint(e.stdout, merged.Summary())
	fmt.Fprintf(e.stdout, "reports: %s, %s, %s\n",
		filepath.Join(*out, report.HTMLFile), filepath.Join(*out, report.JUnitFile), filepath.Join(*out, report.JSONFile))
	return nil
}

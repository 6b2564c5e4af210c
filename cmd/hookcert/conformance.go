package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// runConformance certifies a receiver against the catalogue, as `make
// conformance` does through the Ginkgo suite: the same session, checks
// and reports, and the exit status of its own.
func runConformance(ctx context.Context, e env, args []string) error {
	set, bad, err := runSettings(e, "conformance", "[--url URL] [--probe-url URL] [--labels FILTER] [flags]", certify.CmdConformance, args)
	if err != nil {
		return err
	}
	if bad != nil {
		return unmade(e, set, bad)
	}
	s, werr := conformance(ctx, e, set)
	printSummary(e, s, werr)
	if werr != nil {
		return exitStatus(exitCannotRun)
	}
	return exitFor(set, s.Report.ExitCode)
}

// conformance runs the catalogue, saying on stderr what it runs.
func conformance(ctx context.Context, e env, set certify.Settings) (*certify.Session, error) {
	return certify.Conformance(ctx, set, func(s *certify.Session, scs []*scenario.Scenario) {
		fmt.Fprintf(e.stderr, "running %d checks against %s\n", len(scs), s.Report.Target)
	})
}

// runCertify runs the conformance catalogue into REPORT_DIR/conformance,
// the load test into REPORT_DIR/load, and merges them into one report in
// REPORT_DIR, as `make certify` does.
func runCertify(ctx context.Context, e env, args []string) error {
	set, bad, err := runSettings(e, "certify", "[--url URL] [--probe-url URL] [--rate N] [--duration D] [flags]", certify.CmdCertify, args)
	if err != nil {
		return err
	}
	if bad != nil {
		return unmade(e, set, bad)
	}
	dir := set.ReportDir
	parts := []struct {
		name string
		run  func(certify.Settings) (*certify.Session, error)
	}{
		{"conformance", func(set certify.Settings) (*certify.Session, error) { return conformance(ctx, e, set) }},
		{"load", func(set certify.Settings) (*certify.Session, error) {
			s, _, err := loadTest(ctx, e, set, false)
			return s, err
		}},
	}
	var dirs []string
	for _, p := range parts {
		part := set
		part.ReportDir = filepath.Join(dir, p.name)
		var s *certify.Session
		var err error
		if ctx.Err() != nil {
			// Interrupted: the part that did not run says so, and the
			// merged report is NOT CERTIFIED.
			s, err = certify.Unmade(part, certify.ErrInterrupted)
		} else {
			s, err = p.run(part)
		}
		if err != nil {
			printSummary(e, s, err)
			return exitStatus(exitCannotRun)
		}
		fmt.Fprintf(e.stdout, "%s: %s (exit %d), reports in %s\n", p.name, s.Report.Overall, s.Report.ExitCode, part.ReportDir)
		dirs = append(dirs, part.ReportDir)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Join(d, report.JSONFile))
	}
	merged, err := mergeReports(e, dir, names)
	if err != nil {
		return err
	}
	printFiles(e, dir, merged)
	return exitFor(set, merged.ExitCode)
}

// printSummary prints a run's summary and the files it wrote, or why
// they could not be written; why the run could not be made, if it could
// not, goes to stderr too.
func printSummary(e env, s *certify.Session, writeErr error, extra ...string) {
	if s.Report.Error != "" {
		fmt.Fprintf(e.stderr, "hookcert: %s\n", s.Report.Error)
	}
	if writeErr != nil {
		fmt.Fprintf(e.stderr, "hookcert: the reports could not be written into %s: %v\n", s.ReportDir, writeErr)
		return
	}
	fmt.Fprint(e.stdout, s.Report.Summary())
	printFiles(e, s.ReportDir, nil, extra...)
}

// printFiles prints the report files in dir; with merged, the merged
// report's summary first.
func printFiles(e env, dir string, merged *report.Report, extra ...string) {
	if merged != nil {
		fmt.Fprint(e.stdout, merged.Summary())
	}
	files := append(report.Files(dir), extra...)
	fmt.Fprintf(e.stdout, "reports: %s\n", strings.Join(files, ", "))
}

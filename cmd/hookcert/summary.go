package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/realm-ai/hookcert/harness/report"
)

// runSummary prints a report as GitHub-flavoured Markdown, for a CI job
// summary (hookcert summary reports >> "$GITHUB_STEP_SUMMARY") or a
// merge-request note. It exits 0 once the Markdown is printed, whatever
// the verdict: `hookcert status` gates a pipeline, and the summary is
// wanted most when the run failed.
func runSummary(_ context.Context, e env, args []string) error {
	fs := newFlags(e, "summary", "[--html NAME] [REPORT_DIR or report.json]")
	htmlName := fs.String("html", "", "where readers find the HTML report, named in the last line: a path in the CI artifact or a URL (default: the index.html beside the report.json)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	name, err := reportFile("summary", pos)
	if err != nil {
		return err
	}
	r, err := report.Read(name)
	if errors.Is(err, report.ErrNoReport) {
		return usagef("summary: %v: the run did not start, or REPORT_DIR is not the directory it wrote its report into", err)
	}
	if err != nil {
		return usagef("summary: %v", err)
	}
	html := *htmlName
	if html == "" {
		html = filepath.Join(filepath.Dir(name), report.HTMLFile)
	}
	fmt.Fprint(e.stdout, r.Markdown(html))
	return nil
}

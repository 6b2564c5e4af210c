// Package check is what the Ginkgo suites share: the settings of a suite
// run, one check's
// result reported as the running spec, and the console's one summary, so
// the conformance and load suites stay thin and alike.
//
// The checks run before the specs, through the same certify functions as
// `hookcert conformance` and `hookcert load`, which also write the
// reports; the specs then report the verdicts. Ginkgo's own console
// output would time the reporting, not the checks, and add a second
// summary, so it is shown only when asked for (-ginkgo.v).
package check

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/report"
)

// Settings reads a suite run's settings from the environment. Run by
// make, they are the user's; run by a bare `go test` (make e2e), smoke
// is applied first, a compressed run that proves the suite works, and the
// reports go to a temporary directory. The error is why the settings
// cannot be used; the settings returned still say where the report goes.
func Settings(smoke map[certify.Setting]string) (certify.Settings, error) {
	getenv := os.Getenv
	if os.Getenv(certify.MakeEnv) == "" {
		getenv = func(k string) string {
			for set, v := range smoke {
				if o, _ := certify.Lookup(set); o.Env == k && os.Getenv(k) == "" {
					return v
				}
			}
			return os.Getenv(k)
		}
		if os.Getenv(certify.Env(certify.SetReportDir)) == "" {
			dir, err := os.MkdirTemp("", "hookcert-reports-")
			if err != nil {
				return certify.Defaults(), err
			}
			getenv = withReportDir(getenv, dir)
		}
	}
	return certify.FromEnv(getenv)
}

func withReportDir(getenv func(string) string, dir string) func(string) string {
	return func(k string) string {
		if k == certify.Env(certify.SetReportDir) {
			return dir
		}
		return getenv(k)
	}
}

// Spec reports the result of check id as the running spec: FAIL fails it
// with expected versus observed, SKIP skips it with the reason, and so
// does AFFECTED (one failure, the availability check's, reports an
// outage, as in junit.xml), WARN and INFO pass with their text attached,
// and the evidence is attached to show on failure or with -v. ok false
// means the check never ran, and why says why.
func Spec(id string, r harness.Result, ok bool, why string) {
	if !ok {
		if why == "" {
			why = "the run stopped before it"
		}
		Fail(id + " did not run: " + why)
	}
	AddReportEntry("verdict", fmt.Sprintf("%s %s (%s)", r.ID, r.Verdict, r.Level), ReportEntryVisibilityNever)
	if len(r.Evidence) > 0 {
		AddReportEntry("evidence", report.Evidence(r.Evidence), ReportEntryVisibilityFailureOrVerbose)
	}
	switch r.Verdict {
	case harness.Fail:
		Fail(report.Failure(r))
	case harness.Skip:
		Skip(r.ID + " skipped: " + r.Reason)
	case harness.NotApplicable:
		Skip(r.ID + " N/A: " + r.Reason)
	case harness.Affected:
		Skip(r.ID + " AFFECTED: " + r.Reason)
	case harness.Warn:
		AddReportEntry("warning", report.Failure(r))
	case harness.InfoVerdict:
		AddReportEntry("info", r.Observed)
	}
}

// Results indexes a report's results by check ID, for the specs.
func Results(r *report.Report) map[string]harness.Result {
	out := make(map[string]harness.Result, len(r.Results))
	for _, res := range r.Results {
		out[res.ID] = res
	}
	return out
}

// Before says how long the checks took, before Ginkgo's output. Ginkgo
// times its specs, which only report the verdicts of checks that ran
// before them; with -ginkgo.v its output follows, so the line says so.
// Without it, Ginkgo's console output, a second summary whose times are
// not the checks', is left out: the console's summary is the report's
// (Summary), printed once at the end.
func Before(w io.Writer, s *certify.Session, what string) {
	_, cfg := GinkgoConfiguration()
	verbose := cfg.Verbosity().GTE(types.VerbosityLevelVerbose)
	if !verbose {
		formatter.ColorableStdOut = io.Discard
	}
	n := len(s.Report.Results)
	if n == 0 {
		return
	}
	took := time.Duration(s.Report.Duration).Round(100 * time.Millisecond)
	if verbose {
		fmt.Fprintf(w, "%d %s ran in %s, before the specs below: they only report the verdicts, so Ginkgo's times are not the checks'\n", n, what, took)
		return
	}
	fmt.Fprintf(w, "%d %s ran in %s\n", n, what, took)
}

// Summary prints the run's one summary and the files it wrote, writeErr
// (if any) instead of the files when they could not be written.
func Summary(w io.Writer, s *certify.Session, writeErr error, extra ...string) {
	if writeErr != nil {
		fmt.Fprintf(os.Stderr, "error: the reports could not be written into %s: %v\n", s.ReportDir, writeErr)
		return
	}
	fmt.Fprint(w, s.Report.Summary())
	files := append(report.Files(s.ReportDir), extra...)
	fmt.Fprintf(w, "reports: %s\n", strings.Join(files, ", "))
}

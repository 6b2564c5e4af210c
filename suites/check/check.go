// Package check is what the Ginkgo suites share: it reports one check's
// result as the running spec, and writes a session's reports at the end of
// a suite, so the conformance and load suites stay thin and alike.
package check

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	. "github.com/onsi/ginkgo/v2"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/report"
)

// Spec reports the result of check id as the running spec: FAIL fails it
// with expected versus observed, SKIP skips it with the reason, WARN and
// INFO pass with their text attached, and the evidence is attached to show
// on failure or with -v. ok false means the check never ran, and setupErr
// (if any) says why.
func Spec(id string, r harness.Result, ok bool, setupErr error) {
	if !ok {
		why := "the run stopped before it"
		if setupErr != nil {
			why = setupErr.Error()
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
	case harness.Warn:
		AddReportEntry("warning", report.Failure(r))
	case harness.InfoVerdict:
		AddReportEntry("info", r.Observed)
	}
}

// Ensure returns s, or, when nothing could be prepared (bad settings), an
// empty session for o's report directory, so that a report saying why is
// still written.
func Ensure(s *certify.Session, o certify.Settings) *certify.Session {
	if s != nil {
		return s
	}
	return certify.Placeholder(o)
}

// Finish records the results in the session's report, writes report.json,
// index.html and junit.xml into its directory, prints the console summary
// and returns the files written. junit.xml is written with the report (by
// harness/report), not from the Ginkgo run, so it agrees with report.json
// and with what `hookcert report` renders. A report that cannot be
// written is one error on the console and no files: no verdict is printed
// that no report backs.
func Finish(s *certify.Session, results []harness.Result, complete bool, runErr error) []string {
	if err := s.Finish(results, complete, runErr); err != nil {
		fmt.Fprintf(os.Stderr, "error: the reports could not be written into %s: %v\n", s.ReportDir, err)
		return nil
	}
	fmt.Fprint(os.Stdout, s.Report.Summary())
	return []string{filepath.Join(s.ReportDir, report.HTMLFile), filepath.Join(s.ReportDir, report.JUnitFile), filepath.Join(s.ReportDir, report.JSONFile)}
}

// Interruptible returns a context that ends at the first Ctrl-C (SIGINT)
// or SIGTERM, and a stop that restores the signals' usual effect. The
// suites run their checks under it before Ginkgo starts, so that one
// interrupt stops the run once: the deliveries under way end, the checks
// that finished keep their verdicts, and the reports are written. Until
// stop, a later interrupt is only acknowledged on w, since ending the
// process would lose the reports.
func Interruptible(w *os.File) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case s := <-sig:
				if n == 0 {
					fmt.Fprintf(w, "\n%s: stopping the checks under way, then writing the reports\n", s)
				} else {
					fmt.Fprintf(w, "\n%s: still stopping; the reports are written next\n", s)
				}
				cancel()
			}
		}
	}()
	return ctx, sync.OnceFunc(func() {
		signal.Stop(sig)
		close(done)
		cancel()
	})
}

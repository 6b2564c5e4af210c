// Package load_test is the Ginkgo load suite: one spec per load check
// (LOAD-01..04), labelled "load", by level and by ID, like the conformance
// checks. It is thin: certify prepares the run (the bundled reference
// receiver when no URL is given) and the load package attacks, asks the
// probe and judges before Ginkgo starts, under an interrupt of the suite's
// own (one Ctrl-C ends the attack once); each spec then reports its check's
// verdict. ReportAfterSuite writes report.json, index.html and junit.xml
// (from the report, by harness/report) next to the raw vegeta
// results, and prints the console summary.
package load_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/suites/check"
)

// smokeDuration is the attack of a bare `go test` (make test): a short
// run that proves the suite works. `make load` always sets DURATION.
const smokeDuration = "2s"

func TestLoad(t *testing.T) {
	if env := certify.Env(certify.SetDuration); os.Getenv(env) == "" {
		t.Setenv(env, smokeDuration)
	}
	// The attack runs before Ginkgo starts, under an interrupt of its own:
	// one Ctrl-C ends it once and the specs then report what was measured.
	ctx, stop := check.Interruptible(os.Stderr)
	defer stop()
	attack(ctx)
	stop()
	RegisterFailHandler(Fail)
	RunSpecs(t, "REALM webhook receiver load test")
}

var (
	opts     certify.Settings
	session  *certify.Session
	setupErr error
	outcome  *load.Outcome
	results  = map[string]harness.Result{}
)

// attack prepares the session, attacks, asks the probe and judges;
// setupErr says why the run could not be made.
func attack(ctx context.Context) {
	opts, setupErr = certify.FromEnv(os.Getenv)
	if opts.ReportDir == "" {
		dir, err := os.MkdirTemp("", "hookcert-load-")
		if err != nil {
			setupErr = errors.Join(setupErr, err)
			return
		}
		opts.ReportDir = dir
	}
	if setupErr != nil {
		return
	}
	opts.Load.Progress, opts.Load.Live = os.Stdout, load.IsTerminal(os.Stdout)
	session, setupErr = certify.Prepare(ctx, opts)
	if setupErr != nil {
		return
	}
	set := session.Settings.Load
	fmt.Fprintf(os.Stdout, "attacking %s at %d/s for %s\n", session.Report.Target, set.Rate, set.Duration)
	outcome, setupErr = session.Load(ctx)
	if outcome != nil {
		for _, r := range outcome.Results {
			results[r.ID] = r
		}
	}
}

// runErr is why the run could not be made, or did not end.
func runErr() error {
	if setupErr == nil && (outcome == nil || !outcome.Complete) {
		return errInterrupted
	}
	return setupErr
}

var errInterrupted = errors.New("interrupted before the load test ended")

var _ = BeforeSuite(func() {
	if setupErr != nil {
		Fail(setupErr.Error())
	}
})

var _ = Describe("REALM webhook receiver under load", Label(load.Category), func() {
	for _, req := range load.Requirements() {
		It(req.ID+": "+req.Title, Label(req.Labels()...), func() {
			r, ok := results[req.ID]
			check.Spec(req.ID, r, ok, setupErr)
		})
	}
})

var _ = ReportAfterSuite("reports", func(_ Report) {
	dir := opts.ReportDir
	if dir == "" {
		return
	}
	session = check.Ensure(session, opts)
	defer session.Close()
	var out []harness.Result
	complete := false
	if outcome != nil {
		session.Report.Load = outcome.Load
		out, complete = outcome.Results, outcome.Complete
	}
	files := check.Finish(session, out, complete && runErr() == nil, runErr())
	if outcome != nil {
		fmt.Fprintln(os.Stdout, load.Headline(outcome.Load))
		for _, f := range outcome.Load.ResultsFiles {
			files = append(files, filepath.Join(dir, f))
		}
	}
	if len(files) == 0 {
		Fail("the reports could not be written")
	}
	fmt.Fprintf(os.Stdout, "reports: %s\n", strings.Join(files, ", "))
	if outcome != nil && len(outcome.Load.ResultsFiles) > 0 {
		fmt.Fprintf(os.Stdout, "raw results: vegeta report %s (or: go run github.com/tsenart/vegeta/v12@v12.13.0 report %[1]s)\n",
			filepath.Join(dir, outcome.Load.ResultsFiles[0]))
	}
	// A check the attack's early end left unjudged is skipped, as in the
	// report; the suite fails, as the run is not certified.
	if err := runErr(); err != nil && setupErr == nil {
		Fail(err.Error())
	}
})

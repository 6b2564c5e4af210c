// Package load_test is the Ginkgo load suite: one spec per load check
// (LOAD-01..04), labelled "load", by level and by ID, like the conformance
// checks. It is thin: certify.LoadTest, which `hookcert load` calls too,
// prepares the run (the bundled reference receiver when no URL is given),
// attacks, asks the probe, judges and writes report.json, index.html and
// junit.xml next to the raw vegeta results before Ginkgo starts, under an
// interrupt of the suite's own (one Ctrl-C ends the attack once); each
// spec then reports its check's verdict, and the console ends with the
// report's summary.
package load_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/suites/check"
)

// smoke is the attack of a bare `go test` (make e2e): a short run that
// proves the suite works. `make load` runs what it is given.
var smoke = map[certify.Setting]string{certify.SetDuration: "2s"}

var (
	session *certify.Session
	results map[string]harness.Result
)

func TestLoad(t *testing.T) {
	opts, err := check.Settings(smoke)
	// The attack runs before Ginkgo starts, under an interrupt of its own:
	// one Ctrl-C ends it once and the specs then report what was measured.
	ctx, stop := certify.Interruptible(os.Stderr, "stopping the attack, then writing the reports")
	var out *load.Outcome
	var writeErr error
	if err != nil {
		session, writeErr = certify.Unmade(opts, err)
	} else {
		opts.Load.Progress, opts.Load.Live = os.Stdout, load.IsTerminal(os.Stdout)
		session, out, writeErr = certify.LoadTest(ctx, opts, false, func(s *certify.Session) {
			set := s.Settings.Load
			fmt.Fprintf(os.Stdout, "attacking %s at %d/s for %s\n", s.Report.Target, set.Rate, set.Duration)
		})
	}
	stop()
	results = check.Results(session.Report)
	var extra []string
	if out != nil {
		for _, f := range out.Load.ResultsFiles {
			extra = append(extra, filepath.Join(session.ReportDir, f))
		}
	}
	if len(results) == 0 && session.Report.Error != "" {
		check.Summary(os.Stdout, session, writeErr, extra...)
		t.Fatal(session.Report.Error)
	}
	check.Before(os.Stdout, session, "load checks")
	RegisterFailHandler(Fail)
	RunSpecs(t, "REALM webhook receiver load test")
	check.Summary(os.Stdout, session, writeErr, extra...)
	if out != nil {
		fmt.Fprintln(os.Stdout, load.Headline(out.Load))
		if len(extra) > 0 {
			fmt.Fprintf(os.Stdout, "raw results: vegeta report %s (or: go run github.com/tsenart/vegeta/v12@v12.13.0 report %[1]s)\n", extra[0])
		}
	}
	if writeErr != nil {
		t.Error("the reports could not be written")
	}
}

var _ = Describe("REALM webhook receiver under load", Label(load.Category), func() {
	for _, req := range load.Requirements() {
		It(req.ID+": "+req.Title, Label(req.Labels()...), func() {
			r, ok := results[req.ID]
			check.Spec(req.ID, r, ok, session.Report.Error)
		})
	}
})

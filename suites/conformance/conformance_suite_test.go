// Package conformance_test is the Ginkgo conformance suite: one spec per
// scenario, labelled by category, level and ID, so LABELS='signature ||
// idempotency' selects checks. It is thin: certify.Conformance, which
// `hookcert conformance` calls too, prepares the run, runs the selected
// checks concurrently and writes report.json, index.html and junit.xml
// before Ginkgo starts, under an interrupt of the suite's own (one Ctrl-C
// stops the run once); each spec then reports its check's verdict and
// evidence, and the console ends with the report's summary.
package conformance_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/suites/check"
)

// smokeTiming compresses the sender's waits for a bare `go test` (make
// test), which proves the suite works; `make conformance` runs at the
// timing it is given.
var smokeTiming = map[certify.Setting]string{
	certify.SetSettle: "1s", certify.SetSenderTimeout: "2s", certify.SetRetrySchedule: "250ms,500ms,1s", certify.SetDedupeGap: "2s",
}

var (
	// opts and catalogue are read while the spec tree is built, so every
	// scenario gets its spec; a run that cannot use them says why in its
	// report, and every spec fails with it.
	opts, optsErr = check.Settings(smokeTiming)
	catalogue, _  = opts.Catalogue()

	session *certify.Session
	results map[string]harness.Result
)

func TestConformance(t *testing.T) {
	opts.Labels = GinkgoLabelFilter()
	// The checks run before Ginkgo starts, under an interrupt of their
	// own: one Ctrl-C stops them once and the specs then report what ran.
	ctx, stop := certify.Interruptible(os.Stderr, "stopping the checks under way, then writing the reports")
	var writeErr error
	if optsErr != nil {
		session, writeErr = certify.Unmade(opts, optsErr)
	} else {
		session, writeErr = certify.Conformance(ctx, opts, func(s *certify.Session, scs []*scenario.Scenario) {
			fmt.Fprintf(os.Stdout, "running %d checks against %s\n", len(scs), s.Report.Target)
		})
	}
	stop()
	results = check.Results(session.Report)
	// A run that could not be made before any check ran (settings, a
	// broken scenario file, a label filter that does not parse or selects
	// nothing) fails here: Ginkgo would otherwise run no spec and call the
	// suite passed.
	if len(results) == 0 && session.Report.Error != "" {
		check.Summary(os.Stdout, session, writeErr)
		t.Fatal(session.Report.Error)
	}
	check.Before(os.Stdout, session, "checks")
	RegisterFailHandler(Fail)
	RunSpecs(t, "REALM webhook receiver conformance")
	check.Summary(os.Stdout, session, writeErr)
	if writeErr != nil {
		t.Error("the reports could not be written")
	}
}

// why is the reason a check has no result: why the run could not be made
// or did not end.
func why() string { return session.Report.Error }

var _ = Describe("REALM webhook receiver", func() {
	for _, cat := range certify.Categories(catalogue) {
		Describe(cat, Label(cat), func() {
			for _, sc := range catalogue {
				// A slow check has a spec only when the filter names it,
				// as it runs only then (certify).
				if sc.Category != cat || !sc.Runs(GinkgoLabelFilter()) {
					continue
				}
				It(sc.ID+": "+sc.Title, Label(certify.Labels(sc)...), func() {
					r, ok := results[sc.ID]
					check.Spec(sc.ID, r, ok, why())
				})
			}
		})
	}
})

// TestLabelFilters checks the label filters before any spec runs: one that
// selects checks passes, one that selects none or does not parse is an
// error naming LABELS (the make conformance test runs the first through
// make).
func TestLabelFilters(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{"", ""},
		{"signature && must", ""},
		{"SIG-01", ""},
		{"signatuer", `LABELS: "signatuer" selects no check`},
		{"SIG-01 ||", `LABELS: "SIG-01 ||" does not parse: Syntax Error`},
	} {
		set := opts
		set.Labels = tc.filter
		err := set.CheckLabels()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want no error", tc.filter, err)
		case tc.want != "" && (!errors.Is(err, certify.ErrCannotRun) || !strings.Contains(fmt.Sprint(err), tc.want) || strings.Contains(fmt.Sprint(err), "\x1b")):
			t.Errorf("%q: %v, want a plain error saying %q", tc.filter, err, tc.want)
		}
	}
}

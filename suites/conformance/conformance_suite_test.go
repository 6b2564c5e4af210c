// Package conformance_test is the Ginkgo conformance suite: one spec per
// scenario, labelled by category, level and ID, so LABELS='signature ||
// idempotency' selects checks. It is thin: the certify package prepares
// the run and the engine runs the selected scenarios concurrently before
// Ginkgo starts, under an interrupt of the suite's own (one Ctrl-C stops
// the run once); each spec then reports its check's verdict and evidence.
// ReportAfterSuite writes report.json, index.html and junit.xml (all three
// from the report, by harness/report), and prints the console summary.
package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/suites/check"
)

// smokeTiming compresses the sender's waits for a bare `go test` (make
// test), which proves the suite works; `make conformance`, which always
// sets the report directory, runs at the timing it is given.
var smokeTiming = map[certify.Setting]string{
	certify.SetSettle: "1s", certify.SetSenderTimeout: "2s", certify.SetRetrySchedule: "250ms,500ms,1s", certify.SetDedupeGap: "2s",
}

func TestConformance(t *testing.T) {
	if _, byMake := os.LookupEnv(certify.Env(certify.SetReportDir)); !byMake {
		for set, v := range smokeTiming {
			t.Setenv(certify.Env(set), v)
		}
	}
	// A run that cannot be made before any spec exists (settings, a broken
	// scenario file, a label filter that does not parse or selects
	// nothing) writes its report and fails here: Ginkgo would otherwise run
	// no spec and call the suite passed.
	if err := before(GinkgoLabelFilter()); err != nil {
		opts, _ := certify.FromEnv(os.Getenv)
		if opts.ReportDir != "" {
			s := check.Ensure(nil, opts)
			if files := check.Finish(s, nil, false, err); len(files) > 0 {
				fmt.Fprintf(os.Stdout, "reports: %s\n", strings.Join(files, ", "))
			}
		}
		t.Fatal(err)
	}
	// The checks run before Ginkgo starts, under an interrupt of their
	// own: one Ctrl-C stops them once and the specs then report what ran.
	ctx, stop := check.Interruptible(os.Stderr)
	defer stop()
	runChecks(ctx)
	stop()
	RegisterFailHandler(Fail)
	RunSpecs(t, "REALM webhook receiver conformance")
}

// ansi matches the terminal colour codes in Ginkgo's errors.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// plain is a Ginkgo error message on one line, without colours.
func plain(msg string) string {
	return strings.Join(strings.Fields(ansi.ReplaceAllString(msg, "")), " ")
}

// before is why the run cannot start, if it cannot: the settings or the
// scenario files are broken, or the label filter does not parse or selects
// no check.
func before(filter string) error {
	if err := errors.Join(optsErr, catErr); err != nil {
		return err
	}
	if strings.TrimSpace(filter) == "" {
		return nil
	}
	match, err := types.ParseLabelFilter(filter)
	if err != nil {
		return opts.Bad(certify.SetLabels, "%q does not parse: %s", filter, plain(err.Error()))
	}
	if !slices.ContainsFunc(catalogue, func(sc *scenario.Scenario) bool { return match(specLabels(sc)) }) {
		return opts.Bad(certify.SetLabels, "%q selects no check: the labels are the categories (%s), the levels (must, should, info), probe, and the check IDs",
			filter, strings.Join(categoriesOf(catalogue), ", "))
	}
	return nil
}

var (
	// opts and catalogue are read while the spec tree is built, so every
	// scenario gets its spec; their errors surface in BeforeSuite.
	opts, optsErr     = certify.FromEnv(os.Getenv)
	catalogue, catErr = opts.Catalogue()

	session  *certify.Session
	setupErr error
	selected []*scenario.Scenario
	results  = map[string]harness.Result{}
	ran      bool
)

// specLabels are the labels of a scenario's spec: its category (from the
// container), its level, its ID, "probe" when it needs one, and its own.
func specLabels(sc *scenario.Scenario) []string {
	return append(sc.AllLabels(), sc.ID)
}

// runChecks prepares the session and runs the selected checks; setupErr
// says why the run could not be made, and ran whether every check ran to
// its end.
func runChecks(ctx context.Context) {
	// Read again: TestConformance may have set the smoke timing after the
	// spec tree was built.
	opts, optsErr = certify.FromEnv(os.Getenv)
	if opts.ReportDir == "" {
		dir, err := os.MkdirTemp("", "hookcert-reports-")
		if err != nil {
			setupErr = err
			return
		}
		opts.ReportDir = dir
	}
	if setupErr = errors.Join(optsErr, catErr); setupErr != nil {
		return
	}
	opts.Labels = GinkgoLabelFilter()
	session, setupErr = certify.Prepare(ctx, opts)
	if setupErr != nil {
		return
	}
	// before has parsed the filter already.
	filter, _ := types.ParseLabelFilter(GinkgoLabelFilter())
	for _, sc := range session.Scenarios {
		if filter(specLabels(sc)) {
			selected = append(selected, sc)
		}
	}
	if len(selected) == 0 {
		// A run of no check would be COMPLIANT: a false green.
		setupErr = opts.Bad(certify.SetLabels, "%q selects no check that runs (a slow check runs only when the filter names it or %s)",
			GinkgoLabelFilter(), scenario.SlowLabel)
		return
	}
	fmt.Fprintf(os.Stdout, "running %d checks against %s\n", len(selected), session.Report.Target)
	// Every wait of a check is bounded; this bounds them all, should a
	// receiver find a way around.
	ctx, cancel := context.WithTimeoutCause(ctx, runLimit, errOverTime)
	defer cancel()
	for _, r := range session.Run(ctx, selected) {
		results[r.ID] = r
	}
	ran = ctx.Err() == nil
	if !ran && context.Cause(ctx) == errOverTime {
		stoppedBy = errOverTime
	}
}

const runLimit = 15 * time.Minute

var errOverTime = fmt.Errorf("stopped after %s: every check's waits are bounded, so a run this long is a bug of the suite; please report it", runLimit)

// runErr is why the run could not be made, or did not end.
func runErr() error {
	if setupErr == nil && !ran {
		return stoppedBy
	}
	return setupErr
}

// stoppedBy is why a run that was made did not end: an interrupt unless
// runChecks says otherwise.
var stoppedBy = errors.New("interrupted before every check ran")

var _ = BeforeSuite(func() {
	if setupErr != nil {
		Fail(setupErr.Error())
	}
})

var _ = Describe("REALM webhook receiver", func() {
	for _, cat := range categoriesOf(catalogue) {
		Describe(cat, Label(cat), func() {
			for _, sc := range catalogue {
				// A slow check has a spec only when the filter names it,
				// as it runs only then (certify).
				if sc.Category != cat || !sc.Runs(GinkgoLabelFilter()) {
					continue
				}
				It(sc.ID+": "+sc.Title, Label(specLabels(sc)...), func() {
					r, ok := results[sc.ID]
					check.Spec(sc.ID, r, ok, setupErr)
				})
			}
		})
	}
})

// categoriesOf lists the categories present, the catalogue's first in the
// order reports show them (harness.Categories), then any a user's
// scenarios add.
func categoriesOf(scs []*scenario.Scenario) []string {
	var out []string
	for _, cat := range harness.Categories() {
		if slices.ContainsFunc(scs, func(sc *scenario.Scenario) bool { return sc.Category == cat }) {
			out = append(out, cat)
		}
	}
	for _, sc := range scs {
		if !slices.Contains(out, sc.Category) {
			out = append(out, sc.Category)
		}
	}
	return out
}

var _ = ReportAfterSuite("reports", func(_ Report) {
	dir := opts.ReportDir
	if dir == "" {
		return
	}
	session = check.Ensure(session, opts)
	defer session.Close()
	var out []harness.Result
	for _, sc := range selected {
		if r, ok := results[sc.ID]; ok {
			out = append(out, r)
		}
	}
	files := check.Finish(session, out, ran && len(out) == len(selected), runErr())
	if len(files) == 0 {
		Fail("the reports could not be written")
	}
	fmt.Fprintf(os.Stdout, "reports: %s\n", strings.Join(files, ", "))
	// The checks the run's end cut off are skipped, as in the report; the
	// suite fails, as the run is not certified.
	if err := runErr(); err != nil && setupErr == nil {
		Fail(err.Error())
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
		err := before(tc.filter)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want no error", tc.filter, err)
		case tc.want != "" && (!errors.Is(err, certify.ErrCannotRun) || !strings.Contains(fmt.Sprint(err), tc.want) || strings.Contains(fmt.Sprint(err), "\x1b")):
			t.Errorf("%q: %v, want a plain error saying %q", tc.filter, err, tc.want)
		}
	}
}

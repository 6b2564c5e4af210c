package certify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// Labels are the labels a label filter selects a check by: its category,
// its level, "probe" when it needs one, its own labels and its ID. The
// Ginkgo suite gives its specs the same, so LABELS selects the same
// checks there as in the CLI.
func Labels(sc *scenario.Scenario) []string { return append(sc.AllLabels(), sc.ID) }

// Categories lists the categories of scs: the catalogue's in the order
// reports show them (harness.Categories), then any a user's scenarios add.
func Categories(scs []*scenario.Scenario) []string {
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

// ansi matches the terminal colour codes in Ginkgo's parse errors.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// match parses the run's label filter in Ginkgo's grammar: nil selects
// every check. Errors wrap ErrCannotRun and name LABELS.
func (set *Settings) match() (func([]string) bool, error) {
	if strings.TrimSpace(set.Labels) == "" {
		return nil, nil
	}
	m, err := types.ParseLabelFilter(set.Labels)
	if err != nil {
		msg := strings.Join(strings.Fields(ansi.ReplaceAllString(err.Error(), "")), " ")
		return nil, set.Bad(setLabels, "%q does not parse: %s", set.Labels, msg)
	}
	return m, nil
}

// CheckLabels is why the run's label filter cannot be used, if it
// cannot: it does not parse, or selects no check of the catalogue. Both
// front ends call it before they prepare anything, so a typo costs no
// run. Errors wrap ErrCannotRun.
func (set *Settings) CheckLabels() error {
	scs, err := set.Catalogue()
	if err != nil {
		return err
	}
	m, err := set.match()
	if err != nil || m == nil {
		return err
	}
	if !slices.ContainsFunc(scs, func(sc *scenario.Scenario) bool { return m(Labels(sc)) }) {
		return set.Bad(setLabels, "%q selects no check: the labels are the categories (%s), the levels (must, should, info), probe, and the check IDs",
			set.Labels, strings.Join(Categories(scs), ", "))
	}
	return nil
}

// selectChecks returns the session's checks that its label filter selects, in
// catalogue order. A selection of no check that runs is an error (a run
// of nothing would be COMPLIANT: a false green); it wraps ErrCannotRun.
func (s *Session) selectChecks() ([]*scenario.Scenario, error) {
	m, err := s.Settings.match()
	if err != nil {
		return nil, err
	}
	var out []*scenario.Scenario
	for _, sc := range s.Scenarios {
		if m == nil || m(Labels(sc)) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, s.Settings.Bad(setLabels, "%q selects no check that runs (a slow check runs only when the filter names it or %s)",
			s.Settings.Labels, scenario.SlowLabel)
	}
	return out, nil
}

// runLimit bounds a whole conformance run. Every wait of a check is
// bounded, so a run this long is a bug of the suite.
const runLimit = 15 * time.Minute

// ErrInterrupted is why a run that was made did not end: it was
// interrupted (Ctrl-C, SIGTERM, a cancelled context).
var ErrInterrupted = errors.New("interrupted before every check ran")

var errOverTime = fmt.Errorf("stopped after %s: every check's waits are bounded, so a run this long is a bug of the suite; please report it", runLimit)

// runChecks runs the selected checks, at most runLimit in all, and
// returns their results in the order given. The error is nil when every
// check ran to its end; otherwise it says why not (ErrInterrupted, or the
// limit), and the results hold what ran.
func (s *Session) runChecks(ctx context.Context, scs []*scenario.Scenario) ([]harness.Result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, runLimit, errOverTime)
	defer cancel()
	results := s.run(ctx, scs)
	// Closed now, so that the reports can be written however many files
	// the checks held.
	s.closeIdle()
	switch {
	case ctx.Err() == nil:
		return results, nil
	case context.Cause(ctx) == errOverTime:
		return results, errOverTime
	}
	if err := ranOut(ctx); err != nil {
		return results, err
	}
	return results, ErrInterrupted
}

// Conformance is one whole conformance run, as `make conformance` and
// `hookcert conformance` make it: the label filter checked, the session
// prepared, the selected checks run, the reports written. The session it
// returns is closed; its Report is what was written, saying why the run
// could not be made or did not end, if so. The error is only that of
// writing the reports. Started, when set, is called with the checks about
// to run.
func Conformance(ctx context.Context, set Settings, started func(*Session, []*scenario.Scenario)) (*Session, error) {
	if err := set.CheckLabels(); err != nil {
		return Unmade(set, err)
	}
	ctx, stop := stopOnFiles(ctx)
	defer stop()
	s, err := prepare(ctx, set)
	defer s.close()
	var scs []*scenario.Scenario
	if err == nil {
		scs, err = s.selectChecks()
	}
	if err == nil {
		calls, checks := s.Engine.InFlight(scs)
		err = s.checkFiles(calls, checks, fmt.Sprintf("%d checks, %d at once", len(scs), checks))
	}
	if err != nil {
		return s, s.finish(nil, false, err)
	}
	if started != nil {
		started(s, scs)
	}
	results, err := s.runChecks(ctx, scs)
	return s, s.finish(results, err == nil, err)
}

// Unmade writes the report of a run that could not be made before
// anything was prepared (settings that do not parse, a label filter that
// selects nothing): NOT CERTIFIED, saying why. The error is that of
// writing it.
func Unmade(set Settings, why error) (*Session, error) {
	s := placeholder(set.withDefaults())
	return s, s.finish(nil, false, why)
}

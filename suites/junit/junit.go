// Package junit writes a hookcert report as junit.xml through Ginkgo's own
// JUnit reporter, so CI systems show every check as a test case.
//
// It converts the report (harness/report), not the Ginkgo run that made it:
// the conformance suite, `hookcert report` and the load suite all call
// Write with a *report.Report, so junit.xml always agrees with report.json
// and with the console summary. The conversion builds one Ginkgo
// types.Report per category, with one It spec per check named "ID: title";
// reporters.GenerateJUnitReportWithConfig writes each as a <testsuite>,
// and reporters.MergeAndCleanupJUnitReports joins them into one file. No
// XML is written by hand.
//
// It lives under suites/ because DESIGN section 9 keeps Ginkgo out of
// harness/.
//
// How verdicts map:
//   - PASS and INFO pass; WARN passes too (a broken SHOULD is a warning),
//     with the warning in system-out. Under STRICT=1 the engine already
//     made such a check FAIL.
//   - FAIL fails: the failure message says what was expected and what was
//     observed; the failure body adds the evidence timeline.
//   - SKIP is skipped with its reason.
//   - A run that could not be made, or stopped early, adds one test case
//     "hookcert: ..." with an <error>, so CI shows why.
//
// Every test case's system-out holds the check's description; for all but
// failures (whose body holds it) also the evidence. The secret is never in
// a report, so never here.
package junit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// RunSuite is the name of the test suite that holds the test case of a run
// that could not be made or stopped early.
const RunSuite = "hookcert"

// allStates are every spec state: the timelines Ginkgo would add to
// system-err repeat what the test case already says, so none is written.
const allStates = types.SpecStatePassed | types.SpecStateSkipped | types.SpecStatePending |
	types.SpecStateFailed | types.SpecStateAborted | types.SpecStatePanicked |
	types.SpecStateInterrupted | types.SpecStateTimedout

// Config is the configuration of Ginkgo's JUnit reporter: test cases are
// named "ID: title" alone, without node type or labels, and setup nodes
// are omitted.
var Config = reporters.JunitReportConfig{
	OmitSuiteSetupNodes:       true,
	OmitLeafNodeType:          true,
	OmitSpecLabels:            true,
	OmitTimelinesForSpecState: allStates,
}

// Suites converts a report into Ginkgo reports, one per category in the
// order of report.Groups, plus one for the run's own error if it has one.
func Suites(r *report.Report) []types.Report {
	var out []types.Report
	for _, g := range r.Groups() {
		suite := newSuite(r, g.Category)
		for _, res := range g.Results {
			suite.SpecReports = append(suite.SpecReports, spec(res))
		}
		out = append(out, finish(suite))
	}
	if r.Error != "" {
		suite := newSuite(r, RunSuite)
		suite.SpecReports = append(suite.SpecReports, runError(r))
		out = append(out, finish(suite))
	}
	return out
}

func newSuite(r *report.Report, name string) types.Report {
	return types.Report{
		SuitePath:        r.Target,
		SuiteDescription: name,
		SuiteSucceeded:   true,
		StartTime:        r.Started.UTC(),
		SuiteConfig:      types.SuiteConfig{LabelFilter: r.Settings.Labels},
	}
}

// finish sets a suite's outcome and run time from its specs.
func finish(s types.Report) types.Report {
	for _, sp := range s.SpecReports {
		s.RunTime += sp.RunTime
		if sp.State.Is(types.SpecStateFailureStates) {
			s.SuiteSucceeded = false
		}
	}
	s.EndTime = s.StartTime.Add(s.RunTime)
	return s
}

// runTime rounds a duration to milliseconds, the precision CI viewers
// show: Go's XML encoder would print a few microseconds in seconds as
// 6.21e-06, which is not an xs:decimal and which strict readers reject.
func runTime(d time.Duration) time.Duration {
	return d.Round(time.Millisecond)
}

// spec converts one check.
func spec(res harness.Result) types.SpecReport {
	start := res.Start.UTC()
	took := runTime(res.Duration)
	sp := types.SpecReport{
		LeafNodeType:     types.NodeTypeIt,
		LeafNodeText:     res.ID + ": " + res.Title,
		LeafNodeLocation: location(res),
		State:            types.SpecStatePassed,
		StartTime:        start,
		EndTime:          start.Add(took),
		RunTime:          took,
		NumAttempts:      1,
		ReportEntries: types.ReportEntries{
			entry("verdict", string(res.Verdict), start),
			entry("level", string(res.Level), start),
		},
	}
	switch res.Verdict {
	case harness.Fail:
		sp.State = types.SpecStateFailed
		sp.Failure = types.Failure{
			Message:            report.Failure(res),
			Location:           location(res),
			FailureNodeType:    types.NodeTypeIt,
			FailureNodeContext: types.FailureNodeIsLeafNode,
			TimelineLocation:   types.TimelineLocation{Time: sp.EndTime},
			ProgressReport:     evidence(res, sp),
		}
		sp.CapturedStdOutErr = report.CheckText(res, false)
	case harness.Skip:
		sp.State = types.SpecStateSkipped
		sp.Failure = types.Failure{
			Message:          res.Reason,
			Location:         location(res),
			FailureNodeType:  types.NodeTypeIt,
			TimelineLocation: types.TimelineLocation{Time: sp.EndTime},
		}
		sp.CapturedStdOutErr = report.CheckText(res, true)
	default:
		sp.CapturedStdOutErr = report.CheckText(res, true)
	}
	return sp
}

// location names the check where Ginkgo would name a source line: a
// check is a scenario, not a line of Go.
func location(res harness.Result) types.CodeLocation {
	return types.CodeLocation{CustomMessage: "hookcert check " + res.ID}
}

func entry(name, value string, at time.Time) types.ReportEntry {
	return types.ReportEntry{
		Name:             name,
		Value:            types.WrapEntryValue(value),
		Visibility:       types.ReportEntryVisibilityNever,
		Time:             at,
		TimelineLocation: types.TimelineLocation{Time: at},
	}
}

// evidence carries the evidence of a failed check into the body of its
// <failure>: Ginkgo's JUnit reporter writes the failure's progress report
// there, after the message and location.
func evidence(res harness.Result, sp types.SpecReport) types.ProgressReport {
	if len(res.Evidence) == 0 {
		return types.ProgressReport{}
	}
	text := fmt.Sprintf("Evidence of %s, every exchange in order:\n%s", res.ID, report.Evidence(res.Evidence))
	return types.ProgressReport{
		Message:              strings.TrimRight(text, "\n"),
		CurrentNodeType:      types.NodeTypeIt,
		CurrentNodeLocation:  location(res),
		CurrentNodeStartTime: sp.StartTime,
		TimelineLocation:     types.TimelineLocation{Time: sp.EndTime},
	}
}

// runError is the test case of a run that could not be made, or stopped
// before every check ran.
func runError(r *report.Report) types.SpecReport {
	var what string
	switch {
	case len(r.Results) == 0:
		what = "the run could not be made"
	case !r.Complete:
		what = "the run stopped before every check ran"
	default:
		what = "the run reported an error"
	}
	at := r.Started.UTC()
	end := at.Add(runTime(time.Duration(r.Duration)))
	return types.SpecReport{
		LeafNodeType:     types.NodeTypeIt,
		LeafNodeText:     "hookcert: " + what,
		LeafNodeLocation: types.CodeLocation{CustomMessage: "hookcert run"},
		State:            types.SpecStateInterrupted,
		StartTime:        at,
		EndTime:          end,
		RunTime:          end.Sub(at),
		NumAttempts:      1,
		Failure: types.Failure{
			Message:          r.Error,
			Location:         types.CodeLocation{CustomMessage: "hookcert run"},
			FailureNodeType:  types.NodeTypeBeforeSuite,
			TimelineLocation: types.TimelineLocation{Time: end},
		},
		CapturedStdOutErr: fmt.Sprintf("%s (exit %d): %s\n", r.Overall, r.ExitCode, r.Error),
	}
}

// Write writes the report as JUnit XML to name, replacing it atomically:
// the per-category files Ginkgo writes and the merged file are made in a
// temporary directory beside name, and the merged file is renamed into
// place.
func Write(r *report.Report, name string) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".junit-")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	defer os.RemoveAll(tmp)
	var parts []string
	for i, s := range Suites(r) {
		part := filepath.Join(tmp, fmt.Sprintf("%02d.xml", i))
		if err := reporters.GenerateJUnitReportWithConfig(s, part, Config); err != nil {
			return fmt.Errorf("junit: writing the %s test suite: %w", s.SuiteDescription, err)
		}
		parts = append(parts, part)
	}
	merged := filepath.Join(tmp, "junit.xml")
	msgs, err := reporters.MergeAndCleanupJUnitReports(parts, merged)
	if err != nil {
		return fmt.Errorf("junit: merging test suites: %w", err)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("junit: merging test suites: %w", errors.New(strings.Join(msgs, "; ")))
	}
	if err := os.Chmod(merged, 0o644); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := os.Rename(merged, name); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	return nil
}

// Package report holds the machine-readable record of a run (report.json,
// described by schemas/report.schema.json) and renders it for people
// (index.html: one self-contained page with inline CSS and SVG). The JSON
// is the source of truth: everything the HTML shows is in it, `hookcert
// report` re-renders the HTML from it, and Merge combines the reports of
// a conformance run and a load run into one. junit.xml is written from the
// same Report too (junit.go, with encoding/xml), so CI sees the same
// checks; this package depends on the standard library and harness only.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/redact"
)

// Exit statuses of a run (README "Exit status").
const (
	exitCompliant    = 0
	exitNotCompliant = 1
	ExitCannotRun    = 2
)

// File names under the report directory.
const (
	JSONFile  = "report.json"
	HTMLFile  = "index.html"
	junitFile = "junit.xml"
)

// Settings are the knobs a run was made with, shown in every report.
type Settings struct {
	AckDeadline   harness.Duration   `json:"ackDeadline"`
	SenderTimeout harness.Duration   `json:"senderTimeout"`
	RetrySchedule []harness.Duration `json:"retrySchedule"`
	// Settle is how long the probe was polled for an expected state,
	// DedupeGap how long IDEM-06 waited; zero in reports of runs without
	// them (load).
	Settle    harness.Duration `json:"settle,omitempty"`
	DedupeGap harness.Duration `json:"dedupeGap,omitempty"`
	// DedupeVolume and DedupeRate are IDEM-06's burst during the gap;
	// zero in reports of runs without it.
	DedupeVolume int    `json:"dedupeVolume,omitempty"`
	DedupeRate   int    `json:"dedupeRate,omitempty"`
	Probe        bool   `json:"probe"`
	Strict       bool   `json:"strict"`
	Insecure     bool   `json:"insecure"`
	Labels       string `json:"labels,omitempty"`
	// Scheme is the signing scheme of the run; empty is REALM v1.
	Scheme    string `json:"scheme,omitempty"`
	Scenarios string `json:"scenarios,omitempty"`
	// HTTPVersion is the HTTP version the sender and the probe were told
	// to speak; empty is harness.HTTPAuto. The versions the deliveries
	// were made in are in their evidence (Exchange.Proto).
	HTTPVersion harness.HTTPVersion `json:"httpVersion,omitempty"`
	// Reference is true when the run targeted the bundled reference
	// receiver; Faults lists the faults planted in it.
	Reference bool     `json:"reference"`
	Faults    []string `json:"faults,omitempty"`
}

// Report is the record of one conformance (or load) run.
type Report struct {
	Suite   string `json:"suite"`
	Version string `json:"version"`
	// Target is the webhook URL (without credentials).
	Target   string           `json:"target"`
	Settings Settings         `json:"settings"`
	Started  time.Time        `json:"started"`
	Duration harness.Duration `json:"duration"`
	Overall  harness.Overall  `json:"overall"`
	// Counts holds the number of checks per verdict.
	Counts map[harness.Verdict]int `json:"counts"`
	// ExitCode is the exit status the run ends with.
	ExitCode int `json:"exitCode"`
	// Error says why the run could not be made (exit 2), or was cut short.
	Error string `json:"error,omitempty"`
	// Complete is false when the run stopped before every selected check
	// ran (an error or Ctrl-C).
	Complete bool `json:"complete"`
	// Notes tell the reader about the run itself, e.g. that checks ran
	// without certificate verification.
	Notes   []string         `json:"notes,omitempty"`
	Results []harness.Result `json:"results"`
	// Load is the measured side of a load run; nil for a conformance run.
	// The LOAD-* verdicts are in Results, category "load".
	Load *Load `json:"load,omitempty"`
}

// Redact hides the credentials a URL carries (user:password@, every query
// value) for reports and messages; anything that is not such a URL is
// returned as is (redact.URL).
func Redact(raw string) string { return redact.URL(raw) }

// New returns an empty report for target, started now.
func New(target string, s Settings) *Report {
	return &Report{
		Suite:    "hookcert",
		Version:  harness.Version,
		Target:   Redact(target),
		Settings: s,
		Started:  time.Now().UTC(),
		Counts:   map[harness.Verdict]int{},
		Results:  []harness.Result{},
	}
}

// Finish records the results and computes the overall verdict and exit
// status (see Conclude): 0 when every MUST passed (PARTIAL and warnings
// included), 1 when any check failed, 2 when the run could not be made
// (err) or did not finish (complete false).
func (r *Report) Finish(results []harness.Result, complete bool, err error) {
	r.Results = results
	r.Complete = complete
	r.Duration = harness.Duration(time.Since(r.Started))
	if err != nil {
		r.Error = err.Error()
	}
	r.Conclude()
}

// errInterrupted is the Error of a run that stopped before every check ran.
const errInterrupted = "the run was interrupted before every check ran"

// Conclude computes Overall, Counts and ExitCode from Results, Complete and
// Error, so that a merged or re-judged report is judged exactly as a fresh
// one. A failed check makes the run NOT COMPLIANT (exit 1) even when the
// run then stopped: what it found stands. Otherwise a run that could not be
// made or did not finish is NOT CERTIFIED (exit 2).
func (r *Report) Conclude() {
	if r.Results == nil {
		r.Results = []harness.Result{}
	}
	if !r.Complete && r.Error == "" {
		r.Error = errInterrupted
	}
	r.Overall, r.Counts = harness.Summarize(r.Results)
	switch {
	case r.Overall == harness.NotCompliant:
		r.ExitCode = exitNotCompliant
	case r.Error != "":
		r.Overall = harness.NotCertified
		r.ExitCode = ExitCannotRun
	default:
		r.ExitCode = exitCompliant
	}
}

// Write writes report.json, index.html and junit.xml into dir, creating
// it, and beside them the bodies that the page's re-send commands read
// (request-ID-N.body). Each file is replaced atomically; callers need not
// write junit.xml themselves. Body files of earlier reports in dir are
// left as they are: the page names only its own.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// Before the page, so that it never names a file not yet there.
	if err := r.writeBodies(dir); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encoding: %w", err)
	}
	if err := writeFile(filepath.Join(dir, JSONFile), append(b, '\n')); err != nil {
		return err
	}
	html, err := r.html()
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, HTMLFile), html); err != nil {
		return err
	}
	junit, err := r.junitXML()
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, junitFile), junit)
}

// writeBodies writes the body files the re-send commands of failing and
// warning checks read.
func (r *Report) writeBodies(dir string) error {
	for _, res := range r.Results {
		for _, rs := range resends(res, r.Settings) {
			if rs.File == "" {
				continue
			}
			if err := writeFile(filepath.Join(dir, rs.File), rs.Body); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFile writes atomically, so an interrupted run never leaves half a
// report behind; a write that fails removes its temporary file, so it
// leaves nothing behind either.
func writeFile(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// Files are the paths of the three reports Write writes into dir.
func Files(dir string) []string {
	return []string{filepath.Join(dir, HTMLFile), filepath.Join(dir, junitFile), filepath.Join(dir, JSONFile)}
}

// ErrNoReport means the report file does not exist: the run never started.
var ErrNoReport = errors.New("no report")

// Read reads a report.json.
func Read(name string) (*Report, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoReport, name)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return decode(name, b)
}

// decode reads the report.json file name holds, b. A command exits with
// its exit status (hookcert status), so one outside 0, 1 and 2 is not a
// report's.
func decode(name string, b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report: %s is not a report.json: %w", name, err)
	}
	if r.Suite == "" || r.Overall == "" {
		return nil, fmt.Errorf("report: %s is not a report.json: it has no suite or overall verdict", name)
	}
	if r.ExitCode < exitCompliant || r.ExitCode > ExitCannotRun {
		return nil, fmt.Errorf("report: %s is not a report.json: its exitCode %d is not 0, 1 or 2", name, r.ExitCode)
	}
	if r.Counts == nil {
		r.Counts = map[harness.Verdict]int{}
	}
	return &r, nil
}

// result returns the result of the check with that ID, or nil.
func (r *Report) result(id string) *harness.Result {
	for i := range r.Results {
		if r.Results[i].ID == id {
			return &r.Results[i]
		}
	}
	return nil
}

package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/report"
)

// Environment variables read by SettingsFromEnv, on top of certify's; the
// Makefile sets them from its variables.
const (
	EnvRate         = "HOOKCERT_RATE"
	EnvDuration     = "HOOKCERT_DURATION"
	EnvMaxRate      = "HOOKCERT_MAX_RATE"
	EnvMaxDuration  = "HOOKCERT_MAX_DURATION"
	EnvForce        = "HOOKCERT_FORCE"
	EnvAttacker     = "HOOKCERT_ATTACKER"
	EnvSampleSize   = "HOOKCERT_SAMPLE_SIZE"
	EnvStepDuration = "HOOKCERT_STEP_DURATION"
)

// Settings are a load run's own knobs, on top of certify.Options (target,
// secret, probe, trust, ack deadline, strictness, report directory).
type Settings struct {
	Rate     int
	Duration time.Duration
	// Attacker names this generator; each of several merged generators
	// needs its own.
	Attacker   string
	Limits     Limits
	SampleSize int
	// StepDuration is how long a capacity search holds each rate.
	StepDuration time.Duration
	// Progress, when set, receives progress lines; Live redraws one line
	// (a terminal).
	Progress io.Writer
	Live     bool
	Verify   VerifyOptions
}

// DefaultSettings returns the defaults of `make load`.
func DefaultSettings() Settings {
	return Settings{
		Rate: DefaultRate, Duration: DefaultDuration, Attacker: DefaultAttacker,
		Limits: DefaultLimits(), SampleSize: DefaultSampleSize, StepDuration: DefaultStepDuration,
	}
}

// attackerName is what an attacker name may be: it names a file.
var attackerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// SettingsFromEnv reads the settings from the environment, starting from
// DefaultSettings. FORCE=1 raises the limits to ForcedLimits; MAX_RATE and
// MAX_DURATION set them explicitly. It only parses: the limits are checked
// by Certify and Capacity. Errors wrap certify.ErrCannotRun.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := DefaultSettings()
	force, err := certify.EnvFlag(getenv, EnvForce, "FORCE")
	if err != nil {
		return s, err
	}
	if force {
		s.Limits = ForcedLimits()
	}
	ints := []struct {
		env, name string
		to        *int
	}{
		{EnvRate, "RATE", &s.Rate}, {EnvMaxRate, "MAX_RATE", &s.Limits.MaxRate}, {EnvSampleSize, "SAMPLE_SIZE", &s.SampleSize},
	}
	for _, i := range ints {
		if v := strings.TrimSpace(getenv(i.env)); v != "" {
			if *i.to, err = strconv.Atoi(strings.TrimSuffix(v, "/s")); err != nil || *i.to < 0 {
				return s, cannotRun("%s=%q is not a whole number such as 50", i.name, v)
			}
		}
	}
	durs := []struct {
		env, name string
		to        *time.Duration
	}{
		{EnvDuration, "DURATION", &s.Duration}, {EnvMaxDuration, "MAX_DURATION", &s.Limits.MaxDuration},
		{EnvStepDuration, "STEP_DURATION", &s.StepDuration},
	}
	for _, d := range durs {
		if v := strings.TrimSpace(getenv(d.env)); v != "" {
			if *d.to, err = time.ParseDuration(v); err != nil || *d.to <= 0 {
				return s, cannotRun("%s=%q is not a positive duration such as 20s or 2m", d.name, v)
			}
		}
	}
	if v := strings.TrimSpace(getenv(EnvAttacker)); v != "" {
		s.Attacker = v
	}
	// Only parsed here: flags may still raise the limits or rename the
	// attacker, so Certify and Capacity check what is finally asked.
	return s, nil
}

// check validates the settings that do not depend on the target.
func (s Settings) check() error {
	if err := checkAttacker(s.Attacker); err != nil {
		return err
	}
	if s.SampleSize < 1 {
		return cannotRun("SAMPLE_SIZE=%d: LOAD-03 needs at least one event to ask the probe about", s.SampleSize)
	}
	if s.Limits.MaxRate <= 0 || s.Limits.MaxDuration <= 0 {
		return cannotRun("MAX_RATE and MAX_DURATION must be positive")
	}
	if err := s.Limits.Check(s.Rate, s.Duration); err != nil {
		return cannotRunErr(err)
	}
	return nil
}

func checkAttacker(name string) error {
	if !attackerName.MatchString(name) {
		return cannotRun("ATTACKER=%q: use letters, digits, '.', '_' and '-' (it names the results file)", name)
	}
	return nil
}

func cannotRun(format string, args ...any) error {
	return fmt.Errorf("%w: %s", certify.ErrCannotRun, fmt.Sprintf(format, args...))
}

// cannotRunErr wraps err in certify.ErrCannotRun, keeping its own chain
// (ErrUnsafe, ErrTargeter) for errors.Is.
func cannotRunErr(err error) error {
	if errors.Is(err, certify.ErrCannotRun) {
		return err
	}
	return fmt.Errorf("%w: %w", certify.ErrCannotRun, err)
}

// ResultsFile is the name of a generator's results file under the report
// directory: vegeta's gob encoding, read by `vegeta report` and `vegeta
// plot`.
func ResultsFile(attacker string) string { return "results-" + attacker + ".gob" }

// Outcome is what a load run gives the report.
type Outcome struct {
	// Results are the verdicts of LOAD-01..04 (or the capacity check).
	Results []harness.Result
	// Load is the report's load section.
	Load *report.Load
	// Complete is false when the run was interrupted.
	Complete bool
}

// generator returns a generator for the session's target with its trust
// settings, sender timeout and ack deadline.
func generator(s *certify.Session, set Settings) (*Generator, error) {
	opts := []Option{
		WithAttacker(set.Attacker),
		WithTLSConfig(s.Sender.TLSConfig()),
		WithTimeout(s.Sender.Timeout()),
		WithAckDeadline(time.Duration(s.Report.Settings.AckDeadline)),
		WithSampleSize(set.SampleSize),
		WithLimits(set.Limits),
	}
	if set.Progress != nil {
		opts = append(opts, WithProgress(set.Progress, set.Live))
	}
	g, err := NewGenerator(s.URL, s.Secret, opts...)
	if err != nil {
		return nil, cannotRunErr(err)
	}
	return g, nil
}

// results opens the results file for streaming; close flushes and closes it.
func results(dir, attacker string) (vegeta.Encoder, func() error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, cannotRun("REPORT_DIR: %v", err)
	}
	f, err := os.Create(filepath.Join(dir, ResultsFile(attacker)))
	if err != nil {
		return nil, nil, cannotRun("the results file: %v", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	closeFn := func() error {
		return errors.Join(w.Flush(), f.Close())
	}
	return vegeta.NewEncoder(w), closeFn, nil
}

// Certify load-tests the session's target: it attacks at set.Rate for
// set.Duration with signed events, streaming the results to
// REPORT_DIR/results-<attacker>.gob, asks the probe (if any) about the
// acknowledged events, and judges LOAD-01..04. An error wraps
// certify.ErrCannotRun: the run could not be made (or its results not
// written); the Outcome is nil only when nothing was sent.
func Certify(ctx context.Context, s *certify.Session, set Settings) (*Outcome, error) {
	if err := set.check(); err != nil {
		return nil, err
	}
	g, err := generator(s, set)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	enc, closeResults, err := results(s.ReportDir, set.Attacker)
	if err != nil {
		return nil, err
	}
	run, err := g.Attack(ctx, set.Rate, set.Duration, enc)
	if cerr := closeResults(); err == nil && cerr != nil {
		err = fmt.Errorf("load: writing the results: %w", cerr)
	}
	if run == nil {
		return nil, cannotRunErr(err)
	}
	out := judge(ctx, s, set, run)
	if err != nil {
		return out, cannotRunErr(err)
	}
	return out, nil
}

// judge asks the probe about the run's events and judges LOAD-01..04.
func judge(ctx context.Context, s *certify.Session, set Settings, run *Run) *Outcome {
	l := run.Load()
	l.ResultsFiles = []string{ResultsFile(set.Attacker)}
	var v *Verification
	if s.Probe != nil && !run.Interrupted && run.AcknowledgedTotal > 0 {
		vv := Verify(ctx, s.Probe, run.Acknowledged, run.Sampled(), set.Verify)
		v, l.Processed = &vv, &vv.Processed
	} else if s.Probe != nil && !run.Interrupted {
		l.Processed = &report.Processed{}
	}
	// Interrupted during the attack or while the probe was asked.
	interrupted := run.Interrupted || ctx.Err() != nil
	results := Evaluate(l, s.Report.Settings.Strict)
	elapsed := time.Since(run.Began)
	for i := range results {
		r := &results[i]
		r.Start, r.Duration = run.Began, elapsed
		if r.ID != Load03 {
			continue
		}
		switch {
		case interrupted:
			r.Verdict, r.Reason, r.Observed, r.Notes = harness.Skip, "the run was interrupted before the probe had answered", "", nil
			l.Processed = nil
		case v != nil:
			r.Evidence = v.Evidence
			if v.Err != nil {
				r.Notes = append(r.Notes, "the probe failed: "+v.Err.Error())
			}
		}
	}
	return &Outcome{Results: results, Load: l, Complete: !interrupted}
}

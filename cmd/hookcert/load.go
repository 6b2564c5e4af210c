package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/suites/junit"
)

// runLoad load-tests a receiver (LOAD-01..04), as `make load` does through
// the Ginkgo suite; it is what each generator of a distributed run calls.
func runLoad(ctx context.Context, e env, args []string) error {
	return loadCommand(ctx, e, args, "load", func(ctx context.Context, s *certify.Session, set load.Settings) (*load.Outcome, error) {
		return load.Certify(ctx, s, set)
	})
}

// runCapacity searches for the highest rate a receiver acknowledges within
// the deadline.
func runCapacity(ctx context.Context, e env, args []string) error {
	return loadCommand(ctx, e, args, "capacity", func(ctx context.Context, s *certify.Session, set load.Settings) (*load.Outcome, error) {
		return load.Capacity(ctx, s, set, load.SearchFrom(set))
	})
}

// loadCommand parses the flags common to load and capacity (their defaults
// come from the same HOOKCERT_* variables as the suites'), prepares the
// run, calls do, writes report.json, index.html and junit.xml, and exits
// with the run's status.
func loadCommand(ctx context.Context, e env, args []string, name string, do func(context.Context, *certify.Session, load.Settings) (*load.Outcome, error)) error {
	// Bad settings in the environment are reported once the flags are
	// read (--report-dir says where the report goes).
	opts, envErr := certify.OptionsFromEnv(e.getenv)
	set := load.DefaultSettings()
	if envErr == nil {
		set, envErr = load.SettingsFromEnv(e.getenv)
	}
	if opts.ReportDir == "" {
		opts.ReportDir = "reports"
	}
	if opts.AckDeadline <= 0 {
		opts.AckDeadline = harness.DefaultAckDeadline
	}
	fs := newFlags(e, name, "[--url URL] [--rate N] [--duration D] [flags]")
	fs.StringVar(&opts.URL, "url", opts.URL, "webhook URL (default: the bundled reference receiver)")
	secret := fs.String("secret", "", "signing secret (default $"+harness.SecretEnv+")")
	fs.StringVar(&opts.ProbeURL, "probe-url", opts.ProbeURL, "base URL of the receiver's probe (LOAD-03)")
	probeToken := fs.String("probe-token", "", "bearer token for the probe (default $"+certify.EnvProbeToken+")")
	fs.DurationVar(&opts.AckDeadline, "ack-deadline", opts.AckDeadline, "what p99 must stay within")
	fs.StringVar(&opts.ReportDir, "report-dir", opts.ReportDir, "where the reports and the raw results go")
	fs.BoolVar(&opts.Strict, "strict", opts.Strict, "a broken SHOULD (LOAD-03) fails the run")
	fs.BoolVar(&opts.Insecure, "insecure", opts.Insecure, "skip verification of the receiver's certificate")
	fs.StringVar(&opts.CACert, "ca-cert", opts.CACert, "PEM file of a CA to trust")
	var faults faultList
	fs.Var(&faults, "fault", "plant a known bug in the reference receiver (repeatable; no --url only)")
	rateHelp := "deliveries per second"
	if name == "capacity" {
		rateHelp = "the first rate tried, doubled while it holds"
		fs.DurationVar(&set.StepDuration, "step-duration", set.StepDuration, "how long each rate is held")
	} else {
		fs.DurationVar(&set.Duration, "duration", set.Duration, "how long to attack")
	}
	fs.IntVar(&set.Rate, "rate", set.Rate, rateHelp)
	fs.StringVar(&set.Attacker, "attacker", set.Attacker, "this generator's name (one per generator whose results are merged)")
	fs.IntVar(&set.SampleSize, "sample-size", set.SampleSize, "acknowledged events asked of the probe at most (a uniform sample)")
	force := fs.Bool("force", false, fmt.Sprintf("lift the safety limits to %d/s and %s", load.ForcedMaxRate, load.ForcedMaxDuration))
	maxRate := fs.Int("max-rate", set.Limits.MaxRate, "safety limit on the rate")
	maxDuration := fs.Duration("max-duration", set.Limits.MaxDuration, "safety limit on the duration (of the whole search for capacity)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", name, pos[0])
	}
	if *secret != "" {
		opts.Secret = harness.Secret(*secret)
	}
	if *probeToken != "" {
		opts.ProbeToken = harness.Secret(*probeToken)
	}
	if len(faults) > 0 {
		opts.Faults = faults
	}
	if *force {
		set.Limits = load.ForcedLimits()
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "max-rate":
			set.Limits.MaxRate = *maxRate
		case "max-duration":
			set.Limits.MaxDuration = *maxDuration
		}
	})
	if envErr != nil {
		fmt.Fprintf(e.stderr, "hookcert: %v\n", envErr)
		return finishLoad(e, name, certify.Placeholder(opts), nil, envErr)
	}
	set.Progress = e.stderr
	if f, ok := e.stderr.(*os.File); ok {
		set.Live = load.IsTerminal(f)
	}

	s, err := certify.Prepare(ctx, opts)
	defer s.Close()
	var out *load.Outcome
	if err == nil {
		fmt.Fprintf(e.stderr, "%s: attacking %s\n", name, s.Report.Target)
		out, err = do(ctx, s, set)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "hookcert: %v\n", err)
	}
	return finishLoad(e, name, s, out, err)
}

// finishLoad writes report.json, index.html and junit.xml for a load or
// capacity run, prints the summary, and returns the run's exit status.
func finishLoad(e env, name string, s *certify.Session, out *load.Outcome, err error) error {
	var results []harness.Result
	complete := false
	if out != nil {
		s.Report.Load = out.Load
		results, complete = out.Results, out.Complete
	}
	if werr := s.Finish(results, complete, err); werr != nil {
		return fmt.Errorf("%s: writing the report: %w", name, werr)
	}
	junitFile := filepath.Join(s.ReportDir, report.JUnitFile)
	if werr := junit.Write(s.Report, junitFile); werr != nil {
		return fmt.Errorf("%s: writing the report: %w", name, werr)
	}
	fmt.Fprint(e.stdout, s.Report.Summary())
	if out != nil {
		fmt.Fprintln(e.stdout, load.Headline(out.Load))
	}
	files := []string{filepath.Join(s.ReportDir, report.HTMLFile), junitFile, filepath.Join(s.ReportDir, report.JSONFile)}
	if out != nil {
		for _, f := range out.Load.ResultsFiles {
			files = append(files, filepath.Join(s.ReportDir, f))
		}
	}
	fmt.Fprintf(e.stdout, "reports: %s\n", strings.Join(files, ", "))
	return exitStatus(s.Report.ExitCode)
}

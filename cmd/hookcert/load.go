package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/signing"
)

// runLoad load-tests a receiver (LOAD-01..04), as `make load` does through
// the Ginkgo suite; it is what each generator of a distributed run calls.
func runLoad(ctx context.Context, e env, args []string) error {
	return loadCommand(ctx, e, args, "load", (*certify.Session).Load)
}

// runCapacity searches for the highest rate a receiver acknowledges within
// the deadline.
func runCapacity(ctx context.Context, e env, args []string) error {
	return loadCommand(ctx, e, args, "capacity", (*certify.Session).Capacity)
}

// loadFlags names each setting a load command takes by its flag.
var loadFlags = map[certify.Setting]string{
	certify.SetURL: "url", certify.SetSecret: "secret", certify.SetProbeURL: "probe-url",
	certify.SetProbeToken: "probe-token", certify.SetAckDeadline: "ack-deadline", certify.SetReportDir: "report-dir",
	certify.SetStrict: "strict", certify.SetInsecure: "insecure", certify.SetCACert: "ca-cert", certify.SetFaults: "fault",
	certify.SetStepDuration: "step-duration", certify.SetDuration: "duration", certify.SetRate: "rate",
	certify.SetAttacker: "attacker", certify.SetSampleSize: "sample-size", certify.SetForce: "force",
	certify.SetMaxRate: "max-rate", certify.SetMaxDuration: "max-duration", certify.SetScheme: "scheme",
	certify.SetRetries: "retries", certify.SetHTTPVersion: "http-version",
}

// loadCommand parses the flags common to load and capacity (their defaults
// come from the same HOOKCERT_* variables as the suites'), prepares the
// run, calls do, writes report.json, index.html and junit.xml, and exits
// with the run's status.
func loadCommand(ctx context.Context, e env, args []string, name string, do func(*certify.Session, context.Context) (*load.Outcome, error)) error {
	// Bad settings in the environment are reported once the flags are
	// read (--report-dir says where the report goes).
	set, envErr := certify.FromEnv(e.getenv)
	if set.ReportDir == "" {
		set.ReportDir = "reports"
	}
	if set.Timing.AckDeadline <= 0 {
		set.Timing.AckDeadline = harness.DefaultTiming().AckDeadline
	}
	usage := "[--url URL] [--rate N] [--duration D] [flags]"
	if name == "capacity" {
		usage = "[--url URL] [--rate N] [--step-duration D] [flags]"
	}
	fs := newFlags(e, name, usage)
	fs.StringVar(&set.URL, "url", set.URL, "webhook URL (default: the bundled reference receiver)")
	secret := fs.String("secret", "", "signing secret (default $"+harness.SecretEnv+")")
	fs.StringVar(&set.ProbeURL, "probe-url", set.ProbeURL, "base URL of the receiver's probe (LOAD-03)")
	probeToken := fs.String("probe-token", "", "bearer token for the probe (default $"+certify.Env(certify.SetProbeToken)+")")
	fs.DurationVar(&set.Timing.AckDeadline, "ack-deadline", set.Timing.AckDeadline, "what p99 must stay within")
	fs.StringVar(&set.ReportDir, "report-dir", set.ReportDir, "where the reports and the raw results go")
	fs.BoolVar(&set.Strict, "strict", set.Strict, "a broken SHOULD (LOAD-03) fails the run")
	fs.BoolVar(&set.Insecure, "insecure", set.Insecure, "skip verification of the receiver's certificate")
	fs.StringVar(&set.CACert, "ca-cert", set.CACert, "PEM file of a CA to trust")
	httpVersion := fs.String("http-version", set.HTTPVersion.String(), "HTTP the deliveries speak: auto (what the receiver offers over TLS, HTTP/1.1 over http://), 1.1 or 2 (h2c over http://)")
	fs.StringVar(&set.Scheme, "scheme", set.Scheme, "signing scheme: "+strings.Join(signing.BuiltinSchemes(), ", ")+", or a scheme file (default realm-v1)")
	var faults faultList
	fs.Var(&faults, "fault", "plant a known bug in the reference receiver (repeatable; no --url only)")
	l := &set.Load
	rateHelp := "deliveries per second"
	if name == "capacity" {
		rateHelp = "the first rate tried, doubled while it holds"
		fs.DurationVar(&l.StepDuration, "step-duration", l.StepDuration, "how long each rate is held")
	} else {
		fs.DurationVar(&l.Duration, "duration", l.Duration, "how long to attack")
	}
	fs.IntVar(&l.Rate, "rate", l.Rate, rateHelp)
	fs.StringVar(&l.Attacker, "attacker", l.Attacker, "this generator's name (one per generator whose results are merged)")
	if l.Retries == certify.AllRetries {
		// One per wait of the schedule, as the flag's default says.
		l.Retries = len(harness.DefaultTiming().RetrySchedule)
		if len(set.Timing.RetrySchedule) > 0 {
			l.Retries = len(set.Timing.RetrySchedule)
		}
	}
	fs.IntVar(&l.Retries, "retries", l.Retries, "retries of a delivery not acknowledged, on the retry schedule, its last wait repeated past its end (0: none; the default is one per wait)")
	fs.IntVar(&l.SampleSize, "sample-size", l.SampleSize, "acknowledged events asked of the probe at most (a uniform sample)")
	force := fs.Bool("force", false, fmt.Sprintf("lift the safety limits to %d/s and %s", load.ForcedMaxRate, load.ForcedMaxDuration))
	maxRate := fs.Int("max-rate", l.Limits.MaxRate, "safety limit on the rate")
	maxDuration := fs.Duration("max-duration", l.Limits.MaxDuration, "safety limit on the duration (of the whole search for capacity)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", name, pos[0])
	}
	if l.Retries < 0 {
		return usagef("%s: --retries %d: give 0 (no retries) up to %d", name, l.Retries, certify.MaxRetries)
	}
	if set.HTTPVersion, err = harness.ParseHTTPVersion(*httpVersion); err != nil {
		return usagef("%s: --http-version: %v", name, err)
	}
	if *secret != "" {
		set.Secret = harness.Secret(*secret)
	}
	if *probeToken != "" {
		set.ProbeToken = harness.Secret(*probeToken)
	}
	if len(faults) > 0 {
		set.Faults = faults
	}
	if *force {
		l.Limits = load.ForcedLimits()
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		given[f.Name] = true
		switch f.Name {
		case "max-rate":
			l.Limits.MaxRate = *maxRate
		case "max-duration":
			l.Limits.MaxDuration = *maxDuration
		}
	})
	// Errors name a setting by its flag, but when make runs the command
	// (make capacity: it always passes the report directory through the
	// environment) and the flag was not given, by its make variable.
	byMake := e.getenv(certify.Env(certify.SetReportDir)) != ""
	set.Names = func(s certify.Setting) string {
		if f, ok := loadFlags[s]; ok && (given[f] || !byMake) {
			return "--" + f
		}
		return certify.MakeNames(s)
	}
	if envErr != nil {
		fmt.Fprintf(e.stderr, "hookcert: %v\n", envErr)
		return finishLoad(e, certify.Placeholder(set), nil, envErr)
	}
	l.Progress = e.stderr
	if f, ok := e.stderr.(*os.File); ok {
		l.Live = load.IsTerminal(f)
	}

	if e.getenv("GOGC") == "" {
		// The attack's garbage is short-lived and its live heap small: a
		// heap goal four times the live heap (about 15 MB) halves the
		// process's CPU spent collecting, measured against the vegeta
		// CLI (make loadcost). GOGC set by the user wins.
		debug.SetGCPercent(400)
	}
	s, err := certify.Prepare(ctx, set)
	defer s.Close()
	var out *load.Outcome
	if err == nil {
		fmt.Fprintf(e.stderr, "%s: attacking %s\n", name, s.Report.Target)
		out, err = do(s, ctx)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "hookcert: %v\n", err)
	}
	return finishLoad(e, s, out, err)
}

// finishLoad writes report.json, index.html and junit.xml for a load or
// capacity run, prints the summary, and returns the run's exit status.
func finishLoad(e env, s *certify.Session, out *load.Outcome, err error) error {
	var results []harness.Result
	complete := false
	if out != nil {
		s.Report.Load = out.Load
		results, complete = out.Results, out.Complete
	}
	if werr := s.Finish(results, complete, err); werr != nil {
		return fmt.Errorf("writing the report: %w", werr)
	}
	fmt.Fprint(e.stdout, s.Report.Summary())
	if out != nil {
		fmt.Fprintln(e.stdout, load.Headline(out.Load))
	}
	files := []string{filepath.Join(s.ReportDir, report.HTMLFile), filepath.Join(s.ReportDir, report.JUnitFile), filepath.Join(s.ReportDir, report.JSONFile)}
	if out != nil {
		for _, f := range out.Load.ResultsFiles {
			files = append(files, filepath.Join(s.ReportDir, f))
		}
	}
	fmt.Fprintf(e.stdout, "reports: %s\n", strings.Join(files, ", "))
	return exitStatus(s.Report.ExitCode)
}

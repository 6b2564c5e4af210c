package certify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Command is a set of the commands that take a setting.
type Command uint8

// The commands of a run. CmdCertify runs a conformance run and a load run,
// so it takes the settings of both.
const (
	CmdConformance Command = 1 << iota
	CmdLoad
	CmdCapacity

	CmdCertify = CmdConformance | CmdLoad
	allRuns    = CmdConformance | CmdLoad | CmdCapacity
)

// Kind says how a setting is written and read.
type Kind uint8

// Kinds of settings.
const (
	// text is any value.
	text Kind = iota
	// Bool is a yes or no: a flag without a value, 1 in make.
	Bool
	// Secret is never shown, echoed or defaulted; its flag is a fallback
	// for the environment variable.
	Secret
	// path is a file or directory, made absolute by make.
	path
	// nameOrPath is a built-in name or a file, made absolute by make when
	// the file exists (SCHEME).
	nameOrPath
	// List is comma-separated; its flag may be repeated.
	List
)

// Option is one row of the settings table: one thing the user can tell
// a run, with every name it goes by. The Makefile's variables
// (makeFragment), the environment (FromEnv), the CLI's flags and their
// help, the error messages that name a setting and the report's settings
// block all come from the table, so a setting is added in one place.
type Option struct {
	// Setting is its name, which is also its make variable.
	Setting Setting
	// Flag is the CLI flag, without dashes.
	Flag string
	// Env is the environment variable it is read from.
	Env string
	// Commands are the commands that take it.
	Commands Command
	Kind     Kind
	// Help is one line for --help and the Makefile.
	Help string
	// Make says whether the Makefile takes it as a variable.
	Make bool
	// Recorded says whether the report's settings block records it.
	Recorded bool

	// parse reads a value as the user writes it into s; its error says
	// what is wrong and what to write, and the caller names the setting.
	parse func(s *Settings, v string) error
	// show writes s's value as the user would; "" is "none". Defaults
	// are shown from Defaults() through it, so a default is computed in
	// one place.
	show func(s *Settings) string
	// record writes the value into the report's settings block.
	record func(s *Settings, r *report.Settings)
	// noDefault says in words what an empty value means, when show
	// cannot: "the bundled reference receiver".
	noDefault string
}

// Parse reads v, as the user wrote it, into s. The error says what is
// wrong with v; it does not name the setting (the caller does, in the
// user's words).
func (o Option) Parse(s *Settings, v string) error { return o.parse(s, v) }

// Default is the default as the user would write it, or, when a default
// cannot be written as a value, what leaving it empty means; "" when it
// has none.
func (o Option) Default() string {
	if o.Kind == Secret {
		return o.noDefault
	}
	d := Defaults()
	if v := o.show(&d); v != "" {
		return v
	}
	return o.noDefault
}

// value shows s's value of the setting as the user would write it; a
// secret is shown as harness.Redacted when set.
func (o Option) value(s *Settings) string {
	v := o.show(s)
	if o.Kind == Secret && v != "" {
		return harness.Redacted
	}
	return v
}

// Takes reports whether command c takes the setting.
func (o Option) Takes(c Command) bool { return o.Commands&c != 0 }

// defaultReportDir is where the reports go when REPORT_DIR is not given.
const defaultReportDir = "reports"

// Exit policies of FAIL_ON.
const (
	// failOnNotCompliant exits 1 when the receiver is not compliant, 2
	// when the run could not be made.
	failOnNotCompliant = "not-compliant"
	// FailOnCannotRun exits 0 unless the run could not be made (2): a
	// generator of a distributed load whose verdict only the merge
	// gives.
	FailOnCannotRun = "cannot-run"
)

// Defaults returns the settings a run has when nothing is given: the
// bundled reference receiver, REALM's timing, `make load`'s load.
func Defaults() Settings {
	return Settings{
		Timing:    harness.DefaultTiming(),
		ReportDir: defaultReportDir,
		Load:      defaultLoadSettings(),
		FailOn:    failOnNotCompliant,

		DedupeVolume: engine.DefaultVolume,
		DedupeRate:   engine.DefaultVolumeRate,
	}
}

// Options returns the settings table, in the order help shows it.
func Options() []Option { return slices.Clone(options) }

// options is the settings table.
var options = withEnv([]Option{
	{Setting: setURL, Flag: "url", Commands: allRuns, Make: true, Recorded: true,
		Help:      "the receiver's webhook URL, https:// or http://",
		noDefault: "the bundled reference receiver",
		parse:     func(s *Settings, v string) error { s.URL = strings.TrimSpace(v); return nil },
		show:      func(s *Settings) string { return report.Redact(s.URL) },
		record:    func(s *Settings, r *report.Settings) { r.Reference = s.URL == "" }},
	{Setting: setSecret, Flag: "secret", Env: harness.SecretEnv, Kind: Secret, Commands: allRuns, Make: true,
		Help:  "the signing secret, used as it is; prefer the environment variable " + harness.SecretEnv + ", so that it never shows in a log",
		parse: func(s *Settings, v string) error { s.Secret = harness.Secret(v); return nil },
		show:  func(s *Settings) string { return s.Secret.Reveal() }},
	{Setting: setProbeURL, Flag: "probe-url", Commands: allRuns, Make: true, Recorded: true,
		Help:      "base URL of the receiver's test probe (README \"The probe contract\"); without it the checks that need it are judged on status codes only",
		noDefault: "none; the reference receiver's own probe when no URL",
		parse:     func(s *Settings, v string) error { s.ProbeURL = strings.TrimSpace(v); return nil },
		show:      func(s *Settings) string { return report.Redact(s.ProbeURL) },
		record:    func(s *Settings, r *report.Settings) { r.Probe = s.ProbeURL != "" }},
	{Setting: setProbeToken, Flag: "probe-token", Kind: Secret, Commands: allRuns, Make: true,
		Help:  "sent to the probe as Authorization: Bearer <token>; prefer the environment variable",
		parse: func(s *Settings, v string) error { s.ProbeToken = harness.Secret(v); return nil },
		show:  func(s *Settings) string { return s.ProbeToken.Reveal() }},
	{Setting: setLabels, Flag: "labels", Commands: CmdConformance, Make: true, Recorded: true,
		Help:      "a label filter selecting checks: categories, levels (must, should, info), probe, or check IDs, e.g. 'signature || idempotency', 'must && !probe', SIG-03",
		noDefault: "every check",
		parse:     func(s *Settings, v string) error { s.Labels = v; return nil },
		show:      func(s *Settings) string { return s.Labels },
		record:    func(s *Settings, r *report.Settings) { r.Labels = s.Labels }},
	{Setting: setScheme, Flag: "scheme", Kind: nameOrPath, Commands: allRuns, Make: true, Recorded: true,
		Help:      "the signing scheme the receiver verifies: " + strings.Join(signing.BuiltinSchemes(), ", ") + ", or a scheme file",
		noDefault: signing.DefaultScheme,
		parse:     func(s *Settings, v string) error { s.Scheme = strings.TrimSpace(v); return nil },
		show:      func(s *Settings) string { return s.Scheme },
		record:    func(s *Settings, r *report.Settings) { r.Scheme = s.Scheme }},
	boolOption(setStrict, "strict", allRuns, "broken SHOULDs fail the run instead of warning",
		func(s *Settings) *bool { return &s.Strict }, func(s *Settings, r *report.Settings) { r.Strict = s.Strict }),
	boolOption(setInsecure, "insecure", allRuns, "skip verification of the receiver's certificate (TLS-02 then warns)",
		func(s *Settings) *bool { return &s.Insecure }, func(s *Settings, r *report.Settings) { r.Insecure = s.Insecure }),
	{Setting: setCACert, Flag: "ca-cert", Kind: path, Commands: allRuns, Make: true,
		Help:      "a PEM file of a CA to trust, for a staging certificate from a private CA",
		noDefault: "the system's roots",
		parse:     func(s *Settings, v string) error { s.CACert = strings.TrimSpace(v); return nil },
		show:      func(s *Settings) string { return s.CACert }},
	{Setting: setHTTPVersion, Flag: "http-version", Commands: allRuns, Make: true, Recorded: true,
		Help: "the HTTP the sender, the load and the probe speak: auto (HTTP/2 or HTTP/1.1 as the receiver chooses over TLS), 1.1, or 2 (h2c over http://)",
		parse: func(s *Settings, v string) (err error) {
			s.HTTPVersion, err = harness.ParseHTTPVersion(v)
			return err
		},
		show:   func(s *Settings) string { return s.HTTPVersion.String() },
		record: func(s *Settings, r *report.Settings) { r.HTTPVersion = s.HTTPVersion }},
	durationOption(setAckDeadline, "ack-deadline", allRuns, "what every acknowledgement must meet (for load, the p99 of first attempts)",
		func(s *Settings) *time.Duration { return &s.Timing.AckDeadline },
		func(s *Settings, r *report.Settings) { r.AckDeadline = harness.Duration(s.Timing.AckDeadline) }),
	durationOption(SetSenderTimeout, "sender-timeout", allRuns, "how long the sender waits for an answer before it abandons an attempt",
		func(s *Settings) *time.Duration { return &s.Timing.SenderTimeout },
		func(s *Settings, r *report.Settings) { r.SenderTimeout = harness.Duration(s.Timing.SenderTimeout) }),
	{Setting: SetRetrySchedule, Flag: "retry-schedule", Commands: allRuns, Make: true, Recorded: true,
		Help:  "the waits before attempts 2, 3, 4, ...",
		parse: parseSchedule,
		show: func(s *Settings) string {
			parts := make([]string, len(s.Timing.RetrySchedule))
			for i, d := range s.Timing.RetrySchedule {
				parts[i] = showDuration(d)
			}
			return strings.Join(parts, ",")
		},
		record: func(s *Settings, r *report.Settings) {
			r.RetrySchedule = nil
			for _, d := range s.Timing.RetrySchedule {
				r.RetrySchedule = append(r.RetrySchedule, harness.Duration(d))
			}
		}},
	durationOption(SetSettle, "settle", allRuns, "how long the probe is polled for an expected state; raise it for a receiver whose worker is slower",
		func(s *Settings) *time.Duration { return &s.Timing.Settle },
		func(s *Settings, r *report.Settings) { r.Settle = harness.Duration(s.Timing.Settle) }),
	durationOption(SetDedupeGap, "dedupe-gap", CmdConformance, "how long IDEM-06 waits before it redelivers an event: a dedupe record must outlive it",
		func(s *Settings) *time.Duration { return &s.Timing.DedupeGap },
		func(s *Settings, r *report.Settings) { r.DedupeGap = harness.Duration(s.Timing.DedupeGap) }),
	{Setting: setDedupeVolume, Flag: "dedupe-volume", Commands: CmdConformance, Make: true, Recorded: true,
		Help:   "how many fresh events of every type IDEM-06 delivers in bursts during its dedupe gap, as many as the gap holds at DEDUPE_RATE (0: none)",
		parse:  intParse(func(s *Settings) *int { return &s.DedupeVolume }),
		show:   func(s *Settings) string { return strconv.Itoa(s.DedupeVolume) },
		record: func(s *Settings, r *report.Settings) { r.DedupeVolume = s.DedupeVolume }},
	{Setting: setDedupeRate, Flag: "dedupe-rate", Commands: CmdConformance, Make: true, Recorded: true,
		Help: fmt.Sprintf("the most events a second IDEM-06's burst delivers, %d at a time", engine.BurstInFlight),
		parse: func(s *Settings, v string) error {
			if err := intParse(func(s *Settings) *int { return &s.DedupeRate })(s, v); err != nil {
				return err
			}
			if s.DedupeRate == 0 {
				return fmt.Errorf("%q: give a rate above 0 (DEDUPE_VOLUME=0 turns the burst off)", v)
			}
			return nil
		},
		show:   func(s *Settings) string { return strconv.Itoa(s.DedupeRate) },
		record: func(s *Settings, r *report.Settings) { r.DedupeRate = s.DedupeRate }},
	{Setting: setScenarios, Flag: "scenarios", Kind: path, Commands: CmdConformance, Make: true, Recorded: true,
		Help:      "a directory of your own scenario files, added to the catalogue (a file with a built-in ID replaces that check)",
		noDefault: "none",
		parse:     func(s *Settings, v string) error { s.Scenarios = strings.TrimSpace(v); return nil },
		show:      func(s *Settings) string { return s.Scenarios },
		record:    func(s *Settings, r *report.Settings) { r.Scenarios = s.Scenarios }},
	{Setting: SetReportDir, Flag: "report-dir", Kind: path, Commands: allRuns, Make: true,
		Help: "where index.html, junit.xml and report.json go (and a load's raw results)",
		parse: func(s *Settings, v string) error {
			if s.ReportDir = strings.TrimSpace(v); s.ReportDir == "" {
				return fmt.Errorf("is empty: name the directory the reports go to")
			}
			return nil
		},
		show: func(s *Settings) string { return s.ReportDir }},
	{Setting: setFaults, Flag: "fault", Kind: List, Commands: allRuns, Make: true, Recorded: true,
		Help:      "faults to plant in the bundled reference receiver (no URL only), comma-separated or the flag repeated; hookcert receiver -h lists them",
		noDefault: "none",
		parse: func(s *Settings, v string) error {
			var faults []receiver.Fault
			for _, name := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
				f, err := receiver.ParseFault(name)
				if err != nil {
					return err
				}
				faults = append(faults, f)
			}
			s.Faults = faults
			return nil
		},
		show: func(s *Settings) string {
			names := make([]string, len(s.Faults))
			for i, f := range s.Faults {
				names[i] = string(f)
			}
			return strings.Join(names, ",")
		},
		record: func(s *Settings, r *report.Settings) {
			r.Faults = nil
			for _, f := range s.Faults {
				r.Faults = append(r.Faults, string(f))
			}
		}},
	{Setting: setPlainHTTP, Flag: "plain-http", Kind: Bool, Commands: allRuns,
		Help:  "serve the bundled reference receiver over http:// instead of HTTPS (no URL only)",
		parse: func(s *Settings, v string) (err error) { s.PlainHTTP, err = parseFlag(v); return err },
		show:  func(s *Settings) string { return showBool(s.PlainHTTP) }},
	intOption(setRate, "rate", CmdLoad|CmdCapacity, "new events per second; for capacity, the first rate tried",
		func(s *Settings) *int { return &s.Load.Rate }),
	durationOption(SetDuration, "duration", CmdLoad, "how long the load sends new events",
		func(s *Settings) *time.Duration { return &s.Load.Duration }, nil),
	{Setting: setRetries, Flag: "retries", Commands: CmdLoad | CmdCapacity, Make: true,
		Help:      fmt.Sprintf("retries of a load delivery not acknowledged, on the retry schedule, its last wait repeated past its end: 0 (none) to %d", maxRetries),
		noDefault: "one per wait of the retry schedule",
		parse: func(s *Settings, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 || n > maxRetries {
				return fmt.Errorf("%q is not a number of retries from 0 (none) to %d", strings.TrimSpace(v), maxRetries)
			}
			s.Load.Retries = n
			return nil
		},
		show: func(s *Settings) string {
			if s.Load.Retries == allRetries {
				return ""
			}
			return strconv.Itoa(s.Load.Retries)
		}},
	{Setting: setForce, Flag: "force", Kind: Bool, Commands: CmdLoad | CmdCapacity, Make: true,
		Help: fmt.Sprintf("lift the safety limits to %d/s and %s", load.ForcedMaxRate, showDuration(load.ForcedMaxDuration)),
		parse: func(s *Settings, v string) error {
			on, err := parseFlag(v)
			if on {
				s.Load.Limits = load.ForcedLimits()
			}
			return err
		},
		show: func(s *Settings) string { return showBool(s.Load.Limits == load.ForcedLimits()) }},
	intOption(setMaxRate, "max-rate", CmdLoad|CmdCapacity, "safety limit on the rate of deliveries, retries included (and the top of a capacity search)",
		func(s *Settings) *int { return &s.Load.Limits.MaxRate }),
	durationOption(setMaxDuration, "max-duration", CmdLoad|CmdCapacity, "safety limit on the duration (of a whole capacity search)",
		func(s *Settings) *time.Duration { return &s.Load.Limits.MaxDuration }, nil),
	{Setting: setAttacker, Flag: "attacker", Commands: CmdLoad | CmdCapacity, Make: true,
		Help: "this generator's name, one per generator whose results are merged; its raw results go to results-NAME.gob",
		parse: func(s *Settings, v string) error {
			if v = strings.TrimSpace(v); !attackerName.MatchString(v) {
				return fmt.Errorf("%q: use letters, digits, '.', '_' and '-' (it names the results file)", v)
			}
			s.Load.Attacker = v
			return nil
		},
		show: func(s *Settings) string { return s.Load.Attacker }},
	intOption(setSampleSize, "sample-size", CmdLoad, "acknowledged events asked of the probe at most (a uniform sample; LOAD-03)",
		func(s *Settings) *int { return &s.Load.SampleSize }),
	durationOption(setStepDuration, "step-duration", CmdCapacity, "how long a capacity search holds each rate",
		func(s *Settings) *time.Duration { return &s.Load.StepDuration }, nil),
	{Setting: setFailOn, Flag: "fail-on", Commands: allRuns,
		Help: "when the command exits non-zero: " + failOnNotCompliant + " (1 when not compliant, 2 when the run could not be made) or " +
			FailOnCannotRun + " (0 unless the run could not be made: a generator whose verdict the merge gives)",
		parse: func(s *Settings, v string) error {
			switch v = strings.TrimSpace(v); v {
			case failOnNotCompliant, FailOnCannotRun:
				s.FailOn = v
				return nil
			}
			return fmt.Errorf("%q: write %s or %s", v, failOnNotCompliant, FailOnCannotRun)
		},
		show: func(s *Settings) string { return s.FailOn }},
})

// withEnv names each row's environment variable that names none:
// HOOKCERT_ and the setting.
func withEnv(opts []Option) []Option {
	for i := range opts {
		if opts[i].Env == "" {
			opts[i].Env = Env(opts[i].Setting)
		}
	}
	return opts
}

// Lookup returns the row of setting set.
func Lookup(set Setting) (Option, bool) {
	opts := Options()
	i := slices.IndexFunc(opts, func(o Option) bool { return o.Setting == set })
	if i < 0 {
		return Option{}, false
	}
	return opts[i], true
}

func boolOption(set Setting, flag string, cmds Command, help string, p func(*Settings) *bool, rec func(*Settings, *report.Settings)) Option {
	return Option{Setting: set, Flag: flag, Kind: Bool, Commands: cmds, Help: help, Make: true, Recorded: rec != nil,
		parse:  func(s *Settings, v string) (err error) { *p(s), err = parseFlag(v); return err },
		show:   func(s *Settings) string { return showBool(*p(s)) },
		record: rec}
}

func durationOption(set Setting, flag string, cmds Command, help string, p func(*Settings) *time.Duration, rec func(*Settings, *report.Settings)) Option {
	return Option{Setting: set, Flag: flag, Commands: cmds, Help: help, Make: true, Recorded: rec != nil,
		parse: func(s *Settings, v string) error {
			v = strings.TrimSpace(v)
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%q is not a positive duration such as 1s or 800ms", v)
			}
			*p(s) = d
			return nil
		},
		show:   func(s *Settings) string { return showDuration(*p(s)) },
		record: rec}
}

func intOption(set Setting, flag string, cmds Command, help string, p func(*Settings) *int) Option {
	return Option{Setting: set, Flag: flag, Commands: cmds, Help: help, Make: true,
		parse: intParse(p),
		show:  func(s *Settings) string { return strconv.Itoa(*p(s)) }}
}

// intParse reads a whole number of at least zero into *p(s); a rate may
// be written 50/s.
func intParse(p func(*Settings) *int) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		v = strings.TrimSpace(v)
		n, err := strconv.Atoi(strings.TrimSuffix(v, "/s"))
		switch {
		case err != nil:
			return fmt.Errorf("%q is not a whole number such as 50", v)
		case n < 0:
			return fmt.Errorf("%q is below zero: give a whole number such as 50", v)
		}
		*p(s) = n
		return nil
	}
}

// parseSchedule reads a retry schedule: positive durations, comma-separated.
func parseSchedule(s *Settings, v string) error {
	var sched []time.Duration
	for _, part := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a list of positive durations such as 1s,2s,4s", strings.TrimSpace(v))
		}
		sched = append(sched, d)
	}
	s.Timing.RetrySchedule = sched
	return nil
}

// showDuration writes d as a user would: 5m, not 5m0s.
func showDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

func showBool(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// FromEnv reads the settings from the environment, starting from
// Defaults: each setting from its Option.Env, an empty value leaving the
// default. It only parses; prepare checks what is finally asked, after
// the CLI's flags. Errors wrap ErrCannotRun and name the setting in the
// user's words (Settings.Names).
func FromEnv(getenv func(string) string) (Settings, error) {
	s := Defaults()
	return s, s.ReadEnv(getenv)
}

// ReadEnv reads into s every setting its environment variable gives,
// remembering which (SetByEnv). Errors wrap ErrCannotRun and name the
// setting in the user's words.
func (s *Settings) ReadEnv(getenv func(string) string) error {
	for _, o := range Options() {
		v := getenv(o.Env)
		if o.Kind != Secret {
			v = strings.TrimSpace(v)
		}
		if v == "" {
			continue
		}
		if s.byEnv == nil {
			s.byEnv = map[Setting]bool{}
		}
		s.byEnv[o.Setting] = true
		if err := o.parse(s, v); err != nil {
			return s.Bad(o.Setting, "%v", err)
		}
	}
	return nil
}

// SetByEnv reports whether ReadEnv took setting set from the environment.
func (s *Settings) SetByEnv(set Setting) bool { return s.byEnv[set] }

// MakeEnv is set by the Makefile in the environment of the commands it
// runs, so that errors name its variables rather than the environment's.
const MakeEnv = "HOOKCERT_VIA_MAKE"

// makeFragment is the Makefile's part of the settings table: a variable
// per setting the Makefile takes, with its help and default as comments,
// the secrets exported to the environment (never on a command line that
// make would echo), and hookcert_env, the environment that hands every
// other one to the suites and commands. The Makefile includes it; a test
// keeps the committed file equal to it.
func makeFragment() string {
	var b strings.Builder
	b.WriteString("# Code generated from the settings table (harness/certify/table.go); DO NOT EDIT.\n")
	b.WriteString("# go test ./harness/certify -run TestMakeFragment -update writes it again.\n\n")
	b.WriteString("abs = $(if $(1),$(abspath $(1)))\n\n")
	var env []string
	for _, o := range Options() {
		if !o.Make {
			continue
		}
		v := string(o.Setting)
		help := o.Help
		if d := o.Default(); d != "" {
			help += " (default: " + d + ")"
		}
		fmt.Fprintf(&b, "# %s: %s\n", v, help)
		if o.Setting == SetReportDir {
			fmt.Fprintf(&b, "%s ?= %s\n", v, defaultReportDir)
		} else {
			fmt.Fprintf(&b, "%s ?=\n", v)
		}
		switch o.Kind {
		case Secret:
			continue
		case path:
			env = append(env, fmt.Sprintf("%s='$(call abs,$(%s))'", o.Env, v))
		case nameOrPath:
			env = append(env, fmt.Sprintf("%s='$(if $(wildcard $(%s)),$(abspath $(%s)),$(%s))'", o.Env, v, v, v))
		default:
			env = append(env, fmt.Sprintf("%s='$(%s)'", o.Env, v))
		}
	}
	b.WriteString("\n# The secrets reach the suites through the environment, never a command\n# line that make would echo or ps would show.\n")
	for _, o := range Options() {
		if o.Make && o.Kind == Secret {
			fmt.Fprintf(&b, "ifneq ($(%s),)\nexport %s := $(%s)\nendif\n", o.Setting, o.Env, o.Setting)
		}
	}
	b.WriteString("\n# hookcert_env hands every other setting to the suites and commands.\n")
	fmt.Fprintf(&b, "hookcert_env = %s=1 \\\n\t%s\n", MakeEnv, strings.Join(env, " \\\n\t"))
	return b.String()
}

package certify

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/signing"
)

// ErrCannotRun wraps every reason a run could not be made (exit status 2):
// bad settings, an unreachable target, a misconfigured probe, a broken
// scenario file.
var ErrCannotRun = errors.New("the run could not be made")

// Settings are everything a run is told, in one value: built once (from
// the environment by FromEnv, or from flags by the CLI), checked once by
// prepare, and carried down to the sender, the probe, the engine, the load
// generator and the report. Nothing reads a report back to learn them.
type Settings struct {
	// URL is the webhook URL; empty starts the reference receiver.
	URL        string
	Secret     harness.Secret
	ProbeURL   string
	ProbeToken harness.Secret
	Labels     string
	// Scheme names the signing scheme: a built-in one or a scheme file;
	// empty is REALM v1.
	Scheme   string
	Strict   bool
	Insecure bool
	// CACert is a PEM file of a CA to trust besides the system roots.
	CACert string
	// HTTPVersion is what the sender and the probe speak: HTTP/2 or
	// HTTP/1.1 as the receiver chooses over TLS (the zero value), or one
	// of them only.
	HTTPVersion harness.HTTPVersion
	// Scenarios is a directory of the user's own scenario files.
	Scenarios string
	ReportDir string
	// Faults are planted in the reference receiver (URL empty only).
	Faults []receiver.Fault
	// PlainHTTP serves the reference receiver without TLS.
	PlainHTTP bool
	// Concurrency bounds how many scenarios run at once.
	Concurrency int
	// DedupeVolume is how many fresh events IDEM-06 delivers during its
	// dedupe gap (0: none), at up to DedupeRate a second.
	DedupeVolume, DedupeRate int
	// Timing holds every wall-clock constant of the run; zero fields take
	// harness.DefaultTiming's. harness.CompressedTiming() gives
	// a run in seconds, for a go test.
	Timing harness.Timing
	// FaultDelays overrides, field by field, the delays the bundled
	// receiver's planted faults derive from Timing.
	FaultDelays receiver.Delays
	// Load are the knobs of a load run or a capacity search. prepare
	// fills none of them in (a zero sample size is an error, not "the
	// default"): start from Defaults, as FromEnv does.
	Load LoadSettings
	// FailOn is the exit policy of a command: "not-compliant" or
	// FailOnCannotRun. The report keeps the run's own status.
	FailOn string
	// Names says how errors name a setting to the user: nil names them as
	// the Makefile's variables (MakeNames); the CLI passes its flags.
	Names func(Setting) string

	// byEnv holds the settings ReadEnv took from the environment.
	byEnv map[Setting]bool

	// scheme is Scheme loaded by prepare; nil is REALM v1 by its fast path.
	scheme *signing.Scheme
}

// LoadSettings are the knobs of a load run or a capacity search.
type LoadSettings struct {
	// Rate is the deliveries per second (the first rate of a search).
	Rate int
	// Duration is how long the attack lasts.
	Duration time.Duration
	// Attacker names this generator; each of several merged generators
	// needs its own.
	Attacker string
	// Limits are the safety limits of the attack.
	Limits load.Limits
	// SampleSize bounds the acknowledged events asked of the probe.
	SampleSize int
	// StepDuration is how long a capacity search holds each rate.
	StepDuration time.Duration
	// Retries is how many times the load retries a delivery not
	// acknowledged, waiting as the timing's retry schedule says (its last
	// wait repeated past its end); allRetries (the default) is once per
	// wait of the schedule, 0 turns retries off.
	Retries int
	// Progress, when set, receives progress lines; Live redraws one line
	// (a terminal).
	Progress io.Writer
	Live     bool
}

// allRetries, as LoadSettings.Retries, retries once per wait of the retry
// schedule; maxRetries is the most retries a load may ask.
const (
	allRetries = -1
	maxRetries = 10
)

// retrySchedule is the load's retry schedule: n retries (allRetries: one
// per wait of schedule), waiting as schedule says, its last wait repeated
// past its end; none when n is 0 or the schedule is empty.
func retrySchedule(schedule []time.Duration, n int) []time.Duration {
	if n == allRetries {
		n = len(schedule)
	}
	if n <= 0 || len(schedule) == 0 {
		return nil
	}
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = schedule[min(i, len(schedule)-1)]
	}
	return out
}

// defaultLoadSettings returns the defaults of `make load`.
func defaultLoadSettings() LoadSettings {
	return LoadSettings{
		Rate: load.DefaultRate, Duration: load.DefaultDuration, Attacker: load.DefaultAttacker,
		Limits: load.DefaultLimits(), SampleSize: load.DefaultSampleSize, StepDuration: load.DefaultStepDuration,
		Retries: allRetries,
	}
}

// Setting names one user setting in errors, so that each front end can
// say it in its own words (a make variable, a flag).
type Setting string

// The settings errors can name.
const (
	setURL           Setting = "URL"
	setSecret        Setting = "SECRET"
	setProbeURL      Setting = "PROBE_URL"
	setProbeToken    Setting = "PROBE_TOKEN"
	setLabels        Setting = "LABELS"
	setScheme        Setting = "SCHEME"
	setStrict        Setting = "STRICT"
	setInsecure      Setting = "INSECURE"
	setCACert        Setting = "CA_CERT"
	setHTTPVersion   Setting = "HTTP_VERSION"
	setAckDeadline   Setting = "ACK_DEADLINE"
	SetSenderTimeout Setting = "SENDER_TIMEOUT"
	SetRetrySchedule Setting = "RETRY_SCHEDULE"
	SetSettle        Setting = "SETTLE"
	SetDedupeGap     Setting = "DEDUPE_GAP"
	setScenarios     Setting = "SCENARIOS"
	SetReportDir     Setting = "REPORT_DIR"
	setFaults        Setting = "FAULTS"
	setPlainHTTP     Setting = "PLAIN_HTTP"
	setRate          Setting = "RATE"
	SetDuration      Setting = "DURATION"
	setMaxRate       Setting = "MAX_RATE"
	setMaxDuration   Setting = "MAX_DURATION"
	setForce         Setting = "FORCE"
	setAttacker      Setting = "ATTACKER"
	setSampleSize    Setting = "SAMPLE_SIZE"
	setStepDuration  Setting = "STEP_DURATION"
	setRetries       Setting = "RETRIES"
	setFailOn        Setting = "FAIL_ON"
	setDedupeVolume  Setting = "DEDUPE_VOLUME"
	setDedupeRate    Setting = "DEDUPE_RATE"
)

// MakeNames names a setting as the Makefile's variable.
func MakeNames(s Setting) string { return string(s) }

// name says setting s in the user's words.
func (s *Settings) name(set Setting) string {
	if s.Names == nil {
		return MakeNames(set)
	}
	return s.Names(set)
}

// Env is the environment variable a setting is read from: HOOKCERT_ and
// its name. The secret's is harness.SecretEnv (Option.Env).
func Env(s Setting) string { return "HOOKCERT_" + string(s) }

// parseFlag reads a yes/no setting: empty, 0, false or no is off; 1, true
// or yes is on; anything else is an error.
func parseFlag(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a yes or no: use 1 or leave it out", strings.TrimSpace(v))
}

// Bad is an error wrapping ErrCannotRun that names setting set: the run
// cannot be made, and the user is told which setting to fix.
func (s *Settings) Bad(set Setting, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrCannotRun, s.name(set), fmt.Sprintf(format, args...))
}

// withDefaults fills what was left zero, for settings built in code
// rather than from Defaults.
func (s Settings) withDefaults() Settings {
	s.Timing = s.Timing.WithDefaults()
	if s.ReportDir == "" {
		s.ReportDir = defaultReportDir
	}
	return s
}

// attackerName is what an attacker name may be: it names a file.
var attackerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// checkLoad validates the load settings that do not depend on the target;
// capacity searches check their own plan.
func (s *Settings) checkLoad(capacity bool) error {
	l := s.Load
	if !attackerName.MatchString(l.Attacker) {
		return s.Bad(setAttacker, "%q: use letters, digits, '.', '_' and '-' (it names the results file)", l.Attacker)
	}
	if l.SampleSize < 1 {
		return s.Bad(setSampleSize, "%d: LOAD-03 needs at least one event to ask the probe about", l.SampleSize)
	}
	if l.Limits.MaxRate <= 0 {
		return s.Bad(setMaxRate, "%d must be positive", l.Limits.MaxRate)
	}
	if l.Limits.MaxDuration <= 0 {
		return s.Bad(setMaxDuration, "%s must be positive", l.Limits.MaxDuration)
	}
	if l.Retries > maxRetries || l.Retries < allRetries {
		return s.Bad(setRetries, "%d: give 0 (no retries) up to %d", l.Retries, maxRetries)
	}
	if capacity {
		return nil
	}
	return s.unsafe(l.Limits.Check(l.Rate, l.Duration))
}

// unsafe turns a load.LimitError into advice in the user's words: which
// setting to change.
func (s *Settings) unsafe(err error) error {
	var le *load.LimitError
	if err == nil || !errors.As(err, &le) {
		return err
	}
	force := fmt.Sprintf(" (or set %s)", s.name(setForce))
	var advice string
	switch le.Setting {
	case load.LimitRate:
		advice = fmt.Sprintf("%s=%d: %v", s.name(setRate), le.Asked, err)
		if le.Limit > 0 {
			advice += fmt.Sprintf(": raise %s%s if the receiver is meant to take it", s.name(setMaxRate), force)
		}
	case load.LimitDuration:
		advice = fmt.Sprintf("%s=%s: %v", s.name(SetDuration), time.Duration(le.Asked), err)
		if le.Limit > 0 {
			advice += fmt.Sprintf(": raise %s%s if you mean it", s.name(setMaxDuration), force)
		}
	case load.LimitSearch:
		advice = fmt.Sprintf("%v: shorten %s or raise %s", err, s.name(setStepDuration), s.name(setMaxDuration))
	case load.LimitStep:
		advice = fmt.Sprintf("%s=%s: %v", s.name(setStepDuration), time.Duration(le.Asked), err)
	default:
		advice = err.Error()
	}
	return fmt.Errorf("%w: %w", ErrCannotRun, &adviceError{msg: advice, err: err})
}

// adviceError says err in the user's words and keeps its chain for
// errors.As (*load.LimitError).
type adviceError struct {
	msg string
	err error
}

func (e *adviceError) Error() string { return e.msg }
func (e *adviceError) Unwrap() error { return e.err }

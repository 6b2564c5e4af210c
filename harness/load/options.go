package load

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Defaults of a load run (README "The load test") and of the generator.
const (
	// DefaultRate is the deliveries per second of `make load`.
	DefaultRate = 50
	// DefaultDuration is how long `make load` attacks.
	DefaultDuration = 20 * time.Second
	// defaultMaxRate and defaultMaxDuration are the safety limits: a
	// higher rate or a longer run needs raised Limits, or ForcedLimits.
	defaultMaxRate     = 1000
	defaultMaxDuration = 5 * time.Minute
	// ForcedMaxRate and ForcedMaxDuration are the limits of a forced run:
	// the attack still ends by itself.
	ForcedMaxRate     = 100_000
	ForcedMaxDuration = 24 * time.Hour
	// DefaultSampleSize bounds the acknowledged events LOAD-03 asks the
	// probe about; a larger run is sampled uniformly.
	DefaultSampleSize = 2000
	// DefaultAttacker names the generator in the results when none is
	// given; each of several generators needs its own name.
	DefaultAttacker = "hookcert"
	// defaultProgressInterval is how often the live progress line on a
	// terminal is redrawn; defaultLogInterval how often a plain progress
	// line is written otherwise (CI logs).
	defaultProgressInterval = 250 * time.Millisecond
	defaultLogInterval      = 5 * time.Second
	// bodyKept bounds the response body kept in a result (of a non-2xx
	// answer only: its evidence); a 2xx body is dropped.
	bodyKept = 512
	// defaultRebuild is how often the targeter builds an event of a type
	// afresh (see eventTargeter).
	defaultRebuild = 1024
	// successFloor is the smallest share of 2xx answers LOAD-02 accepts.
	successFloor = 0.999
)

// Sentinel errors; test them with errors.Is.
var (
	// errUnsafe means a rate or duration beyond the safety limits, or an
	// attack that would not end by itself.
	errUnsafe = errors.New("unsafe load")
	// errTargeter means the targeter could not build an event: a harness
	// bug, never the receiver's fault.
	errTargeter = errors.New("the load targeter failed")
	// errInvalidOption means an option was given a value out of range.
	errInvalidOption = errors.New("invalid load option")
)

// Limits are the safety limits of an attack.
type Limits struct {
	// MaxRate is the highest rate per second allowed.
	MaxRate int
	// MaxDuration is the longest attack allowed (for a capacity search,
	// the longest search).
	MaxDuration time.Duration
}

// DefaultLimits returns defaultMaxRate and defaultMaxDuration.
func DefaultLimits() Limits { return Limits{MaxRate: defaultMaxRate, MaxDuration: defaultMaxDuration} }

// ForcedLimits returns the limits of a forced run, ForcedMaxRate and
// ForcedMaxDuration.
func ForcedLimits() Limits { return Limits{MaxRate: ForcedMaxRate, MaxDuration: ForcedMaxDuration} }

// Check returns a *LimitError when rate or d is not positive or is beyond
// the limits.
func (l Limits) Check(rate int, d time.Duration) error {
	switch {
	case rate <= 0:
		return &LimitError{Setting: LimitRate, Asked: int64(rate), msg: "the rate must be a positive number of deliveries per second"}
	case d <= 0:
		return &LimitError{Setting: LimitDuration, Asked: int64(d), msg: "the attack must have a positive duration, so that it ends by itself"}
	case rate > l.MaxRate:
		return &LimitError{Setting: LimitRate, Asked: int64(rate), Limit: int64(l.MaxRate),
			msg: fmt.Sprintf("the rate is above the safety limit of %d/s", l.MaxRate)}
	case d > l.MaxDuration:
		return &LimitError{Setting: LimitDuration, Asked: int64(d), Limit: int64(l.MaxDuration),
			msg: fmt.Sprintf("the duration is above the safety limit of %s", l.MaxDuration)}
	}
	return nil
}

// LimitSetting says which setting a LimitError is about.
type LimitSetting int

// The settings a safety limit bounds.
const (
	// LimitRate: the rate (Asked and Limit per second).
	LimitRate LimitSetting = iota
	// LimitDuration: the attack's duration (Asked and Limit in
	// nanoseconds).
	LimitDuration
	// LimitSearch: a capacity search's longest run (nanoseconds) against
	// the duration limit.
	LimitSearch
	// LimitStep: a capacity search's step duration (nanoseconds), which
	// must be positive.
	LimitStep
)

// LimitError is a load beyond the safety limits, or one that would not
// end by itself. It wraps errUnsafe; a front end names the settings to
// change in its own words.
type LimitError struct {
	Setting LimitSetting
	// Asked is what was asked; Limit the limit it broke, 0 when the value
	// was not positive.
	Asked, Limit int64
	msg          string
}

func (e *LimitError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, errUnsafe) hold.
func (e *LimitError) Unwrap() error { return errUnsafe }

// Option configures a Generator (and eventTargeter).
type Option func(*options)

type options struct {
	scheme           *signing.Scheme
	attacker         string
	tls              *tls.Config
	timeout          time.Duration
	ackDeadline      time.Duration
	factory          *events.Factory
	mix              mix
	clock            harness.Clock
	seed             uint64
	seeded           bool
	sampleSize       int
	progress         io.Writer
	live             bool
	progressInterval time.Duration
	limits           Limits
	rebuild          int
	retries          []time.Duration
	pendingCap       int
	version          harness.HTTPVersion
}

// WithHTTPVersion sets the HTTP versions the attack speaks, as the
// conformance sender does (README "Make variables", HTTP_VERSION): the
// default offers HTTP/2 and HTTP/1.1 in the TLS handshake and speaks the
// one the receiver chooses (HTTP/1.1 over http://); HTTP1 and HTTP2 pin
// one, HTTP2 over http:// being h2c with prior knowledge.
func WithHTTPVersion(v harness.HTTPVersion) Option { return func(o *options) { o.version = v } }

// WithAttacker names the generator: the attack name in the results file
// (vegeta's Result.Attack, the series of `vegeta plot`) and in the report.
// Each of several generators whose results are merged needs its own.
func WithAttacker(name string) Option { return func(o *options) { o.attacker = name } }

// WithTLSConfig sets the TLS configuration (cloned): pass the conformance
// sender's TLSConfig to trust the same CA.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// WithTimeout sets the sender timeout: an attempt not answered by then is
// abandoned, as REALM abandons it. The default is
// harness.DefaultTiming().SenderTimeout.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithAckDeadline sets the ack deadline that LOAD-01 holds p99 to; the
// default is harness.DefaultTiming().AckDeadline.
func WithAckDeadline(d time.Duration) Option { return func(o *options) { o.ackDeadline = d } }

// withMix sets the event types sent and their shares; the default is
// defaultMix.
func withMix(m mix) Option { return func(o *options) { o.mix = m } }

// WithScheme signs the deliveries with a signing scheme and sends its
// headers; without it they are REALM v1, signed by the fast signer.
func WithScheme(sc *signing.Scheme) Option { return func(o *options) { o.scheme = sc } }

// withClock sets the clock signatures are made with (and the default
// factory's); the default is the wall clock.
func withClock(c harness.Clock) Option { return func(o *options) { o.clock = c } }

// withSeed fixes the randomness of the mix's order and of the sample, so
// that a run can be repeated; the default is a random seed.
func withSeed(seed uint64) Option {
	return func(o *options) { o.seed, o.seeded = seed, true }
}

// WithSampleSize bounds the acknowledged events kept for LOAD-03; the
// default is DefaultSampleSize.
func WithSampleSize(n int) Option { return func(o *options) { o.sampleSize = n } }

// WithProgress writes progress to w while an attack runs: a line redrawn
// in place when live (a terminal), plain periodic lines otherwise.
func WithProgress(w io.Writer, live bool) Option {
	return func(o *options) { o.progress, o.live = w, live }
}

// withProgressInterval sets how often progress is written; the default is
// defaultProgressInterval when live, defaultLogInterval otherwise.
func withProgressInterval(d time.Duration) Option {
	return func(o *options) { o.progressInterval = d }
}

// withRebuild sets how often the targeter builds an event of a type afresh
// through the factory, rather than rewriting the last one built (see
// eventTargeter); 1 builds every event afresh. The default is
// defaultRebuild.
func withRebuild(n int) Option { return func(o *options) { o.rebuild = n } }

// WithRetries sets the retry schedule of the load (DESIGN section 10): a
// delivery answered non-2xx, or not answered within the sender timeout,
// is sent again after schedule[0], then schedule[1], and so on; an empty
// schedule turns retries off. The default is
// harness.DefaultTiming().RetrySchedule.
func WithRetries(schedule []time.Duration) Option {
	return func(o *options) { o.retries = append([]time.Duration{}, schedule...) }
}

// withPendingCap bounds the retries waiting at once; the default is
// defaultPendingCap.
func withPendingCap(n int) Option { return func(o *options) { o.pendingCap = n } }

// WithLimits sets the safety limits; the default is DefaultLimits.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

func newOptions(opts []Option) options {
	o := options{
		attacker:    DefaultAttacker,
		timeout:     harness.DefaultTiming().SenderTimeout,
		ackDeadline: harness.DefaultTiming().AckDeadline,
		mix:         defaultMix(),
		sampleSize:  DefaultSampleSize,
		limits:      DefaultLimits(),
		rebuild:     defaultRebuild,
		retries:     harness.DefaultTiming().RetrySchedule,
		pendingCap:  defaultPendingCap,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if !o.seeded {
		o.seed = rand.Uint64()
	}
	if o.factory == nil {
		o.factory = events.NewFactory(events.WithClock(o.clock))
	}
	if o.progressInterval <= 0 {
		o.progressInterval = defaultLogInterval
		if o.live {
			o.progressInterval = defaultProgressInterval
		}
	}
	return o
}

func (o options) validate() error {
	switch {
	case o.attacker == "":
		return fmt.Errorf("load: %w: the attacker name is empty", errInvalidOption)
	case o.timeout <= 0:
		return fmt.Errorf("load: %w: sender timeout %s must be positive", errInvalidOption, o.timeout)
	case o.ackDeadline <= 0:
		return fmt.Errorf("load: %w: ack deadline %s must be positive", errInvalidOption, o.ackDeadline)
	case o.sampleSize < 0:
		return fmt.Errorf("load: %w: sample size %d must not be negative", errInvalidOption, o.sampleSize)
	case o.pendingCap <= 0:
		return fmt.Errorf("load: %w: the cap of pending retries %d must be positive", errInvalidOption, o.pendingCap)
	case slices.ContainsFunc(o.retries, func(d time.Duration) bool { return d < 0 }):
		return fmt.Errorf("load: %w: a retry waits a negative time in %v", errInvalidOption, o.retries)
	case o.limits.MaxRate <= 0 || o.limits.MaxDuration <= 0:
		return fmt.Errorf("load: %w: safety limits %d/s and %s must be positive", errInvalidOption, o.limits.MaxRate, o.limits.MaxDuration)
	}
	return nil
}

// rand returns a generator seeded from the options; each call starts the
// same sequence again.
func (o options) rand() *rand.Rand { return rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)) }

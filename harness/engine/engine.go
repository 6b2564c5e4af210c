// Package engine runs conformance scenarios against a receiver and returns
// a verdict per check, with what was expected, what was observed and the
// evidence of every exchange. It plays the REALM sender through the
// delivery package, builds events with the events package and asks the
// receiver's probe what it processed.
//
// The engine knows nothing of Ginkgo: the conformance suite and the
// project's own tests both call it directly.
package engine

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/probe"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/signing"
)

// defaultConcurrency is how many scenarios run at once. Scenarios are
// independent (fresh event and job ids), so they may overlap; those that
// measure latency are marked exclusive and run alone. Against a receiver
// that never answers, every check waits out one sender timeout: with 16 at
// once the run stays within its time bound (README "The checks").
const defaultConcurrency = 16

// DefaultVolume and DefaultVolumeRate are IDEM-06's burst during its dedupe
// gap (DESIGN section 6): 2,000 events, at up to 200 a second, enough to
// pass a dedupe store bounded by count and to show a receiver that breaks
// under concurrency, in the 10 s the gap waits anyway.
const (
	DefaultVolume     = 2000
	DefaultVolumeRate = 200
)

// Sender makes a run's deliveries to its target: it builds the normal
// attempt for an event, which a check then changes, and sends it; the TLS
// checks learn from it where the target is and what the deliveries
// offered. *delivery.Sender is the one a run uses.
type Sender interface {
	// Attempt returns the normal first attempt for ev.
	Attempt(ev harness.Event) delivery.Attempt
	// Send makes one attempt and returns its evidence: what went wrong at
	// the target is in the exchange, never an error.
	Send(ctx context.Context, a delivery.Attempt) harness.Exchange
	// URL is the target's webhook URL, without credentials.
	URL() string
	// Timeout is the sender timeout; a TLS check's handshake gets as long.
	Timeout() time.Duration
	// TLSConfig is what the deliveries offer in a TLS handshake.
	TLSConfig() *tls.Config
	// Protocols names the HTTP versions the deliveries were answered in.
	Protocols() []string
	// Reachable says whether the target's address takes a connection at
	// all (nil when it does): the run asks it while a receiver that went
	// away may be coming back.
	Reachable(ctx context.Context) error
}

// Prober asks the receiver's probe what it processed (README "The probe
// contract"), polling for up to the settle time. *probe.Client is the one
// a run uses; its methods say what each waits for.
type Prober interface {
	Settle() time.Duration
	Event(ctx context.Context, eventID string) (probe.EventState, harness.Exchange, error)
	AwaitEvent(ctx context.Context, eventID string, want int) (probe.EventState, []harness.Exchange, error)
	AwaitSent(ctx context.Context, eventID string, want int, sent time.Time) (probe.EventState, time.Duration, []harness.Exchange, error)
	AwaitRedelivered(ctx context.Context, eventID string, want int, first, last time.Time) (probe.EventState, []harness.Exchange, error)
	AwaitLate(ctx context.Context, eventID string, sent time.Time, lag time.Duration) (probe.EventState, []harness.Exchange, error)
	AwaitJob(ctx context.Context, jobID, want string) (probe.JobState, []harness.Exchange, error)
}

// Config is what the engine needs to play the sender against one target.
type Config struct {
	// Sender delivers to the target's webhook URL with the secret.
	Sender Sender
	// Probe asks the receiver what it processed; nil, or a nil pointer
	// such as a run without a probe URL has, skips the checks that need it.
	Probe Prober
	// Factory builds the events; nil means events.NewFactory().
	Factory *events.Factory
	// Secret is the receiver's secret, used to compute the signature a
	// receiver must not echo. It never appears in results.
	Secret harness.Secret
	// Scheme is the signing scheme of the run, the Sender's; nil is REALM
	// v1. A check it cannot express is N/A.
	Scheme *signing.Scheme
	// Timing gives the ack deadline every acknowledgement must meet and
	// the retry schedule; zero fields take harness.DefaultTiming's. The
	// sender and the probe carry their own parts of the same value.
	Timing harness.Timing
	// Strict turns broken SHOULDs into failures.
	Strict bool
	// Insecure is set when the user chose not to verify the certificate:
	// TLS-02 then warns instead of failing.
	Insecure bool
	// RootCAs verifies the target's certificate in the TLS checks; nil
	// means the system roots.
	RootCAs *x509.CertPool
	// Concurrency bounds how many scenarios run at once; 0 means 16
	// (defaultConcurrency).
	Concurrency int
	// Volume is how many fresh events a burst delivers during the dedupe
	// gap (Pause.Volume), at up to VolumeRate a second (DefaultVolume,
	// DefaultVolumeRate); a negative Volume sends none.
	Volume, VolumeRate int
	// OnResult, if set, is called once per finished check (from several
	// goroutines, one at a time), with the verdict it finished with: a
	// check that met an outage the availability check (ACK-12) finds at
	// the end is AFFECTED in RunAll's results only.
	OnResult func(harness.Result)
}

// Engine runs scenarios. It is safe for concurrent use.
type Engine struct {
	cfg      Config
	resultMu sync.Mutex
}

// errConfig reports an unusable configuration.
var errConfig = errors.New("engine configuration")

// New checks cfg, fills its defaults and returns an engine.
func New(cfg Config) (*Engine, error) {
	if isNil(cfg.Sender) {
		return nil, fmt.Errorf("%w: no sender", errConfig)
	}
	if isNil(cfg.Probe) {
		// A nil *probe.Client is no probe, not one to call.
		cfg.Probe = nil
	}
	if cfg.Secret.Reveal() == "" {
		return nil, fmt.Errorf("%w: the secret is empty", errConfig)
	}
	if cfg.Factory == nil {
		cfg.Factory = events.NewFactory()
	}
	if cfg.Scheme == nil {
		sc, err := signing.Builtin(signing.DefaultScheme)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errConfig, err)
		}
		cfg.Scheme = sc
	}
	cfg.Timing = cfg.Timing.WithDefaults()
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = defaultConcurrency
	}
	if cfg.Volume == 0 {
		cfg.Volume = DefaultVolume
	}
	if cfg.VolumeRate <= 0 {
		cfg.VolumeRate = DefaultVolumeRate
	}
	return &Engine{cfg: cfg}, nil
}

// isNil reports whether v is nil or holds a nil pointer: in an interface,
// a nil *probe.Client is not nil.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// run runs one scenario, writing its deliveries into the run's ledger l,
// and returns its verdict and its exchanges as contacts with the receiver.
// It never panics at a broken receiver: every failure of the target is an
// observation. A final scenario run alone has no run to judge, and is
// skipped.
func (e *Engine) run(ctx context.Context, sc *scenario.Scenario, l *ledger) (res harness.Result, met []contact) {
	res = harness.Result{
		ID:          sc.ID,
		Title:       sc.Title,
		Level:       sc.Level,
		Category:    sc.Category,
		Requirement: sc.Requirement,
		Seed:        sc.Seed,
		Fix:         sc.Fix,
		Start:       time.Now(),
	}
	defer func() { res.Duration = time.Since(res.Start) }()
	// Without a probe a check still runs: what its status codes show is
	// judged, and only the probe steps are left out (see verdict).
	r := newRun(e, sc, l)
	r.steps(ctx)
	return r.verdict(res), r.contacts
}

// RunAll runs scenarios and returns their results in the order given.
// Scenarios run concurrently up to the configured bound, each after the
// scenarios its After names; exclusive scenarios, and those that come after
// one, then run one at a time. A scenario takes one of the bounded slots
// only once what it comes after has finished, so no slot is held by a
// scenario that waits (with a bound of 1, a dependency could otherwise never
// get the slot its dependent holds).
// When ctx ends, checks that had not started are skipped with that reason.
// Once every check has run, a FAIL or WARN of a check that met an outage
// the availability check found becomes AFFECTED (markAffected).
//
// The after order must have no cycle (the scenario loaders and Merge reject one); IDs it
// names that are not among scs are ignored.
func (e *Engine) RunAll(ctx context.Context, scs []*scenario.Scenario) []harness.Result {
	b := newBatch(e, scs)
	byID := make(map[string]int, len(scs))
	for i, sc := range scs {
		byID[sc.ID] = i
	}
	late := runLate(scs, byID)

	sem := make(chan struct{}, e.cfg.Concurrency)
	var wg sync.WaitGroup
	var pending, finals []int
	for i := range scs {
		if scs[i].Final {
			// After everything else, the run's ledger whole.
			finals = append(finals, i)
			continue
		}
		if late[i] {
			pending = append(pending, i)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Wait first, then take a slot: a scenario holding a slot is
			// always running, so the slots never run out on waiting.
			b.await(ctx, scs[i])
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				// Not started: runOne skips it without a slot.
			}
			b.runOne(ctx, i)
		}()
	}
	wg.Wait()
	// The late ones in the order given, each once everything it comes
	// after has run (the loader rejects cycles, so this always progresses).
	ran := map[string]bool{}
	for len(pending) > 0 {
		next := 0
		for k, i := range pending {
			if ready(scs[i], byID, late, ran) {
				next = k
				break
			}
		}
		i := pending[next]
		pending = append(pending[:next], pending[next+1:]...)
		b.await(ctx, scs[i])
		b.runOne(ctx, i)
		ran[scs[i].ID] = true
	}
	for _, i := range finals {
		b.runOne(ctx, i)
	}
	if o := b.l.found(); o != nil {
		markAffected(b.results, b.met, o)
	}
	return b.results
}

// batch is one RunAll under way: its scenarios, their results and
// contacts with the receiver, the run's ledger, and for each scenario a
// channel closed once it has finished.
type batch struct {
	e       *Engine
	scs     []*scenario.Scenario
	l       *ledger
	results []harness.Result
	met     [][]contact
	done    map[string]chan struct{}
}

func newBatch(e *Engine, scs []*scenario.Scenario) *batch {
	b := &batch{e: e, scs: scs, l: newLedger(), results: make([]harness.Result, len(scs)), met: make([][]contact, len(scs)),
		done: make(map[string]chan struct{}, len(scs))}
	for _, sc := range scs {
		b.done[sc.ID] = make(chan struct{})
	}
	return b
}

// await returns once every scenario sc comes after has finished, or ctx
// has ended.
func (b *batch) await(ctx context.Context, sc *scenario.Scenario) {
	for _, dep := range sc.After {
		if ch, ok := b.done[dep]; ok {
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	}
}

// runOne runs scs[i], whose dependencies have finished, once the receiver
// takes connections if a delivery found it gone (awaitReceiver), reports
// its result and marks it finished.
func (b *batch) runOne(ctx context.Context, i int) {
	sc := b.scs[i]
	defer close(b.done[sc.ID])
	b.e.awaitReceiver(ctx, b.l)
	if ctx.Err() != nil {
		b.results[i] = interrupted(sc)
	} else {
		b.results[i], b.met[i] = b.e.run(ctx, sc, b.l)
	}
	if b.e.cfg.OnResult != nil {
		b.e.resultMu.Lock()
		b.e.cfg.OnResult(b.results[i])
		b.e.resultMu.Unlock()
	}
}

// runLate says which scenarios run late, one at a time after the
// concurrent ones: the exclusive ones and those that come after one that
// runs late; so no concurrent scenario ever waits for a late one.
func runLate(scs []*scenario.Scenario, byID map[string]int) []bool {
	late := make([]bool, len(scs))
	for changed := true; changed; {
		changed = false
		for i, sc := range scs {
			if late[i] {
				continue
			}
			l := sc.Exclusive
			for _, dep := range sc.After {
				if j, ok := byID[dep]; ok && late[j] {
					l = true
				}
			}
			if l {
				late[i], changed = true, true
			}
		}
	}
	return late
}

// ready reports whether every late scenario sc comes after has run.
func ready(sc *scenario.Scenario, byID map[string]int, late []bool, ran map[string]bool) bool {
	for _, dep := range sc.After {
		if j, ok := byID[dep]; ok && late[j] && !ran[dep] {
			return false
		}
	}
	return true
}

func interrupted(sc *scenario.Scenario) harness.Result {
	return harness.Result{
		ID: sc.ID, Title: sc.Title, Level: sc.Level, Category: sc.Category,
		Requirement: sc.Requirement, Seed: sc.Seed, Fix: sc.Fix, Start: time.Now(),
		Verdict: harness.Skip, Reason: reasonNotStarted,
	}
}

// The reasons of a check the run's end cut off: before it started, or
// while it ran.
const (
	reasonNotStarted = "the run was interrupted before this check ran"
	reasonCutShort   = "the run was interrupted while this check ran"
)

// observation is what one step expected and what it saw.
type observation struct {
	step     int
	what     string // the step, for a human: "send job.completed (wrong secret)"
	expected string
	observed string
	ok       bool
}

func (o observation) String() string {
	return fmt.Sprintf("step %d, %s: expected %s; observed %s", o.step, o.what, o.expected, o.observed)
}

// unprobedReason is why a check that needs the probe is skipped when the
// run has none and nothing else it observed failed.
const unprobedReason = "processing not verified without a probe URL (README \"The probe contract\")"

// skipError ends a scenario with SKIP and its reason.
type skipError struct{ reason string }

func (s *skipError) Error() string { return s.reason }

// verdict turns the run's observations into the check's result.
func (r *run) verdict(res harness.Result) harness.Result {
	res.Evidence = r.evidence
	res.Notes = r.notes
	if skip, ok := r.first(stepSkipped); ok {
		res.Verdict = harness.Skip
		res.Reason = skip.reason
		return res
	}
	if r.had(stepInexpressible) || r.had(stepLeftOut) && len(r.evidence) == 0 && !r.had(stepInterrupted) {
		// Every delivery of the check, or the one it is about, was one
		// the scheme cannot express.
		res.Verdict = harness.NotApplicable
		res.Reason = strings.Join(r.notes, "\n")
		return res
	}
	var exp, obs, failed []string
	// Probe steps that waited together observed in any order.
	slices.SortStableFunc(r.obs, func(a, b observation) int { return cmp.Compare(a.step, b.step) })
	r.obs = merge(r.obs)
	for _, o := range r.obs {
		exp = append(exp, fmt.Sprintf("step %d, %s: %s", o.step, o.what, o.expected))
		if !o.ok {
			failed = append(failed, o.String())
			obs = append(obs, fmt.Sprintf("step %d, %s: %s", o.step, o.what, o.observed))
		}
	}
	res.Expected = strings.Join(exp, "\n")
	switch {
	case r.had(stepInterrupted):
		res.Verdict = harness.Skip
		res.Reason = reasonCutShort
	case res.Level == harness.Info:
		res.Verdict = harness.InfoVerdict
		res.Reason = strings.Join(r.info, "\n")
		res.Observed = strings.Join(r.info, "\n")
	case len(failed) > 0:
		res.Verdict = harness.Broken(res.Level, r.e.cfg.Strict)
		res.Observed = strings.Join(obs, "\n")
	case r.had(stepUnprobed) && r.sc.Probe:
		// Everything observable passed; what only the probe can show was
		// not looked at, so the check is not certified either way.
		res.Verdict = harness.Skip
		res.Reason = unprobedReason
		if len(r.obs) > 0 {
			res.Reason = "what needs no probe passed; " + unprobedReason
			var all []string
			for _, o := range r.obs {
				all = append(all, fmt.Sprintf("step %d, %s: %s", o.step, o.what, o.observed))
			}
			res.Observed = strings.Join(all, "\n")
		}
	case len(r.obs) == 0:
		// A scenario that observed nothing cannot pass: that would be a
		// check that cannot fail.
		res.Verdict = harness.Broken(res.Level, r.e.cfg.Strict)
		res.Observed = "the scenario made no observation (a scenario without expectations is a defect)"
	default:
		res.Verdict = harness.Pass
		var all []string
		for _, o := range r.obs {
			all = append(all, fmt.Sprintf("step %d, %s: %s", o.step, o.what, o.observed))
		}
		res.Observed = strings.Join(all, "\n")
	}
	if r.warn != "" && res.Verdict == harness.Pass {
		res.Verdict = harness.Warn
		res.Observed = r.warn + "\n" + res.Observed
	}
	return res
}

// merge folds the observations of one step that share an expectation (the
// deliveries of a repeated, per-type or lifecycle step) into one, so a
// report says "24 deliveries: ..." instead of 24 lines.
func merge(obs []observation) []observation {
	type key struct {
		step     int
		expected string
	}
	var order []key
	groups := map[key][]observation{}
	for _, o := range obs {
		k := key{o.step, o.expected}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], o)
	}
	out := make([]observation, 0, len(order))
	for _, k := range order {
		g := groups[k]
		if len(g) == 1 {
			out = append(out, g[0])
			continue
		}
		m := observation{step: k.step, expected: k.expected, ok: true}
		if sameWhat(g) {
			m.what = fmt.Sprintf("%s (%d deliveries)", g[0].what, len(g))
		} else {
			m.what = fmt.Sprintf("%d deliveries", len(g))
		}
		var bad []string
		for _, o := range g {
			if !o.ok {
				m.ok = false
				bad = append(bad, o.what+": "+o.observed)
			}
		}
		if m.ok {
			m.observed = fmt.Sprintf("all %d as expected, e.g. %s", len(g), g[0].observed)
		} else {
			const show = 5
			m.observed = fmt.Sprintf("%d of %d not as expected: %s", len(bad), len(g), strings.Join(bad[:min(show, len(bad))], "; "))
			if len(bad) > show {
				m.observed += fmt.Sprintf("; and %d more", len(bad)-show)
			}
		}
		out = append(out, m)
	}
	return out
}

func sameWhat(g []observation) bool {
	for _, o := range g {
		if o.what != g[0].what {
			return false
		}
	}
	return true
}

package load

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// Generator attacks one receiver with signed REALM events through vegeta,
// one attack at a time. Its connections are kept alive between attacks
// (the steps of a capacity search); Close releases them.
type Generator struct {
	// url is the target as results record it: without credentials.
	url       string
	secret    harness.Secret
	o         options
	targeter  vegeta.Targeter
	transport *http.Transport
}

// NewGenerator returns a generator for the webhook URL target, signing
// with secret.
func NewGenerator(target string, secret harness.Secret, opts ...Option) (*Generator, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("load: %w: the target must be an http:// or https:// URL", ErrInvalidOption)
	}
	o := newOptions(opts)
	if err := o.validate(); err != nil {
		return nil, err
	}
	tr, err := newTargeter(target, secret, o)
	if err != nil {
		return nil, err
	}
	return &Generator{
		url:      u.Redacted(),
		secret:   secret,
		o:        o,
		targeter: tr,
		// As the conformance sender: no proxy, no transparent gzip,
		// HTTP/1.1 over as many kept-alive connections as vegeta opens,
		// as REALM sends.
		transport: harness.NewTransport(o.tls, o.timeout, vegeta.DefaultConnections),
	}, nil
}

// scrub takes the secret out of what the receiver controls in a result (the
// error, which carries a status line or a malformed answer, and the body),
// before it reaches the metrics, the report or the results file.
func (g *Generator) scrub(res *vegeta.Result) {
	res.Error = harness.Scrub(res.Error, g.secret)
	// Most bodies hold no secret: copy only those that do.
	if harness.Echoes(res.Body, nil, g.secret) {
		res.Body = []byte(harness.Scrub(string(res.Body), g.secret))
	}
}

// Close closes the kept-alive connections.
func (g *Generator) Close() { g.transport.CloseIdleConnections() }

// idHeader is the header a delivery carries its event id in: the scheme's,
// or X-Webhook-Id.
func (g *Generator) idHeader() string {
	if sc := g.o.scheme; sc != nil && sc.IDHeader() != "" {
		return http.CanonicalHeaderKey(sc.IDHeader())
	}
	return harness.HeaderID
}

// Run is one finished attack.
type Run struct {
	// Attacker names the generator; Name the attack in the results
	// (Attacker, or Attacker@rate in a capacity search).
	Attacker, Name string
	// Rate and Duration are what was asked; Planned the deliveries that
	// makes (rate × duration), the most the attack sends.
	Rate     int
	Duration time.Duration
	Planned  int
	// Began is when the attack started.
	Began time.Time
	// Metrics holds every figure of the attack.
	Metrics *Metrics
	// Acknowledged is a uniform sample, at most the sample size, of the
	// eventIds answered 2xx; AcknowledgedTotal counts them all.
	Acknowledged      []string
	AcknowledgedTotal int
	// Interrupted is true when the context ended the attack early.
	Interrupted bool
}

// Sampled reports whether Acknowledged is a sample rather than every
// acknowledged event.
func (r *Run) Sampled() bool { return r.AcknowledgedTotal > len(r.Acknowledged) }

// Load returns the run's load section (without the probe's account).
func (r *Run) Load() *report.Load {
	l := r.Metrics.Load()
	l.Attackers = []string{r.Attacker}
	l.Rate = float64(r.Rate)
	l.Duration = harness.Duration(r.Duration)
	return l
}

// Attack sends rate signed events per second for du, then waits for the
// answers still due (at most the sender timeout), and returns the figures.
// Every result is passed to enc (nil: none) as it arrives, with its
// response headers dropped, its body kept only for a non-2xx answer (at
// most BodyKept bytes) and any credentials removed from its URL; nothing
// is kept, so that memory does not grow with the requests.
// The attack stops by itself: after du, after rate × du deliveries, or
// when ctx ends (Run.Interrupted). The error wraps ErrUnsafe (rate or du
// beyond the limits; nothing was sent), ErrTargeter (a harness bug) or the
// encoder's error; with the latter two the Run is still returned.
func (g *Generator) Attack(ctx context.Context, rate int, du time.Duration, enc vegeta.Encoder) (*Run, error) {
	return g.attackAt(ctx, g.o.attacker, rate, du, enc)
}

// attackAt is Attack under another attack name (a capacity step's).
func (g *Generator) attackAt(ctx context.Context, name string, rate int, du time.Duration, enc vegeta.Encoder) (*Run, error) {
	if err := g.o.limits.Check(rate, du); err != nil {
		return nil, err
	}
	// Each delivery holds a worker until it is answered or abandoned, so
	// rate × timeout workers keep the pace against the slowest receiver.
	maxWorkers := uint64(rate)*uint64(math.Ceil(g.o.timeout.Seconds())) + vegeta.DefaultWorkers
	return g.attack(ctx, plan{
		name:       name,
		rate:       rate,
		pacer:      vegeta.ConstantPacer{Freq: rate, Per: time.Second},
		planned:    int(math.Ceil(float64(rate) * du.Seconds())),
		duration:   du,
		maxWorkers: maxWorkers,
	}, enc)
}

// plan is what one attack does: pace, at most planned deliveries, for at
// most duration, with at most maxWorkers in flight.
type plan struct {
	name       string
	rate       int
	pacer      vegeta.Pacer
	planned    int
	duration   time.Duration
	maxWorkers uint64
}

func (g *Generator) attack(ctx context.Context, p plan, enc vegeta.Encoder) (*Run, error) {
	acks := newReservoir(g.o.sampleSize, g.o.rand())
	client := &http.Client{
		Transport: observer{next: g.transport, acks: acks, idHeader: g.idHeader()},
		Timeout:   g.o.timeout,
		// Redirects are never followed (README "Make variables"): the 3xx is the
		// answer, and a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var (
		tgtOnce sync.Once
		tgtErr  error
	)
	targeter := func(t *vegeta.Target) error {
		err := g.targeter(t)
		if err != nil {
			tgtOnce.Do(func() { tgtErr = err })
		}
		return err
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(min(vegeta.DefaultWorkers, p.maxWorkers)),
		vegeta.MaxWorkers(p.maxWorkers),
		vegeta.MaxBody(BodyKept),
	)
	pacer := boundedPacer{Pacer: p.pacer, max: uint64(p.planned)}

	run := &Run{Attacker: g.o.attacker, Name: p.name, Rate: p.rate, Duration: p.duration, Planned: p.planned, Began: time.Now()}
	run.Metrics = NewMetrics(run.Began, p.duration, g.o.timeout, g.o.ackDeadline)

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			atk.Stop()
		case <-done:
		}
	}()
	var prog *progress
	if g.o.progress != nil {
		prog = startProgress(g.o.progress, g.o.live, g.o.progressInterval, p.name, run.Began, run.Metrics)
	}

	var encErr error
	for res := range atk.Attack(targeter, pacer, p.duration, p.name) {
		g.scrub(res)
		run.Metrics.Add(res)
		res.URL = g.url
		res.Headers = nil
		if success(res.Code) {
			res.Body = nil
		}
		if enc != nil && encErr == nil {
			if err := enc.Encode(res); err != nil {
				encErr = fmt.Errorf("load: writing the results: %w", err)
			}
		}
	}
	if prog != nil {
		prog.stop()
	}
	run.Interrupted = ctx.Err() != nil
	run.Acknowledged, run.AcknowledgedTotal = acks.sample()
	if tgtErr != nil {
		return run, fmt.Errorf("%w: %w", ErrTargeter, tgtErr)
	}
	return run, encErr
}

// boundedPacer stops the attack after max hits, whatever its pacer says:
// the count bound of every attack.
type boundedPacer struct {
	vegeta.Pacer
	max uint64
}

// Pace implements vegeta.Pacer.
func (p boundedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.max {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}

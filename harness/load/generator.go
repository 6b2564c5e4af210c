package load

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/redact"
	"github.com/realm-ai/hookcert/harness/report"
)

// Generator attacks one receiver with signed REALM events through vegeta,
// one attack at a time. Its connections are kept alive between attacks
// (the steps of a capacity search); Close releases them.
type Generator struct {
	// url is the target as results record it: without credentials.
	url    string
	secret harness.Secret
	// creds takes the target's credentials out of what results record;
	// hidden is every secret an answer may echo.
	creds    *redact.URLs
	hidden   []harness.Secret
	o        options
	targeter vegeta.Targeter
	// target is the webhook URL as given; sign signs the retries.
	target    string
	sign      signer
	transport *http.Transport
}

// NewGenerator returns a generator for the webhook URL target, signing
// with secret.
func NewGenerator(target string, secret harness.Secret, opts ...Option) (*Generator, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("load: %w: the target must be an http:// or https:// URL", errInvalidOption)
	}
	o := newOptions(opts)
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.version, err = harness.ParseHTTPVersion(string(o.version)); err != nil {
		return nil, fmt.Errorf("load: %w: %w", errInvalidOption, err)
	}
	tr, err := newTargeter(target, secret, o)
	if err != nil {
		return nil, err
	}
	sign, err := newSigner(target, secret, o.scheme, o.clock)
	if err != nil {
		return nil, err
	}
	// As the conformance sender: no proxy, no transparent gzip, the HTTP
	// versions of HTTP_VERSION; in HTTP/1.1, as many connections kept
	// alive as vegeta opens.
	transport := dial.Transport(o.tls, o.timeout, vegeta.DefaultConnections)
	transport.TLSClientConfig.NextProtos = o.version.ALPN()
	transport.Protocols = o.version.Protocols()
	creds := redact.NewURLs(target)
	return &Generator{
		url:       redact.URL(u.String()),
		secret:    secret,
		creds:     creds,
		hidden:    append([]harness.Secret{secret}, creds.Secrets()...),
		o:         o,
		targeter:  tr,
		target:    target,
		sign:      sign,
		transport: transport,
	}, nil
}

// scrub takes the secret out of what the receiver controls in a result (the
// error, which carries a status line or a malformed answer, and the body),
// before it reaches the metrics, the report or the results file.
func (g *Generator) scrub(res *vegeta.Result) {
	res.Error = g.creds.Scrub(redact.Scrub(res.Error, g.secret))
	// Most bodies hold no secret: copy only those that do.
	if redact.Echoes(res.Body, nil, g.hidden...) {
		res.Body = []byte(g.creds.Scrub(redact.Scrub(string(res.Body), g.secret)))
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

// run is one finished attack.
type run struct {
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
	Metrics *metrics
	// Acknowledged is a uniform sample, at most the sample size, of the
	// eventIds answered 2xx; AcknowledgedTotal counts them all.
	Acknowledged      []string
	AcknowledgedTotal int
	// Interrupted is true when the context ended the attack early.
	Interrupted bool
	// schedule and pendingCap are the retries' settings.
	schedule   []time.Duration
	pendingCap int
	// Pending counts the retries still waiting when the attack ended;
	// CapDropped those not scheduled because the cap was reached.
	Pending, CapDropped int
	// Protocols are the HTTP versions the receiver answered in.
	Protocols []string
}

// sampled reports whether Acknowledged is a sample rather than every
// acknowledged event.
func (r *run) sampled() bool { return r.AcknowledgedTotal > len(r.Acknowledged) }

// load returns the run's load section (without the probe's account).
func (r *run) load() *report.Load {
	l := r.Metrics.load()
	l.Attackers = []string{r.Attacker}
	l.Rate = float64(r.Rate)
	l.Duration = harness.Duration(r.Duration)
	l.Protocols = r.Protocols
	rt := l.Retries
	rt.Enabled = len(r.schedule) > 0
	for _, d := range r.schedule {
		rt.Schedule = append(rt.Schedule, harness.Duration(d))
	}
	rt.PendingCap, rt.Pending, rt.CapDropped = r.pendingCap, r.Pending, r.CapDropped
	rt.NeverAcknowledged += r.Pending + r.CapDropped
	return l
}

// attackFor sends rate signed events per second for du, retrying those not
// acknowledged on the retry schedule (WithRetries), then waits for the
// answers and retries still due (at most retryTail), and returns the
// figures.
// Every result is passed to enc (nil: none) as it arrives, with its
// response headers dropped, its body kept only for a non-2xx answer (at
// most bodyKept bytes) and any credentials removed from its URL; nothing
// is kept, so that memory does not grow with the requests.
// The attack stops by itself: it sends at most rate × du events, none
// after du, each at most 1 + len(schedule) times, nothing after du plus
// retryTail, and stops when ctx ends (Run.Interrupted); fresh events and
// retries together stay within the rate limit. The error is a *LimitError
// (rate or du beyond the limits; nothing was sent), errTargeter (a harness
// bug) or the encoder's error; with the latter two the Run is still
// returned.
func (g *Generator) attackFor(ctx context.Context, rate int, du time.Duration, enc vegeta.Encoder) (*run, error) {
	return g.attackAt(ctx, g.o.attacker, rate, du, g.retryTail(), enc)
}

// attackAt is attackFor under another attack name (a capacity step's), with
// the retries' tail bounded by tail.
func (g *Generator) attackAt(ctx context.Context, name string, rate int, du, tail time.Duration, enc vegeta.Encoder) (*run, error) {
	if err := g.o.limits.Check(rate, du); err != nil {
		return nil, err
	}
	maxWorkers := g.maxWorkers(rate)
	return g.attack(ctx, plan{
		name:       name,
		rate:       rate,
		pacer:      vegeta.ConstantPacer{Freq: rate, Per: time.Second},
		planned:    int(math.Ceil(float64(rate) * du.Seconds())),
		duration:   du,
		workers:    uint64(math.Ceil(float64(rate) * g.o.ackDeadline.Seconds())),
		maxWorkers: maxWorkers,
		maxRate:    max(rate, g.o.limits.MaxRate),
		tail:       tail,
	}, enc)
}

// maxWorkers is how many deliveries an attack at rate may have under way.
// Each delivery holds a worker until it is answered or abandoned, so
// rate × timeout workers keep the pace against the slowest receiver;
// retries add to the rate, up to the rate limit.
func (g *Generator) maxWorkers(rate int) uint64 {
	peak := min(rate*(1+len(g.o.retries)), max(rate, g.o.limits.MaxRate))
	return uint64(peak)*uint64(math.Ceil(g.o.timeout.Seconds())) + vegeta.DefaultWorkers
}

// InFlight is how many deliveries and probe calls a load test at rate has
// under way at once against a receiver that answers each delivery within
// the ack deadline, as a compliant one does: each may hold a connection of
// its own. A slower receiver holds more, up to the attack's workers.
func (g *Generator) InFlight(rate int) int {
	return int(math.Ceil(float64(rate)*g.o.ackDeadline.Seconds())) + defaultVerifyConcurrency
}

// plan is what one attack does: pace, at most planned fresh events, for
// at most duration (retries after it for at most retryTail), with at most
// maxWorkers in flight.
type plan struct {
	name     string
	rate     int
	pacer    vegeta.Pacer
	planned  int
	duration time.Duration
	// workers start with the attack (vegeta's first ten at least): those
	// a receiver that answers within the ack deadline keeps busy. vegeta
	// adds a worker whenever all are busy and never retires one, so a
	// pause of the receiver shorter than the deadline would otherwise
	// leave the generator's goroutines, and their memory, at their high
	// mark for the rest of the attack.
	workers    uint64
	maxWorkers uint64
	// maxRate bounds fresh events and retries together, per second on
	// average; zero: no bound.
	maxRate int
	// tail is how long retries may go on after duration.
	tail time.Duration
}

func (g *Generator) attack(ctx context.Context, p plan, enc vegeta.Encoder) (*run, error) {
	acks := newReservoir(g.o.sampleSize, g.o.rand())
	retries := newRetrier(g.target, g.url, g.o.retries, g.o.pendingCap)
	protos := new(protocols)
	// The first delivery the generator could not make for want of open
	// files stops the attack: what follows would be its own failures.
	var (
		atk        *vegeta.Attacker
		outOfFiles atomic.Pointer[dial.FilesError]
	)
	ranOut := func(err error) {
		if outOfFiles.CompareAndSwap(nil, dial.RanOut(err)) {
			atk.Stop()
		}
	}
	client := &http.Client{
		// The sender timeout is the observer's, through the request's
		// context: a Client.Timeout around a RoundTripper that is not an
		// *http.Transport costs two goroutines, a timer and channels per
		// request (net/http's older way of cancelling).
		Transport: observer{next: g.transport, acks: acks, retries: retries, protos: protos, idHeader: g.idHeader(), timeout: g.o.timeout, ranOut: ranOut},
		// Redirects are never followed (README "Make variables"): the 3xx is the
		// answer, and a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var (
		tgtOnce sync.Once
		tgtErr  error
	)
	fresh := func(t *vegeta.Target) error {
		err := g.targeter(t)
		if err != nil {
			tgtOnce.Do(func() { tgtErr = err })
		}
		return err
	}
	targeter := retries.targeter(fresh, g.sign)
	atk = vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(min(max(vegeta.DefaultWorkers, p.workers), p.maxWorkers)),
		vegeta.MaxWorkers(p.maxWorkers),
		vegeta.MaxBody(bodyKept),
	)
	run := &run{Attacker: g.o.attacker, Name: p.name, Rate: p.rate, Duration: p.duration, Planned: p.planned, Began: time.Now(),
		schedule: g.o.retries, pendingCap: g.o.pendingCap}
	run.Metrics = newMetrics(run.Began, p.duration, g.o.timeout, g.o.ackDeadline)
	end := p.duration + p.tail
	pacer := &retryPacer{
		fresh: p.pacer, planned: uint64(p.planned), duration: p.duration, end: end,
		maxRate: float64(p.maxRate), r: retries, began: run.Began, stop: ctx.Done(),
	}

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
	for res := range atk.Attack(targeter, pacer, end, p.name) {
		g.settle(res, retries)
		run.Metrics.Add(res)
		retries.outstanding.Add(-1)
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
	run.Pending, run.CapDropped = retries.close()
	run.Acknowledged, run.AcknowledgedTotal = acks.sample()
	run.Protocols = protos.list()
	if fe := outOfFiles.Load(); fe != nil {
		return run, fe
	}
	if tgtErr != nil {
		return run, fmt.Errorf("%w: %w", errTargeter, tgtErr)
	}
	return run, encErr
}

// settle readies a result for the metrics and the results file: its
// error in the same words whatever the attempt, nothing secret in it, and
// its URL as results record it.
func (g *Generator) settle(res *vegeta.Result, retries *retrier) {
	n, _ := attemptOf(res.URL)
	n = min(n, len(retries.results)-1)
	if res.Error != "" && retries.frags[n] != "" {
		// Go's client names the URL in its errors: without the
		// attempt, so that an error of every attempt counts as one.
		res.Error = strings.ReplaceAll(res.Error, retries.frags[n], "")
	}
	g.scrub(res)
	res.URL = retries.results[n]
}

// retryTail is how long the generator's attacks may go on after their
// duration for retries (see retryTail).
func (g *Generator) retryTail() time.Duration { return retryTail(g.o.timeout, g.o.retries) }

// retryTail is how long an attack may go on after its duration for the
// retries of its last events, with the sender timeout and retry schedule
// given: each attempt may wait out the timeout, then the schedule's wait,
// and a second of slack for the scheduling. Zero without retries.
func retryTail(timeout time.Duration, schedule []time.Duration) time.Duration {
	if len(schedule) == 0 {
		return 0
	}
	tail := time.Second + time.Duration(len(schedule))*timeout
	for _, d := range schedule {
		tail += d
	}
	return tail
}

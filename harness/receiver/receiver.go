package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Paths the receiver serves.
const (
	// WebhookPath is where REALM delivers events.
	WebhookPath = "/webhook"
	// ProbePath is the root of the read-only probe
	// (README "The probe contract"): ProbePath+"/events/{eventId}" and
	// ProbePath+"/jobs/{jobId}".
	ProbePath = "/_probe"
	// redirectPath is where faultRedirect sends deliveries. It is not served.
	redirectPath = "/webhook/v2"
)

// Defaults of Config.
const (
	// defaultWorkers is the size of the worker pool.
	defaultWorkers = 4
	// defaultQueueSize is the capacity of the queue between acknowledgement
	// and processing: large, so that a burst waits instead of being refused.
	defaultQueueSize = 10000
	// defaultMaxBody is the largest request body accepted, 1 MiB: REALM
	// events are a few KiB, and a limit keeps one request from exhausting
	// memory.
	defaultMaxBody = 1 << 20
)

// Parameters of the faults that need one.
const (
	// dropQueueSize is the queue capacity under faultDropUnderLoad.
	dropQueueSize = 400
	// dropWorkCost is what each event costs a worker under
	// faultDropUnderLoad and faultDropWhenFull. With defaultWorkers the
	// pool handles about 80 events/s: a conformance run (a few hundred
	// events in bursts) never fills the queue, while a load run well above
	// 80/s fills it within seconds and loses what does not fit. Both sides
	// of that are tested.
	dropWorkCost = 50 * time.Millisecond
	// fullQueueSize is the queue capacity under faultDropWhenFull. With
	// defaultWorkers at dropWorkCost the pool holds 154 events and drains
	// them in under 2 s. The largest burst of a conformance run, as its
	// first checks start at once (ORD-05's 80 deliveries among them), fits
	// with room to spare; IDEM-06's volume, a sustained 200/s, gains 120
	// events a second on the workers and overflows within 1.3 s.
	fullQueueSize = 150
	// racyBacklog is how many events may wait under faultRacyState before
	// its workers take them in batches, processing each twice. Its workers
	// are faultDropWhenFull's, and the backlog the same bound on a burst.
	racyBacklog = fullQueueSize
	// racyBatch is how many events a worker takes at once under
	// faultRacyState past racyBacklog: ten per dropWorkCost, so that four
	// workers serve 800 events/s and the backlog stays near racyBacklog.
	racyBatch = 10
	// defaultDedupeWindow is how many event ids faultDedupeWindow
	// remembers when Config.DedupeWindow is zero.
	defaultDedupeWindow = 1000
	// limit100K is the body limit under faultLimit100K: body-parser's
	// default '100kb', 102,400 bytes, a body of exactly that size accepted.
	limit100K = 100 << 10
	// slowAckSlots is how many deliveries faultSlowAck processes at once
	// when Config.AckSlots is zero: at the real SlowAck of 1.5 s each,
	// about 42 deliveries/s. A conformance run stays below it; a load run
	// above that rate waits for slots, and its latency climbs.
	slowAckSlots = 64
	// flakyShare is the share of first deliveries faultFlaky refuses with
	// 503: every flakyEvery-th, counted, so the share is exact.
	flakyShare = 1.0 / flakyEvery
	// flakyEvery is 1/flakyShare.
	flakyEvery = 10
	// noSizeLimitCap bounds what faultNoSizeLimit reads, only so that a
	// runaway test cannot exhaust the machine; it is far above every limit
	// the suite probes.
	noSizeLimitCap = 64 << 20
)

// errNoSecret is returned (wrapped) by New when Config has no secret or an
// empty one.
var errNoSecret = errors.New("no signing secret")

// Config configures a Receiver. Only Secrets is required.
type Config struct {
	// Secrets are the signing secrets accepted; several during a rotation.
	Secrets []harness.Secret
	// Scheme is the signing scheme verified (README "Signing schemes");
	// nil is REALM v1. Its tolerance replaces Tolerance.
	Scheme *signing.Scheme
	// Verify, when set, authenticates each delivery instead of the
	// receiver's own check, e.g. with a provider's official library; the
	// signature faults do not apply to it.
	Verify func(h http.Header, body []byte) error
	// Faults are the bugs to plant; none makes a correct receiver.
	Faults []Fault
	// Tolerance is the largest accepted |now - t|; zero means
	// harness.DefaultTolerance (300 s).
	Tolerance time.Duration
	// Workers is the number of goroutines processing events; zero means
	// defaultWorkers.
	Workers int
	// QueueSize is the capacity of the queue of acknowledged events waiting
	// for a worker; zero means defaultQueueSize, or dropQueueSize under
	// faultDropUnderLoad, fullQueueSize under faultDropWhenFull.
	QueueSize int
	// MaxBody is the largest accepted request body in bytes; zero means
	// defaultMaxBody, or limit100K under faultLimit100K.
	MaxBody int64
	// DedupeWindow is how many event ids faultDedupeWindow remembers; zero
	// means defaultDedupeWindow. Without that fault it is not used: the
	// correct receiver remembers every id.
	DedupeWindow int
	// ProbeToken, when set, is the bearer token the probe requires.
	ProbeToken harness.Secret
	// Clock gives the time signatures are checked against; nil means the
	// system clock.
	Clock harness.Clock
	// Timing is the run's timing, from which the faults that wait
	// (slow-ack, slow-model-ack, racy-dedupe, dedupe-expiry) derive their
	// delays (delaysFor); zero fields take harness.DefaultTiming's.
	Timing harness.Timing
	// Delays overrides the delays derived from Timing, field by
	// field: a zero field keeps the derived one.
	Delays Delays
	// AckSlots is how many deliveries faultSlowAck (or faultSlowModelAck)
	// processes at once; a delivery that finds every slot taken waits for
	// one, and gives up with 503 when its client goes or the receiver
	// closes. Zero means slowAckSlots. Without those faults it is not used.
	AckSlots int
	// Lag, when set, processes each acknowledged event that long after
	// acknowledging it, each on its own timer: a correct receiver whose
	// asynchronous worker is slow, as the contract allows (raise the
	// settle time to certify it).
	Lag time.Duration
	// Logger receives one line per delivery and per refusal; nil is silent.
	// Secrets and signatures never reach it.
	Logger *slog.Logger
}

// receiver is the reference REALM webhook receiver, an http.Handler serving
// the webhook at WebhookPath and the probe under ProbePath. Create it with
// New and stop its workers with Close.
type receiver struct {
	verifier   signing.Verifier
	scheme     *signing.Scheme
	verifyHook func(http.Header, []byte) error
	keys       [][]byte // the secrets as the scheme's keys
	secrets    []harness.Secret
	faults     map[Fault]bool
	maxBody    int64
	probeToken harness.Secret
	clock      harness.Clock
	log        *slog.Logger
	mux        *http.ServeMux

	store *store
	rules rules
	pool  *pool

	// slowAck and racyWindow are the delays of the faults that wait;
	// dedupeTTL is how long faultDedupeExpiry keeps a dedupe record.
	slowAck, racyWindow, dedupeTTL time.Duration
	lag                            time.Duration
	// dedupeWindow is how many ids faultDedupeWindow remembers.
	dedupeWindow int
	// ackSlots holds a token per delivery faultSlowAck or
	// faultSlowModelAck is processing; nil without those faults.
	ackSlots chan struct{}
}

// New returns a receiver configured by cfg, its workers running. It fails
// with errNoSecret without a usable secret and with errUnknownFault for a
// fault that does not exist.
func New(cfg Config) (*receiver, error) {
	if len(cfg.Secrets) == 0 {
		return nil, fmt.Errorf("receiver: %w: give at least one secret", errNoSecret)
	}
	for i, s := range cfg.Secrets {
		if s.Reveal() == "" {
			return nil, fmt.Errorf("receiver: %w: secret %d is empty", errNoSecret, i)
		}
	}
	if sc := cfg.Scheme; sc != nil {
		for i, s := range cfg.Secrets {
			if _, err := sc.KeyOf(s); err != nil {
				return nil, fmt.Errorf("receiver: secret %d: %w", i, err)
			}
		}
	}
	faults := make(map[Fault]bool, len(cfg.Faults))
	for _, f := range cfg.Faults {
		pf, err := ParseFault(string(f))
		if err != nil {
			return nil, err
		}
		faults[pf] = true
	}
	var workCost time.Duration
	switch {
	case faults[faultDropUnderLoad]:
		workCost = dropWorkCost
		if cfg.QueueSize <= 0 {
			cfg.QueueSize = dropQueueSize
		}
	case faults[faultDropWhenFull]:
		workCost = dropWorkCost
		if cfg.QueueSize <= 0 {
			cfg.QueueSize = fullQueueSize
		}
	case faults[faultRacyState]:
		workCost = dropWorkCost
	}
	if faults[faultLimit100K] && cfg.MaxBody <= 0 {
		cfg.MaxBody = limit100K
	}
	return newReceiver(cfg, faults, workCost), nil
}

// newReceiver builds the receiver from a checked cfg, filling in defaults;
// workCost is how long each event occupies a worker (tests use it to fill
// the queue).
func newReceiver(cfg Config, faults map[Fault]bool, workCost time.Duration) *receiver {
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = harness.DefaultTolerance
	}
	if cfg.Workers <= 0 {
		cfg.Workers = defaultWorkers
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = defaultQueueSize
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = defaultMaxBody
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = defaultDedupeWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Timing = cfg.Timing.WithDefaults()
	delays := cfg.Delays.over(delaysFor(cfg.Timing))
	secrets := append([]harness.Secret(nil), cfg.Secrets...)
	var keys [][]byte
	if cfg.Scheme != nil {
		for _, s := range secrets {
			k, _ := cfg.Scheme.KeyOf(s) // New checked them
			keys = append(keys, k)
		}
	}
	r := &receiver{
		verifier:   signing.Verifier{Secrets: secrets, Tolerance: cfg.Tolerance, Clock: cfg.Clock},
		scheme:     cfg.Scheme,
		verifyHook: cfg.Verify,
		keys:       keys,
		secrets:    secrets,
		faults:     faults,
		maxBody:    cfg.MaxBody,
		probeToken: cfg.ProbeToken,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		store:      newStore(),
		slowAck:    delays.SlowAck,
		racyWindow: delays.RacyWindow,
		dedupeTTL:  delays.DedupeTTL,
		lag:        cfg.Lag,

		dedupeWindow: cfg.DedupeWindow,
	}

	if faults[faultSlowAck] || faults[faultSlowModelAck] {
		slots := cfg.AckSlots
		if slots <= 0 {
			slots = slowAckSlots
		}
		r.ackSlots = make(chan struct{}, slots)
	}

	r.rules = rules{lastWriteWins: faults[faultLastWriteWins], knownJobsOnly: faults[faultIgnoreUnseenJob],
		modelLastWriteWins: faults[faultModelLastWriteWins], terminalReplaces: faults[faultNoTerminalGuard]}
	var batchOver int
	if faults[faultRacyState] {
		batchOver = racyBacklog
	}
	r.pool = startPool(cfg.Workers, cfg.QueueSize, workCost, batchOver, func(ev event) {
		r.store.process(ev, r.rules)
	})
	r.mux = http.NewServeMux()
	r.mux.HandleFunc(WebhookPath, r.serveWebhook)
	r.mux.HandleFunc("GET "+ProbePath+"/events/{eventId}", r.authorize(r.probeEvent))
	r.mux.HandleFunc("GET "+ProbePath+"/jobs/{jobId}", r.authorize(r.probeJob))
	return r
}

// String describes the receiver without its secrets: fmt cannot call the
// secrets' own String on unexported fields, so %+v of the struct would
// print them.
func (r *receiver) String() string {
	var names []string
	for f := range r.faults {
		names = append(names, string(f))
	}
	slices.Sort(names)
	return "receiver.Receiver(faults: " + strings.Join(names, ",") + ")"
}

// GoString is String, for %#v.
func (r *receiver) GoString() string { return r.String() }

// ServeHTTP implements http.Handler.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mux.ServeHTTP(w, req)
}

// Close stops the worker pool and waits for its goroutines to end. Events
// still queued are not processed. It is safe to call more than once; a
// correct receiver answers 503 to deliveries that arrive after it, so REALM
// retries them elsewhere or later.
func (r *receiver) Close() {
	r.pool.close()
}

// TimesProcessed returns how many times the business logic ran for eventID,
// 0 if it never did. It is what the probe reports.
func (r *receiver) TimesProcessed(eventID string) int {
	n, _ := r.store.timesProcessed(eventID)
	return n
}

// JobStatus returns the state the receiver holds for jobID, and false for a
// job it never saw. It is what the probe reports.
func (r *receiver) JobStatus(jobID string) (string, bool) {
	return r.store.jobStatus(jobID)
}

// serveWebhook handles one delivery. The order of the steps is the lesson:
// refuse what is not a delivery, bound the body, authenticate the raw bytes
// before parsing them, parse tolerantly, claim the event id atomically,
// queue the work and acknowledge at once.
func (r *receiver) serveWebhook(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && !r.faults[faultAcceptAnyMethod] {
		w.Header().Set("Allow", http.MethodPost)
		r.answer(w, req, http.StatusMethodNotAllowed, "method not allowed", "", "")
		return
	}
	if r.faults[faultRedirect] {
		r.logDelivery(req, http.StatusTemporaryRedirect, "", "redirected")
		http.Redirect(w, req, redirectPath, http.StatusTemporaryRedirect)
		return
	}

	body, status, err := r.readBody(w, req)
	if err != nil {
		r.answer(w, req, status, http.StatusText(status), "", err.Error())
		return
	}
	if r.faults[faultSplitUTF8] {
		body = splitDecode(body)
	}

	// claimed is the event id faultMarkBeforeVerify recorded from the
	// unverified body.
	var claimed string
	if r.faults[faultMarkBeforeVerify] {
		if id := unverifiedID(body); id != "" {
			if !r.store.claim(id) {
				r.answer(w, req, http.StatusOK, "", id, "duplicate (not verified)")
				return
			}
			claimed = id
		}
	}

	header := req.Header.Get(harness.HeaderSignature)
	signed := body
	if r.faults[faultVerifyReparsed] {
		if re, err := reserialize(body); err == nil {
			signed = re
		}
	}
	if err := r.verify(req.Header, signed); err != nil {
		if r.faults[faultProcessRejected] || r.faults[faultProcessStale] && isStale(err) {
			if ev, perr := parseEvent(body, false, false); perr == nil {
				r.store.process(ev, r.rules)
			}
		}
		r.rejectSignature(w, req, header, body, err)
		return
	}

	ev, err := parseEvent(body, r.faults[faultRejectUnknownType], r.faults[faultStrictFields])
	if err != nil {
		if r.faults[faultCrashOnMalformed] && errors.Is(err, errMalformed) {
			// What a handler that dereferences fields it never checked
			// does when nothing recovers it: net/http's server drops
			// the request unanswered.
			r.logDelivery(req, 0, "", "crashed on a malformed event")
			panic(http.ErrAbortHandler)
		}
		status := http.StatusBadRequest
		if r.faults[fault500OnMalformed] && errors.Is(err, errMalformed) {
			// What a handler that dereferences fields it never checked
			// ends up answering.
			status = http.StatusInternalServerError
		}
		r.answer(w, req, status, "invalid event", "", err.Error())
		return
	}

	if r.faults[faultFlaky] {
		refuse, held := r.store.firstDelivery(ev.ID, flakyEvery)
		if refuse {
			r.answer(w, req, http.StatusServiceUnavailable, "service unavailable", ev.ID, "first delivery refused (flaky)")
			return
		}
		if held {
			defer r.store.arrived(ev.ID)
		}
	}

	key, fresh := claimed, true
	if claimed == "" {
		key, fresh = r.dedupe(ev, req.Header)
	}
	if !fresh {
		if r.faults[fault500OnDuplicate] {
			r.answer(w, req, http.StatusInternalServerError, "event already exists", ev.ID, "duplicate")
			return
		}
		// Already have it: acknowledge, so REALM stops retrying.
		r.answer(w, req, http.StatusOK, "", ev.ID, "duplicate")
		return
	}

	r.handOver(w, req, ev, key, body)
}

// handOver acknowledges the new event ev, claimed under key, and hands it
// to its processing: the worker pool, or what a planted fault does
// instead. An event the receiver has no room for is refused 503, never
// dropped.
func (r *receiver) handOver(w http.ResponseWriter, req *http.Request, ev event, key string, body []byte) {
	if r.faults[faultSlowAck] || r.faults[faultSlowModelAck] && strings.HasPrefix(ev.Type, "model.") {
		if !r.takeSlot(req.Context()) {
			r.busy(w, req, key, ev.ID, "no slot free before the client or the receiver went")
			return
		}
		r.pool.sleep(r.slowAck)
		r.store.process(ev, r.rules)
		<-r.ackSlots
		r.answer(w, req, http.StatusOK, "", ev.ID, "processed before acknowledging")
		return
	}

	if r.faults[faultDropModelEvents] && strings.HasPrefix(ev.Type, "model.") {
		r.answer(w, req, http.StatusAccepted, "", ev.ID, "queued: dropped, the worker never processes model events")
		return
	}
	if reason := r.dropped(ev, body); reason != "" {
		r.answer(w, req, http.StatusAccepted, "", ev.ID, reason)
		return
	}

	if r.lag > 0 {
		time.AfterFunc(r.lag, func() { r.store.process(ev, r.rules) })
		r.answer(w, req, http.StatusAccepted, "", ev.ID, "queued")
		return
	}

	if !r.pool.submit(ev) {
		if r.faults[faultDropUnderLoad] || r.faults[faultDropWhenFull] {
			r.answer(w, req, http.StatusAccepted, "", ev.ID, "queue full: dropped")
			return
		}
		// Never drop an acknowledged event. Refuse it instead.
		r.busy(w, req, key, ev.ID, "queue full")
		return
	}
	r.answer(w, req, http.StatusAccepted, "", ev.ID, "queued")
}

// busy refuses with 503 a delivery the receiver has no room for, and
// forgets its claim on key ("" when none was made), so that REALM's retry
// is processed rather than taken for a duplicate.
func (r *receiver) busy(w http.ResponseWriter, req *http.Request, key, eventID, reason string) {
	if key != "" {
		r.store.release(key)
	}
	w.Header().Set("Retry-After", "1")
	r.answer(w, req, http.StatusServiceUnavailable, "busy, retry later", eventID, reason)
}

// takeSlot waits for one of faultSlowAck's slots and reports whether it
// got one: false when ctx ends first (the client went) or the receiver
// closes. A slot that comes free as either happens is not taken.
func (r *receiver) takeSlot(ctx context.Context) bool {
	select {
	case r.ackSlots <- struct{}{}:
	case <-ctx.Done():
		return false
	case <-r.pool.done:
		return false
	}
	select {
	case <-ctx.Done():
	case <-r.pool.done:
	default:
		return true
	}
	<-r.ackSlots
	return false
}

// readBody reads the request body within the size limit. On failure it
// returns the status to answer and why.
func (r *receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, int, error) {
	if r.faults[faultTrustContentLength] && req.ContentLength < 0 {
		body, err := io.ReadAll(io.LimitReader(req.Body, noSizeLimitCap))
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
		}
		return body, 0, nil
	}
	if r.faults[faultNoSizeLimit] {
		body, err := io.ReadAll(io.LimitReader(req.Body, noSizeLimitCap))
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
		}
		if int64(len(body)) > r.maxBody {
			return nil, http.StatusInternalServerError, fmt.Errorf("body of %d bytes over the limit of %d, found after reading it", len(body), r.maxBody)
		}
		return body, 0, nil
	}
	// Refuse a declared oversize body before reading a byte of it, and cap
	// what is read when the size is not declared (chunked) or lies.
	if req.ContentLength > r.maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("declared body of %d bytes over the limit of %d", req.ContentLength, r.maxBody)
	}
	read := io.ReadAll
	if r.faults[faultDecodeChunks] {
		read = decodeChunks
	}
	body, err := read(http.MaxBytesReader(w, req.Body, r.maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over the limit of %d", r.maxBody)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
	}
	return body, 0, nil
}

// verify authenticates body against the signature header. It is
// the REALM v1 check taken apart so that the signature faults can be
// planted one step at a time: parse, match any v1 under any secret in
// constant time, then check the age of t.
func (r *receiver) verify(h http.Header, body []byte) error {
	if r.verifyHook != nil {
		return r.verifyHook(h, body)
	}
	if r.faults[faultSkipVerify] || r.faults[faultModelSkipVerify] && strings.HasPrefix(unverifiedType(body), "model.") {
		return nil
	}
	if err := r.strictHeader(h); err != nil {
		return err
	}
	if done, err := r.verifyMixed(h, body); done {
		return err
	}
	if r.scheme != nil {
		return r.verifyScheme(h, body)
	}
	sig, err := signing.ParseHeader(h.Get(harness.HeaderSignature))
	if err != nil {
		return err
	}
	if r.faults[faultFirstSignatureOnly] {
		sig.V1 = sig.V1[:1]
	}
	if r.faults[faultLastSignatureOnly] {
		sig.V1 = sig.V1[len(sig.V1)-1:]
	}
	if !r.verifier.Match(sig, body) {
		return signing.ErrNoMatch
	}
	if r.faults[faultNoTolerance] || r.trustsRetry(h) {
		return nil
	}
	return r.verifier.Fresh(sig)
}

// trustsRetry reports whether faultTrustRetries skips the age check: the
// delivery says it is a retry.
func (r *receiver) trustsRetry(h http.Header) bool {
	if !r.faults[faultTrustRetries] {
		return false
	}
	n, err := strconv.Atoi(h.Get(harness.HeaderAttempt))
	return err == nil && n > 1
}

// verifyScheme is verify for a scheme other than the built-in REALM v1
// path, with the signature faults that the scheme can express.
func (r *receiver) verifyScheme(h http.Header, body []byte) error {
	sc := r.scheme
	if r.faults[faultFirstSignatureOnly] && sc.Signature.Separator != "" {
		// Only the first signature entry is looked at.
		parts := strings.Split(h.Get(sc.Signature.Header), sc.Signature.Separator)
		keep := 1
		if sc.Signature.TimestampEntry != "" {
			keep = 2
		}
		h = h.Clone()
		h.Set(sc.Signature.Header, strings.Join(parts[:min(keep, len(parts))], sc.Signature.Separator))
	}
	if r.faults[faultLastSignatureOnly] && sc.Signature.Separator != "" {
		h = lastSignature(sc, h)
	}
	now := r.clock.Now()
	if r.faults[faultNoTolerance] || r.trustsRetry(h) {
		now = time.Time{}
	}
	return sc.Verify(r.keys, h, body, now)
}

// rejectSignature answers a delivery whose signature failed. The body says
// only that the signature is invalid: which part failed, and above all the
// expected signature, would help an attacker more than a legitimate sender.
func (r *receiver) rejectSignature(w http.ResponseWriter, req *http.Request, header string, body []byte, cause error) {
	status := http.StatusUnauthorized
	if r.faults[fault5xxOnBadSignature] {
		status = http.StatusInternalServerError
	}
	if r.faults[faultLeakSignature] {
		r.logDelivery(req, status, "", cause.Error())
		var expected string
		if sc := r.scheme; sc == nil {
			expected = "v1=" + signing.Sign(r.secrets[0], r.leakTimestamp(header), body)
		} else {
			t, ok := sc.SignedTime(req.Header)
			if !ok {
				t = r.clock.Now().Unix()
			}
			d := signing.Delivery{ID: req.Header.Get(sc.IDHeader()), T: t, Body: body}
			if d.ID == "" {
				d.ID = unverifiedID(body)
			}
			expected = strings.Replace(sc.Signature.Entry, "{signature}", sc.Sign(r.keys[0], d), 1)
		}
		writeJSON(w, status, map[string]string{
			"error":    "signature mismatch",
			"expected": expected,
		})
		return
	}
	r.answer(w, req, status, "invalid signature", "", cause.Error())
}

// leakTimestamp finds the t of a header, however malformed, for
// faultLeakSignature; without one it uses the current time.
func (r *receiver) leakTimestamp(header string) int64 {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			if t, err := strconv.ParseInt(v, 10, 64); err == nil {
				return t
			}
		}
	}
	return r.clock.Now().Unix()
}

// dedupe claims ev, delivered with the headers h, and reports whether it
// is new; key is what was claimed, "" when nothing was (faultDoubleProcess).
func (r *receiver) dedupe(ev event, h http.Header) (key string, fresh bool) {
	key = ev.ID
	switch idh := r.idHeader(); {
	case r.faults[faultDedupeByJob] && ev.JobID != "":
		key = ev.JobID + "\x00" + ev.Type
	case r.faults[faultDedupeByHeader] && idh != "" && h.Get(idh) != "":
		key = h.Get(idh)
	}
	switch {
	case r.faults[faultDedupeExpiry]:
		return key, r.store.claimFor(key, r.dedupeTTL)
	case r.faults[faultDedupeWindow]:
		return key, r.store.claimWithin(key, r.dedupeWindow)
	case r.faults[faultDoubleProcess], r.faults[faultModelNoDedupe] && strings.HasPrefix(ev.Type, "model."):
		return "", true
	case r.faults[faultRacyDedupe]:
		if r.store.isSeen(key) {
			return key, false
		}
		// Stands for the database round trip between SELECT and INSERT.
		r.pool.sleep(r.racyWindow)
		r.store.markSeen(key)
		return key, true
	default:
		return key, r.store.claim(key)
	}
}

// answer writes a small JSON response, {"error":msg} for 4xx and 5xx and
// {"status":...} otherwise, and logs the delivery.
func (r *receiver) answer(w http.ResponseWriter, req *http.Request, status int, msg, eventID, reason string) {
	v := map[string]string{}
	switch {
	case status >= 400:
		v["error"] = msg
	case status == http.StatusAccepted:
		v["status"] = "accepted"
	default:
		v["status"] = "ok"
	}
	r.logDelivery(req, status, eventID, reason)
	writeJSON(w, status, v)
}

// logDelivery logs one answered delivery.
func (r *receiver) logDelivery(req *http.Request, status int, eventID, reason string) {
	r.log.Info("webhook",
		slog.String("method", req.Method),
		slog.Int("status", status),
		slog.String("eventId", eventID),
		slog.String("attempt", req.Header.Get(harness.HeaderAttempt)),
		slog.String("reason", reason),
	)
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// idHeader is the header that carries the event id in the verified scheme,
// "" when it has none.
func (r *receiver) idHeader() string {
	if r.scheme == nil {
		return harness.HeaderID
	}
	return r.scheme.IDHeader()
}

// realmV1 is REALM v1 as a scheme, for the faults that read any scheme's
// header the same way.
var realmV1 = func() *signing.Scheme {
	sc, err := signing.Builtin(signing.DefaultScheme)
	if err != nil {
		panic(err) // embedded in the binary: a broken build
	}
	return sc
}()

// schemeAndKeys are the verified scheme, REALM v1 included, and the
// secrets as its keys.
func (r *receiver) schemeAndKeys() (*signing.Scheme, [][]byte) {
	if r.scheme != nil {
		return r.scheme, r.keys
	}
	keys := make([][]byte, len(r.secrets))
	for i, s := range r.secrets {
		keys[i] = []byte(s.Reveal())
	}
	return realmV1, keys
}

// strictHeader is faultStrictHeader: every entry of the signature header
// must be a timestamp or a signature of the scheme.
func (r *receiver) strictHeader(h http.Header) error {
	if !r.faults[faultStrictHeader] {
		return nil
	}
	sc, _ := r.schemeAndKeys()
	if sc.Signature.Separator == "" {
		return nil
	}
	sigPrefix, _, _ := strings.Cut(sc.Signature.Entry, "{signature}")
	tPrefix, _, _ := strings.Cut(sc.Signature.TimestampEntry, "{t}")
	for _, part := range strings.Split(h.Get(sc.Signature.Header), sc.Signature.Separator) {
		if !strings.HasPrefix(part, sigPrefix) && (tPrefix == "" || !strings.HasPrefix(part, tPrefix)) {
			return fmt.Errorf("%w: unknown entry %q", signing.ErrMalformed, part)
		}
	}
	return nil
}

// verifyMixed is faultMixedTimestamps for a header with several timestamp
// entries: the signature may match under any of them, and the age is
// taken from the last. done is false when the fault does not apply, and
// the normal check decides.
func (r *receiver) verifyMixed(h http.Header, body []byte) (done bool, err error) {
	if !r.faults[faultMixedTimestamps] {
		return false, nil
	}
	sc, keys := r.schemeAndKeys()
	if sc.Signature.TimestampEntry == "" {
		return false, nil
	}
	tPrefix, _, _ := strings.Cut(sc.Signature.TimestampEntry, "{t}")
	var ts, rest []string
	for _, part := range strings.Split(h.Get(sc.Signature.Header), sc.Signature.Separator) {
		if strings.HasPrefix(part, tPrefix) {
			ts = append(ts, part)
		} else {
			rest = append(rest, part)
		}
	}
	if len(ts) < 2 {
		return false, nil
	}
	one := h.Clone()
	matched := false
	for _, t := range ts {
		one.Set(sc.Signature.Header, strings.Join(append([]string{t}, rest...), sc.Signature.Separator))
		matched = matched || sc.Verify(keys, one, body, time.Time{}) == nil
	}
	if !matched {
		return true, signing.ErrNoMatch
	}
	one.Set(sc.Signature.Header, strings.Join(append([]string{ts[len(ts)-1]}, rest...), sc.Signature.Separator))
	last, _ := sc.SignedTime(one)
	if age := r.clock.Now().Sub(time.Unix(last, 0)); age > sc.Tolerance() || age < -sc.Tolerance() {
		return true, signing.ErrTooOld
	}
	return true, nil
}

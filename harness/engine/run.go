package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/figure"
	"github.com/realm-ai/hookcert/harness/poll"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/signing"
)

// maxEvidence bounds the exchanges kept per check, so a large scenario does
// not make a report unreadable.
const maxEvidence = 80

// run is the state of one scenario run: the events sent so far by name, the
// jobs by alias, the lifecycles delivered, and what was observed.
type run struct {
	e  *Engine
	sc *scenario.Scenario
	// ledger is the whole run's, which every delivery is written into
	// and final checks judge.
	ledger *ledger

	mu       sync.Mutex
	evidence []harness.Exchange
	dropped  int
	obs      []observation
	notes    []string
	info     []string
	warn     string

	events     map[string]*sent
	groups     map[string][]member
	jobs       map[string]string
	lifecycles map[string][]lifecycle
	background sync.WaitGroup

	// outcomes says how each step that ran ended, and whether the run's
	// end cut the check short; verdict reads them.
	outcomes []outcome
	// gone names the events of the steps left out.
	gone map[string]bool
	// lag is the longest processing lag the probe saw for an event
	// delivered once: a late event gets twice as long (probe.AwaitLate).
	lag time.Duration
	// contacts are all the check's exchanges, the evidence's cap aside,
	// for the availability check's outage to be compared with.
	contacts []contact
}

// member is one event of a step that sent several under one name (each:
// catalogue, repeat), and whether a copy of it was acknowledged 2xx.
type member struct {
	ev    harness.Event
	acked bool
}

// sent is an event a step delivered, with its last attempt for replays.
type sent struct {
	ev   harness.Event
	last harness.Exchange
	// first is when the event was first delivered; redelivered says it
	// was delivered again since.
	first       time.Time
	redelivered bool
}

// lifecycle is one job of a Lifecycles step and the state it must end in.
type lifecycle struct {
	jobID string
	final string
}

func newRun(e *Engine, sc *scenario.Scenario, l *ledger) *run {
	return &run{
		e: e, sc: sc, ledger: l,
		events:     map[string]*sent{},
		groups:     map[string][]member{},
		jobs:       map[string]string{},
		lifecycles: map[string][]lifecycle{},
		gone:       map[string]bool{},
	}
}

func (r *run) steps(ctx context.Context) {
	defer func() {
		r.background.Wait()
		// A delivery the run's end cancelled says nothing of the receiver:
		// the check was cut short, whatever its steps observed.
		if ctx.Err() != nil && slices.ContainsFunc(r.evidence, func(ex harness.Exchange) bool { return ex.Failure == harness.FailureCanceled }) {
			r.outcomes = append(r.outcomes, outcome{kind: stepInterrupted})
		}
	}()
	for i := 0; i < len(r.sc.Steps); i++ {
		if ctx.Err() != nil {
			r.outcomes = append(r.outcomes, outcome{kind: stepInterrupted})
			return
		}
		used, err := r.step(ctx, i)
		o := r.outcomeOf(ctx, i+1, r.sc.Steps[i], err)
		r.outcomes = append(r.outcomes, o)
		if o.ends() {
			return
		}
		i += used - 1
	}
}

// step carries out the step at index i, and the probe steps after it that
// wait together with it; it returns how many steps it carried out.
func (r *run) step(ctx context.Context, i int) (int, error) {
	st, n := r.sc.Steps[i], i+1
	switch {
	case st.Probe != nil && !r.gone[st.Probe.Event] && r.e.cfg.Probe != nil:
		// Consecutive probe steps of one kind wait together: each
		// polls for up to the settle time, and none depends on
		// another (a job's state is asked after its events).
		group := r.probeGroupAt(i)
		r.background.Wait()
		return len(group), r.probeAll(ctx, i, group)
	case st.Send != nil:
		return 1, r.send(ctx, n, st.Send, st.Expect)
	case st.Lifecycles != nil:
		return 1, r.deliverLifecycles(ctx, n, st.Lifecycles, st.Expect)
	case st.Pause != nil:
		return 1, r.pause(ctx, n, st.Pause)
	case st.Probe != nil && r.gone[st.Probe.Event]:
		r.note("step %d (probe) left out: its event was not sent", n)
		return 1, nil
	case st.Probe != nil:
		r.background.Wait()
		return 1, r.probe(ctx, n, st.Probe)
	case st.TLS != nil:
		return 1, r.tls(ctx, n, st.TLS)
	case st.Ledger != nil && st.Ledger.Processed:
		return 1, r.judgeProcessed(ctx, n)
	case st.Ledger != nil && st.Ledger.Availability:
		return 1, r.judgeAvailability(n)
	case st.Ledger != nil:
		return 1, r.judgeAckTimes(n)
	}
	return 1, fmt.Errorf("step %d does nothing", n)
}

func (r *run) observe(o observation) {
	r.mu.Lock()
	r.obs = append(r.obs, o)
	r.mu.Unlock()
}

func (r *run) note(format string, args ...any) {
	r.mu.Lock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *run) record(ex ...harness.Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range ex {
		r.contacts = append(r.contacts, contactOf(x))
		if len(r.evidence) >= maxEvidence {
			r.dropped++
			if r.dropped == 1 {
				r.notes = append(r.notes, fmt.Sprintf("evidence is capped at %d exchanges per check; later ones are left out", maxEvidence))
			}
			continue
		}
		r.evidence = append(r.evidence, x)
	}
}

// touch keeps an exchange the evidence leaves out as a contact of the
// check.
func (r *run) touch(ex harness.Exchange) {
	r.mu.Lock()
	r.contacts = append(r.contacts, contactOf(ex))
	r.mu.Unlock()
}

// jobID returns the jobId of a job alias, making one on first use.
func (r *run) jobID(alias string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.jobs[alias]; ok {
		return id
	}
	id := r.e.cfg.Factory.NewID("job")
	r.jobs[alias] = id
	return id
}

// build makes a new event from a Build description.
func (r *run) build(b *scenario.Build, eventType string) (harness.Event, error) {
	var opts []events.EventOption
	if b.Job != "" {
		opts = append(opts, events.JobID(r.jobID(b.Job)))
	}
	if b.Extra {
		opts = append(opts, events.Extra())
	}
	if b.Results > 0 {
		opts = append(opts, events.Results(b.Results))
	}
	for path, v := range b.Set {
		opts = append(opts, events.Set(path, v))
	}
	if b.Unknown {
		return r.e.cfg.Factory.Unknown(eventType, opts...)
	}
	return r.e.cfg.Factory.New(eventType, opts...)
}

// send carries out a Send step.
func (r *run) send(ctx context.Context, n int, s *scenario.Send, exp *scenario.Expect) error {
	types := []string{""}
	if s.Each == "catalogue" {
		types = harness.EventTypes()
	}
	repeat := max(s.Repeat, 1)
	total, sent := len(types)*repeat, 0
	for _, typ := range types {
		for range repeat {
			err := r.sendOne(ctx, n, s, exp, typ)
			sent++
			if errors.Is(err, errUnanswered) {
				if sent < total {
					r.note("step %d stopped after delivery %d of %d, which got no answer within the sender timeout", n, sent, total)
				}
				return err
			}
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

// probeGroupAt returns the probe steps from index i on that can wait
// together: consecutive, of the same kind (events, a job's state,
// lifecycles), their events sent.
func (r *run) probeGroupAt(i int) []*scenario.ProbeCheck {
	kind := func(p *scenario.ProbeCheck) int {
		switch {
		case p.Event != "":
			return 0
		case p.Job != "":
			return 1
		}
		return 2
	}
	first := r.sc.Steps[i].Probe
	var group []*scenario.ProbeCheck
	for _, st := range r.sc.Steps[i:] {
		if st.Probe == nil || r.gone[st.Probe.Event] || kind(st.Probe) != kind(first) {
			break
		}
		group = append(group, st.Probe)
	}
	return group
}

// probeAll carries out the probe steps from index i on at the same time,
// and returns the first error.
func (r *run) probeAll(ctx context.Context, i int, group []*scenario.ProbeCheck) error {
	errs := make([]error, len(group))
	var wg sync.WaitGroup
	for k, p := range group {
		wg.Go(func() { errs[k] = r.probe(ctx, i+k+1, p) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// errUnanswered is sendOne's word that its delivery got no answer at all,
// or one that did not end within the sender timeout.
var errUnanswered = errors.New("no answer")

// stalled reports whether ex got no answer (not by the sender's choice), or
// an answer that did not end within the sender timeout (a body that
// trickles): either way the next delivery would wait as long again.
func stalled(ex harness.Exchange) bool {
	return !ex.Abandoned && (ex.Response == nil || ex.Failure == harness.FailureTimeout)
}

func (r *run) sendOne(ctx context.Context, n int, s *scenario.Send, exp *scenario.Expect, eventType string) error {
	var ev harness.Event
	var prev *sent
	switch {
	case s.Event != "":
		r.mu.Lock()
		prev = r.events[s.Event]
		r.mu.Unlock()
		if prev == nil {
			return fmt.Errorf("event %q is not defined by an earlier step", s.Event)
		}
		ev = prev.ev
	case s.Build != nil:
		typ := s.Build.Type
		if eventType != "" {
			typ = eventType
		}
		var err error
		if ev, err = r.build(s.Build, typ); err != nil {
			return fmt.Errorf("building %s: %w", typ, err)
		}
	default:
		return errors.New("send names no event and builds none")
	}
	a, what, err := r.attempt(s, ev, prev)
	if err != nil {
		return err
	}
	copies := max(s.Copies, 1)
	unanswered := false
	deliver := func() {
		exs := make([]harness.Exchange, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				exs[i] = r.e.cfg.Sender.Send(ctx, a)
			}()
		}
		wg.Wait()
		r.record(exs...)
		for _, ex := range exs {
			r.ledger.delivered(r.sc.ID, ev, a.Body, ex, false)
		}
		for _, ex := range exs {
			r.expect(n, what, exp, ex, a)
			unanswered = unanswered || stalled(ex)
		}
		if s.As != "" || prev != nil {
			name := s.As
			if name == "" {
				name = s.Event
			}
			r.mu.Lock()
			next := &sent{ev: ev, last: exs[0], first: exs[0].Start}
			if old := r.events[name]; old != nil && old.ev.ID == ev.ID && !old.first.IsZero() {
				next.first, next.redelivered = old.first, true
			}
			r.events[name] = next
			if s.As != "" && (s.Each == "catalogue" || s.Repeat > 1) {
				acked := slices.ContainsFunc(exs, harness.Exchange.OK)
				r.groups[s.As] = append(r.groups[s.As], member{ev: ev, acked: acked})
			}
			r.mu.Unlock()
		}
	}
	if s.Background {
		// Name the event now so later steps can refer to it while the
		// delivery is still under way.
		if s.As != "" {
			r.mu.Lock()
			if r.events[s.As] == nil {
				r.events[s.As] = &sent{ev: ev}
			}
			r.mu.Unlock()
		}
		r.background.Add(1)
		go func() {
			defer r.background.Done()
			deliver()
		}()
		// Give the background delivery a head start so the next step
		// overlaps it rather than racing it to the connection.
		_ = poll.Sleep(ctx, 5*time.Millisecond)
		return nil
	}
	deliver()
	if unanswered {
		if exp == nil {
			// The step expected nothing, but REALM counts a delivery
			// without an answer as not acknowledged: say so, since the
			// check stops here.
			r.observe(observation{step: n, what: what, expected: "an answer within the sender timeout", observed: "none (see the evidence)"})
		}
		return errUnanswered
	}
	return nil
}

// leftOut is a step the run's signing scheme cannot express: it is left
// out with a note, and a check whose deliveries were all left out is N/A.
// A whole one is the step the check is about: the check is N/A at once,
// whatever its earlier steps showed.
type leftOut struct {
	reason string
	whole  bool
}

func (l *leftOut) Error() string { return l.reason }

// expect checks one exchange against a step's expectations.
func (r *run) expect(n int, what string, exp *scenario.Expect, ex harness.Exchange, a delivery.Attempt) {
	if exp == nil {
		return
	}
	if exp.Status != "" {
		ok, want := statusMatches(exp.Status, ex)
		r.observe(observation{step: n, what: what, expected: want, observed: seen(ex), ok: ok})
	}
	if exp.Within {
		d := r.e.cfg.Timing.AckDeadline
		ok := ex.Response != nil && ex.Latency <= d
		r.observe(observation{step: n, what: what,
			expected: "acknowledged within the ack deadline of " + d.String(),
			observed: latency(ex), ok: ok})
	}
	if exp.NoEcho {
		leak := r.echo(ex, a)
		r.observe(observation{step: n, what: what,
			expected: "the response reveals neither the secret nor the expected signature",
			observed: leakText(ex, leak), ok: leak == ""})
	}
}

// echo returns what the response leaked, or "".
func (r *run) echo(ex harness.Exchange, a delivery.Attempt) string {
	if ex.Response == nil {
		return ""
	}
	var hay bytes.Buffer
	hay.WriteString(ex.Response.Body)
	for k, vs := range ex.Response.Header {
		hay.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	text := hay.String()
	// The sender scrubs the secret out of the evidence; it flags that it
	// did.
	if ex.Response.SecretEchoed {
		return "the secret"
	}
	sc := r.e.cfg.Scheme
	t, signed := sc.SignedTime(ex.Request.Header)
	if !signed {
		// Without a readable t, look for the signature at any second near
		// the attempt.
		t = ex.Start.Unix()
	}
	key, err := sc.KeyOf(r.e.cfg.Secret)
	if err != nil {
		key = []byte(r.e.cfg.Secret.Reveal())
	}
	lower := strings.ToLower(text)
	// What the request carried is no secret: a receiver may echo the
	// headers it got (a debugging aid, a framework's error page). A leak is
	// a signature the request did not carry; for a stale timestamp, where
	// the expected signature is the one sent, nothing can leak.
	var carried strings.Builder
	for _, vs := range ex.Request.Header {
		for _, v := range vs {
			carried.WriteString(strings.ToLower(v))
			carried.WriteByte('\n')
		}
	}
	for dt := int64(-2); dt <= 2; dt++ {
		// A t as sent, or a scheme without one, gives one signature.
		if (signed || !sc.HasTimestamp()) && dt != 0 {
			continue
		}
		v := sc.Sign(key, signing.Delivery{ID: a.EventID, Type: a.EventType, Attempt: max(a.Number, 1), T: t + dt, Body: a.Body})
		if strings.Contains(carried.String(), strings.ToLower(v)) {
			continue
		}
		if strings.Contains(text, v) || sc.Encoding == "hex" && strings.Contains(lower, v) {
			return "the expected signature " + v[:12] + "…"
		}
	}
	return ""
}

func leakText(ex harness.Exchange, leak string) string {
	if leak != "" {
		return fmt.Sprintf("the %d response contains %s", ex.Status(), leak)
	}
	if ex.Response == nil {
		return "no response: " + ex.Err
	}
	return fmt.Sprintf("the %d response reveals neither", ex.Status())
}

// statusMatches checks an exchange against "2xx", "413", "not-5xx", ...
func statusMatches(want string, ex harness.Exchange) (bool, string) {
	neg := strings.HasPrefix(want, "not-")
	pat := strings.TrimPrefix(want, "not-")
	text := "a " + pat + " response"
	if neg {
		text = "a response other than " + pat
	}
	if ex.Response == nil {
		return false, text
	}
	code := strconv.Itoa(ex.Status())
	m := len(pat) == 3 && (pat == code || (strings.HasSuffix(pat, "xx") && pat[0] == code[0]))
	return m != neg, text
}

// seen describes what came back, for a human.
func seen(ex harness.Exchange) string {
	switch {
	case ex.Abandoned:
		return "attempt abandoned on purpose"
	case ex.Response == nil:
		return "no response: " + ex.Err
	}
	s := fmt.Sprintf("%d %s in %s", ex.Status(), http.StatusText(ex.Status()), figure.Latency(ex.Latency))
	if loc := ex.Response.Header.Get("Location"); loc != "" {
		s += ", Location: " + loc
	}
	return s
}

func latency(ex harness.Exchange) string {
	if ex.Response == nil {
		return "no response: " + ex.Err
	}
	return fmt.Sprintf("%d after %s", ex.Status(), figure.Latency(ex.Latency))
}

// pause carries out a Pause step.
func (r *run) pause(ctx context.Context, n int, p *scenario.Pause) error {
	var d time.Duration
	switch {
	case p.Retry >= 2:
		sched := r.e.cfg.Timing.RetrySchedule
		i := min(p.Retry-2, len(sched)-1)
		d = sched[i]
	case p.For != "":
		var err error
		if d, err = time.ParseDuration(p.For); err != nil {
			return fmt.Errorf("pause: %w", err)
		}
	case p.DedupeGap:
		d = r.e.cfg.Timing.DedupeGap
		if p.Volume && r.e.cfg.Volume > 0 {
			return r.burst(ctx, n, d)
		}
	}
	return poll.Sleep(ctx, d)
}

// BurstInFlight bounds the deliveries of a burst (Pause.Volume) under way
// at once: a burst is many at the same moment, not a trickle.
const BurstInFlight = 50

// burst waits gap while it delivers the run's volume of fresh signed
// events of every type in bursts: BurstInFlight at a time, as often as
// the volume rate allows, as many as the gap holds at that rate. Each
// must be acknowledged 2xx; the ledger (ACK-10) then asks whether each was
// processed. It never makes the gap longer than its answers take.
func (r *run) burst(ctx context.Context, n int, gap time.Duration) error {
	cfg := r.e.cfg
	start := time.Now()
	end := start.Add(gap)
	total := min(cfg.Volume, int(float64(cfg.VolumeRate)*gap.Seconds()))
	size := max(min(BurstInFlight, total), 1)
	every := time.Duration(float64(time.Second) * float64(size) / float64(cfg.VolumeRate))
	types := harness.EventTypes()
	what := fmt.Sprintf("burst of %d events of every type during the gap (%d at a time, up to %d/s)", total, size, cfg.VolumeRate)
	var mu sync.Mutex
	acked, kept := 0, 0
	bad := map[string]int{}
	sem := make(chan struct{}, BurstInFlight)
	var wg sync.WaitGroup
	sent := 0
	for b := 0; sent < total && ctx.Err() == nil && time.Now().Before(end); b++ {
		for k := 0; k < size && sent < total; k++ {
			ev, err := cfg.Factory.New(types[sent%len(types)])
			if err != nil {
				wg.Wait()
				return fmt.Errorf("building the burst's %s: %w", types[sent%len(types)], err)
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			sent++
			wg.Go(func() {
				defer func() { <-sem }()
				a := cfg.Sender.Attempt(ev)
				ex := cfg.Sender.Send(ctx, a)
				r.ledger.delivered(r.sc.ID, ev, a.Body, ex, true)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case ex.OK():
					acked++
				case ex.Response != nil:
					bad[strconv.Itoa(ex.Status())]++
				default:
					bad["no answer"]++
				}
				// The evidence keeps a few of those not acknowledged: the
				// check's own deliveries come after. Every one is a
				// contact with the receiver all the same.
				if !ex.OK() && kept < 3 {
					kept++
					r.record(ex)
				} else {
					r.touch(ex)
				}
			})
		}
		_ = poll.Sleep(ctx, time.Until(start.Add(time.Duration(b+1)*every)))
	}
	wg.Wait()
	if err := poll.Sleep(ctx, time.Until(end)); err != nil {
		return err
	}
	if sent < total {
		// A receiver slower than the burst is not wrong for it (ACK-11
		// judges its answer times): fewer events pass between the
		// original and its redelivery, and the note says so.
		r.note("step %d sent %d of the burst's %d events before the gap ended: with %d under way at once, the receiver's answers did not allow more", n, sent, total, BurstInFlight)
	}
	exp := "each acknowledged 2xx"
	obs := fmt.Sprintf("all %d acknowledged", acked)
	if len(bad) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(bad)) {
			parts = append(parts, fmt.Sprintf("%d × %s", bad[k], k))
		}
		obs = fmt.Sprintf("%d of %d not acknowledged: %s", sent-acked, sent, strings.Join(parts, ", "))
	}
	r.observe(observation{step: n, what: what, expected: exp, observed: obs, ok: acked == sent})
	return nil
}

// deliverLifecycles carries out a Lifecycles step: every job's lifecycle,
// its events shuffled with the terminal event never last (so a receiver
// that lets a late event win is caught), all jobs at once.
func (r *run) deliverLifecycles(ctx context.Context, n int, l *scenario.Lifecycles, exp *scenario.Expect) error {
	finals := []string{harness.JobCompleted, harness.JobFailed, harness.JobCanceled}
	jobs := make([]lifecycle, l.Jobs)
	batches := make([][]harness.Event, l.Jobs)
	for i := range jobs {
		final := finals[i%len(finals)]
		id := r.e.cfg.Factory.NewID("job")
		evs, err := r.e.cfg.Factory.Lifecycle(id, final)
		if err != nil {
			return fmt.Errorf("building lifecycle: %w", err)
		}
		if l.Shuffle {
			rand.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
			if last := len(evs) - 1; evs[last].Type == final {
				evs[0], evs[last] = evs[last], evs[0]
			}
		}
		jobs[i] = lifecycle{jobID: id, final: evs[indexOfType(evs, final)].Status}
		batches[i] = evs
	}
	// Once one delivery goes unanswered, no job sends its next event: each
	// would only wait out the sender timeout again.
	var silent atomic.Bool
	var wg sync.WaitGroup
	for i := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ev := range batches[i] {
				if silent.Load() {
					return
				}
				a := r.e.cfg.Sender.Attempt(ev)
				ex := r.e.cfg.Sender.Send(ctx, a)
				r.record(ex)
				r.ledger.delivered(r.sc.ID, ev, a.Body, ex, false)
				if l.Shuffle {
					// Shuffled, any event of a lifecycle may come after a
					// later state of its job: the receiver may skip it.
					r.ledger.lateEvent(ev.ID)
				}
				r.expect(n, "lifecycle of "+ev.JobID+": send "+ev.Type, exp, ex, r.e.cfg.Sender.Attempt(ev))
				if stalled(ex) {
					silent.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	r.mu.Lock()
	r.lifecycles[l.As] = jobs
	r.mu.Unlock()
	if silent.Load() {
		r.note("step %d stopped sending the lifecycles once a delivery got no answer", n)
		return errUnanswered
	}
	return nil
}

func indexOfType(evs []harness.Event, typ string) int {
	for i, ev := range evs {
		if ev.Type == typ {
			return i
		}
	}
	return 0
}

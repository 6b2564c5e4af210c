package engine

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/figure"
	"github.com/realm-ai/hookcert/harness/poll"
	"github.com/realm-ai/hookcert/harness/probe"
)

// ledger is a run's record of every delivery it made (DESIGN section 5):
// for each event, whether the receiver acknowledged it anywhere in the
// run, refused every delivery of it, or left it unknown (no answer, an
// attempt abandoned on purpose); and the acknowledgement time of every
// delivery answered. ACK-10 and ACK-11 judge it once every other check has
// run. It is safe for concurrent use.
type ledger struct {
	mu     sync.Mutex
	events map[string]*entry
	order  []string
	acks   []ack
	// began is when the run began: the availability check gives its
	// times from it. tries are the deliveries it judges, and outage is
	// what it found, once it has run.
	began  time.Time
	tries  []try
	outage *outage
	// down says that the last delivery to find no receiver came after
	// the receiver last took a connection; waited is how long the checks
	// not yet started were held back for it (awaitReceiver), and gaveUp
	// that it did not come back within the run's allowance. gate lets
	// one check at a time wait for it.
	down   bool
	waited time.Duration
	gaveUp bool
	gate   sync.Mutex
	// jobs holds, for each job, the furthest state an acknowledged event
	// moved it to, and that event: an event of the job that arrives
	// after it, carrying a state no further, is late.
	jobs map[string]jobMark
}

// jobMark is the furthest state of a job the run has delivered.
type jobMark struct {
	rank       int
	event, typ string
}

// stateRank orders a job's states (README "Build a receiver that
// passes"): queued < processing < the three terminal ones.
func stateRank(status string) (int, bool) {
	switch status {
	case "queued":
		return 0, true
	case "processing":
		return 1, true
	case "completed", "failed", "canceled":
		return finalRank, true
	}
	return 0, false
}

// finalRank is the rank of the final states.
const finalRank = 2

// entry is what the run did with one event.
type entry struct {
	id, typ string
	// check is the first check that delivered it; burst says it was one
	// of IDEM-06's burst events.
	check string
	burst bool
	// acked, refused and unknown count its deliveries answered 2xx,
	// answered otherwise, and left without an answer.
	acked, refused, unknown int
	// refusal is its first refusal's status.
	refusal int
	// late: a check allows the receiver to skip it (an event that
	// arrived after its job passed the state it carries).
	late bool
}

// ack is the acknowledgement time of one answered delivery, or a
// delivery not answered within the sender timeout.
type ack struct {
	check, what string
	latency     time.Duration
	status      int
	timedOut    bool
}

func newLedger() *ledger {
	return &ledger{events: map[string]*entry{}, jobs: map[string]jobMark{}, began: time.Now()}
}

// keptBody bounds the bodies whose answer time ACK-11 judges: past
// REALM's largest event (DESIGN section 4), a body is one a check sends to
// be refused (ROB-05's 5 MiB), and its answer waits on its upload.
const keptBody = 256 << 10

// delivered records one delivery of ev by check: body is what was sent,
// which carries the event's id unless the check broke it on purpose (a
// malformed body, a required field deleted): such a delivery says nothing
// of the event, and only its answer time counts.
func (l *ledger) delivered(check string, ev harness.Event, body []byte, ex harness.Exchange, burst bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !ex.Abandoned && len(body) <= keptBody {
		l.tries = append(l.tries, newTry(check, ev, ex))
		l.down = l.down || ex.Unavailable()
		switch {
		case ex.Response != nil:
			l.acks = append(l.acks, ack{check: check, what: ev.Type, latency: ex.Latency, status: ex.Status()})
		case ex.Failure == harness.FailureTimeout:
			l.acks = append(l.acks, ack{check: check, what: ev.Type, latency: ex.Latency, timedOut: true})
		}
	}
	if ev.ID == "" || !bytes.Contains(body, []byte(`"`+ev.ID+`"`)) {
		return
	}
	e := l.events[ev.ID]
	if e == nil {
		e = &entry{id: ev.ID, typ: ev.Type, check: check, burst: burst}
		l.events[ev.ID] = e
		l.order = append(l.order, ev.ID)
	}
	// An event that arrives after another of its job that carried a
	// further state, or another final one, is late: the receiver may skip
	// it (ORD-01's job.processing after job.completed), whichever check
	// sent it. A second event of the same state and type is no late
	// event: IDEM-05's distinct events of one job are each processed.
	if rank, ok := stateRank(ev.Status); ok && ev.JobID != "" {
		m, seen := l.jobs[ev.JobID]
		switch {
		case seen && m.event != ev.ID && (m.rank > rank || m.rank == finalRank && rank == finalRank && m.typ != ev.Type):
			e.late = true
		case ex.OK() && (!seen || rank > m.rank):
			l.jobs[ev.JobID] = jobMark{rank: rank, event: ev.ID, typ: ev.Type}
		}
	}
	switch {
	case ex.OK():
		e.acked++
	case ex.Response != nil:
		if e.refused == 0 {
			e.refusal = ex.Status()
		}
		e.refused++
	default:
		e.unknown++
	}
}

// lateEvent records that a check allows the receiver to skip the event.
func (l *ledger) lateEvent(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.events[id]; e != nil {
		e.late = true
	}
}

// promises are the events whose processing the run can judge: those
// acknowledged (a promise to process, once), those whose every delivery
// was refused (a promise not to), and how many it cannot judge (late
// events a check allows to be skipped, events left without an answer).
func (l *ledger) promises() (acked, refused []*entry, late, unknown int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range l.order {
		e := l.events[id]
		switch {
		case e.late:
			late++
		case e.acked > 0:
			acked = append(acked, e)
		case e.unknown > 0:
			unknown++
		default:
			refused = append(refused, e)
		}
	}
	return acked, refused, late, unknown
}

// from names where an event came from, for a human.
func (e *entry) from() string {
	if e.burst {
		return e.check + " burst"
	}
	return e.check
}

// ledgerWorkers is how many probe calls the ledger makes at once.
const ledgerWorkers = 16

// judgeProcessed is ACK-10: every event acknowledged anywhere in the run
// processed exactly once, every event whose deliveries were all refused
// never. It polls the probe in batches until each acknowledged event shows
// one run of the business logic or the settle time ends, then asks once
// about the refused ones; the run's deliveries are over by then, so their
// processing has had the checks' time to happen.
func (r *run) judgeProcessed(ctx context.Context, n int) error {
	pc := r.e.cfg.Probe
	if pc == nil {
		return r.unprobedStep("step %d (the ledger) left out: without a probe URL what the receiver processed cannot be seen", n)
	}
	acked, refused, late, unknown := r.ledger.promises()
	if len(acked)+len(refused) == 0 {
		return &skipError{reason: "no other check of the run delivered an event to judge (run the whole catalogue, or a label filter that selects checks besides " + r.sc.ID + ")"}
	}
	if late > 0 || unknown > 0 {
		r.note("%d events a check allows to be skipped (late) and %d left without an answer are not judged", late, unknown)
	}
	times, err := r.askLedger(ctx, pc, acked, refused)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		r.observe(observation{step: n, what: "the ledger", expected: "the probe answers", observed: "probe error: " + err.Error()})
		return nil
	}
	var never, twice, done []string
	for _, e := range acked {
		switch t := times[e.id]; {
		case t == 0:
			never = append(never, fmt.Sprintf("%s (%s, %s)", e.id, e.typ, e.from()))
		case t > 1:
			twice = append(twice, fmt.Sprintf("%s (%s, %s) %d times", e.id, e.typ, e.from(), t))
		}
	}
	for _, e := range refused {
		if t := times[e.id]; t > 0 {
			done = append(done, fmt.Sprintf("%s (%s, %s, refused %d) %d times", e.id, e.typ, e.from(), e.refusal, t))
		}
	}
	exp := fmt.Sprintf("each of the %d events acknowledged in the run processed exactly once", len(acked))
	obs := fmt.Sprintf("all %d processed once", len(acked))
	if len(never)+len(twice) > 0 {
		var parts []string
		if len(never) > 0 {
			parts = append(parts, fmt.Sprintf("%d never processed within %s: %s", len(never), pc.Settle(), list(never)))
		}
		if len(twice) > 0 {
			parts = append(parts, fmt.Sprintf("%d processed more than once: %s", len(twice), list(twice)))
		}
		obs = strings.Join(parts, "; ")
	}
	r.observe(observation{step: n, what: "the ledger", expected: exp, observed: obs, ok: len(never)+len(twice) == 0})
	if len(refused) > 0 {
		exp := fmt.Sprintf("each of the %d events whose every delivery was refused never processed (404)", len(refused))
		obs := fmt.Sprintf("none of the %d processed", len(refused))
		if len(done) > 0 {
			obs = fmt.Sprintf("%d processed although every delivery was refused: %s", len(done), list(done))
		}
		r.observe(observation{step: n, what: "the ledger", expected: exp, observed: obs, ok: len(done) == 0})
	}
	return nil
}

// askLedger asks the probe how many times each event was processed: the
// acknowledged ones in batches until each shows a run of the business
// logic or the settle time ends, then the refused ones once. It returns
// the counts by event id, and the probe's first error, whose exchange the
// evidence keeps.
func (r *run) askLedger(ctx context.Context, pc Prober, acked, refused []*entry) (map[string]int, error) {
	deadline := time.Now().Add(pc.Settle())
	times := make(map[string]int, len(acked)+len(refused))
	var mu sync.Mutex
	var probeErr error
	ask := func(es []*entry) {
		work := make(chan *entry)
		var wg sync.WaitGroup
		for range min(ledgerWorkers, len(es)) {
			wg.Go(func() {
				for e := range work {
					st, ex, err := pc.Event(ctx, e.id)
					mu.Lock()
					switch {
					case err != nil:
						if probeErr == nil {
							probeErr = err
							r.record(ex)
						}
					case st.Found:
						times[e.id] = st.TimesProcessed
					default:
						times[e.id] = 0
					}
					mu.Unlock()
				}
			})
		}
		for _, e := range es {
			work <- e
		}
		close(work)
		wg.Wait()
	}
	pending := acked
	for len(pending) > 0 && ctx.Err() == nil && probeErr == nil {
		ask(pending)
		pending = slices.DeleteFunc(slices.Clone(pending), func(e *entry) bool { return times[e.id] != 0 })
		if len(pending) == 0 || !time.Now().Before(deadline) {
			break
		}
		_ = poll.Sleep(ctx, min(probe.DefaultInterval, time.Until(deadline)))
	}
	if probeErr == nil && ctx.Err() == nil && len(refused) > 0 {
		ask(refused)
	}
	return times, probeErr
}

// list shows at most a few items of a long list.
func list(items []string) string {
	const show = 5
	out := strings.Join(items[:min(show, len(items))], "; ")
	if len(items) > show {
		out += fmt.Sprintf("; and %d more", len(items)-show)
	}
	return out
}

// lateShare is the share of a run's answered deliveries that may come
// after the ack deadline before ACK-11 fails; any at all warns.
const lateShare = 0.01

// judgeAckTimes is ACK-11: over every delivery of the run answered, that
// no check abandoned on purpose or sent too large to be acknowledged in
// time, more than 1 % after the ack deadline, or any not answered within
// the sender timeout, fails; any after the deadline warns. The slowest
// are shown with their checks.
func (r *run) judgeAckTimes(n int) error {
	r.ledger.mu.Lock()
	acks := slices.Clone(r.ledger.acks)
	r.ledger.mu.Unlock()
	if len(acks) == 0 {
		return &skipError{reason: "no other check of the run made a delivery to judge (run the whole catalogue, or a label filter that selects checks besides " + r.sc.ID + ")"}
	}
	deadline, timeout := r.e.cfg.Timing.AckDeadline, r.e.cfg.Timing.SenderTimeout
	var late, timedOut int
	for _, a := range acks {
		switch {
		case a.timedOut:
			timedOut++
		case a.latency > deadline:
			late++
		}
	}
	slices.SortFunc(acks, func(a, b ack) int {
		if a.timedOut != b.timedOut {
			if a.timedOut {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.latency, a.latency)
	})
	var slowest []string
	for _, a := range acks[:min(5, len(acks))] {
		if a.timedOut {
			slowest = append(slowest, fmt.Sprintf("no answer within %s (%s, %s)", timeout, a.what, a.check))
			continue
		}
		slowest = append(slowest, fmt.Sprintf("%s (%s, %s, %d)", figure.Latency(a.latency), a.what, a.check, a.status))
	}
	answered := len(acks) - timedOut
	obs := fmt.Sprintf("%d of %d answered after the ack deadline of %s, %d not within the sender timeout of %s; the slowest: %s",
		late, len(acks), deadline, timedOut, timeout, strings.Join(slowest, "; "))
	failed := timedOut > 0 || float64(late) > lateShare*float64(answered)
	exp := fmt.Sprintf("at most 1 %% of the run's %d deliveries answered after the ack deadline of %s, and every one within the sender timeout of %s", len(acks), deadline, timeout)
	r.observe(observation{step: n, what: "every delivery of the run", expected: exp, observed: obs, ok: !failed})
	if !failed && late > 0 {
		r.mu.Lock()
		r.warn = fmt.Sprintf("%d of the run's %d deliveries were answered after the ack deadline of %s (a MUST fails past 1 %%)", late, len(acks), deadline)
		r.mu.Unlock()
	}
	return nil
}

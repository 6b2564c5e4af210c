package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/poll"
)

// An outage of the receiver (a restart, a crash) makes every check whose
// deliveries meet it fail, each quoting a requirement it did not break.
// The availability check (ACK-12) judges the whole run's deliveries once,
// and names the outage; every other check that met it, and would have
// failed or warned, is AFFECTED instead (markAffected): one finding, not
// twenty.

// try is one delivery the availability check judges: the check that made
// it, its event, and its exchange, whose body is kept as its excerpt only.
type try struct {
	check, typ, id string
	ex             harness.Exchange
}

// newTry keeps a delivery for the availability check. The whole body of a
// large delivery stays with its own check's evidence: KeepBody(nil) drops
// the copy, so a run's thousands of deliveries cost their excerpts only.
func newTry(check string, ev harness.Event, ex harness.Exchange) try {
	ex.Request.KeepBody(nil)
	return try{check: check, typ: ev.Type, id: ev.ID, ex: ex}
}

// String names the delivery for a human: "SIG-03's job.completed evt_1".
func (t try) String() string {
	return strings.TrimSpace(fmt.Sprintf("%s's %s %s", t.check, t.typ, t.id))
}

// outage is what the availability check found: the first and the last
// delivery that found no receiver, from the start of the first to the end
// of the last, by the check's ID.
type outage struct {
	check    string
	from, to time.Time
	// began is when the run began, which times are given from.
	began time.Time
}

// at gives t as a time into the run: "1.204 s".
func (o *outage) at(t time.Time) string { return fmt.Sprintf("%.3f s", t.Sub(o.began).Seconds()) }

// contact is one exchange of a check (a delivery or a probe call) as the
// outage is compared with it: when it was under way, and whether it found
// no receiver.
type contact struct {
	start, end time.Time
	gone       bool
}

func contactOf(ex harness.Exchange) contact {
	return contact{start: ex.Start, end: ex.Start.Add(ex.Latency), gone: ex.Unavailable()}
}

// met reports whether any of a check's exchanges met the outage: found no
// receiver, or was under way inside its window.
func (o *outage) met(cs []contact) bool {
	return slices.ContainsFunc(cs, func(c contact) bool {
		return c.gone || !c.start.After(o.to) && !c.end.Before(o.from)
	})
}

// judgeAvailability is ACK-12: over the deliveries ACK-11 judges (all but
// those abandoned on purpose and bodies past 256 KiB), any whose
// connection was refused or could not be made, or was reset or closed
// before an answer, fails, once. The observation names the window, the
// first and the last such delivery, and the delivery sent just before the
// first: a receiver that crashed on an input and was restarted points at
// it. A delivery not answered within the sender timeout found a receiver
// that hangs, which ACK-11 judges.
func (r *run) judgeAvailability(n int) error {
	r.ledger.mu.Lock()
	tries, began := slices.Clone(r.ledger.tries), r.ledger.began
	r.ledger.mu.Unlock()
	if len(tries) == 0 {
		return &skipError{reason: "no other check of the run made a delivery to judge (run the whole catalogue, or a label filter that selects checks besides " + r.sc.ID + ")"}
	}
	slices.SortStableFunc(tries, func(a, b try) int { return a.ex.Start.Compare(b.ex.Start) })
	var down []int
	refused := 0
	o := &outage{check: r.sc.ID, began: began}
	for i, t := range tries {
		if !t.ex.Unavailable() {
			continue
		}
		if len(down) == 0 {
			o.from = t.ex.Start
		}
		down = append(down, i)
		if t.ex.Failure != harness.FailureReset {
			refused++
		}
		if end := t.ex.Start.Add(t.ex.Latency); end.After(o.to) {
			o.to = end
		}
	}
	what := "every delivery of the run"
	exp := fmt.Sprintf("each of the run's %d deliveries answered, whatever the status: none refused, reset or closed before an answer", len(tries))
	if len(down) == 0 {
		r.observe(observation{step: n, what: what, expected: exp, observed: fmt.Sprintf("all %d answered", len(tries)), ok: true})
		return nil
	}
	first, last := tries[down[0]], tries[down[len(down)-1]]
	obs := fmt.Sprintf("%d of the run's %d deliveries found no receiver to answer them (%d refused or not connected, %d reset or closed before an answer), "+
		"from %s to %s into the run (deliveries %d to %d of %d, in the order sent): the first, %s at %s (%s); the last, %s at %s (%s)",
		len(down), len(tries), refused, len(down)-refused, o.at(o.from), o.at(o.to), down[0]+1, down[len(down)-1]+1, len(tries),
		first, o.at(first.ex.Start), first.ex.Failure, last, o.at(last.ex.Start), last.ex.Failure)
	evidence := []harness.Exchange{first.ex}
	if down[0] > 0 {
		lead := tries[down[0]-1]
		obs += fmt.Sprintf(". Just before the first came %s at %s (%s): a receiver that crashed on a delivery and restarted points at it, or at the first",
			lead, o.at(lead.ex.Start), seen(lead.ex))
		evidence = append([]harness.Exchange{lead.ex}, evidence...)
	}
	if len(down) > 1 {
		evidence = append(evidence, last.ex)
	}
	r.record(evidence...)
	r.ledger.mu.Lock()
	r.ledger.outage = o
	waited, gaveUp := r.ledger.waited, r.ledger.gaveUp
	r.ledger.mu.Unlock()
	switch timeout := r.e.cfg.Timing.SenderTimeout; {
	case gaveUp:
		obs += fmt.Sprintf(". It took no connection again within the sender timeout of %s, which the checks not started by then waited: they ran against it as it was", timeout)
	case waited >= reachInterval:
		// Less is the time a dial takes that finds it there at once.
		obs += fmt.Sprintf(". The checks not started by then waited %s in all for it to take connections again", waited.Round(time.Millisecond))
	}
	r.observe(observation{step: n, what: what, expected: exp, observed: obs})
	return nil
}

// reachInterval is how often a run that waits for a receiver to come
// back asks whether it takes connections: a dial costs little.
const reachInterval = 50 * time.Millisecond

// awaitReceiver holds a check back before it starts while the receiver is
// gone: once a delivery found no receiver to answer it, the checks that
// have not started wait until its address takes a connection again, so
// that an outage takes from judgment the checks it met, and no others. A
// run waits one sender timeout at most for it in all: a receiver gone for
// good is then judged as it is, and the run ends within its time bound.
// One check asks at a time; the others wait for its answer.
func (e *Engine) awaitReceiver(ctx context.Context, l *ledger) {
	l.gate.Lock()
	defer l.gate.Unlock()
	l.mu.Lock()
	down, left := l.down, e.cfg.Timing.SenderTimeout-l.waited
	l.mu.Unlock()
	if !down || left <= 0 || ctx.Err() != nil {
		return
	}
	start := time.Now()
	within, cancel := context.WithDeadline(ctx, start.Add(left))
	defer cancel()
	err := poll.Until(within, reachInterval, start.Add(left), func() (bool, error) {
		return e.cfg.Sender.Reachable(within) == nil, nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waited += time.Since(start)
	switch {
	case err == nil:
		l.down = false
	case ctx.Err() == nil:
		// The allowance ran out, not the run.
		l.gaveUp = true
	}
}

// found returns the outage the availability check found, if it ran and
// found one.
func (l *ledger) found() *outage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.outage
}

// markAffected turns the FAIL or WARN of every check that met the outage
// into AFFECTED, once the availability check that found it has failed:
// its observed text then starts by pointing to that finding, and its
// evidence is kept. A check that never met the outage keeps its verdict,
// so a restart that lost the receiver's state still fails the checks
// whose state was lost. met holds each result's exchanges.
func markAffected(results []harness.Result, met [][]contact, o *outage) {
	i := slices.IndexFunc(results, func(r harness.Result) bool { return r.ID == o.check })
	if i < 0 || !judgedBroken(results[i].Verdict) {
		return
	}
	var ids []string
	for k := range results {
		r := &results[k]
		if k == i || !judgedBroken(r.Verdict) || !o.met(met[k]) {
			continue
		}
		text := fmt.Sprintf("affected by the outage reported by %s from %s to %s into the run: an exchange of this check met it, "+
			"so what it saw says nothing of its requirement (it would have been %s); it is judged again once the receiver stays available",
			o.check, o.at(o.from), o.at(o.to), r.Verdict)
		r.Verdict, r.Reason = harness.Affected, text
		r.Observed = strings.TrimSpace(text + "\n" + r.Observed)
		ids = append(ids, r.ID)
	}
	switch len(ids) {
	case 0:
	case 1:
		results[i].Observed += "\n1 other check met the outage and is AFFECTED, not judged: " + ids[0]
	default:
		results[i].Observed += fmt.Sprintf("\n%d other checks met the outage and are AFFECTED, not judged: %s", len(ids), strings.Join(ids, ", "))
	}
}

// judgedBroken reports whether a verdict says a requirement does not hold.
func judgedBroken(v harness.Verdict) bool { return v == harness.Fail || v == harness.Warn }

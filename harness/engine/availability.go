package engine

import (
	"context"
	"fmt"
	"math"
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

// outage is what the availability check found: the windows in which
// deliveries found no receiver, in the order of the run, by the check's
// ID.
type outage struct {
	check   string
	windows []window
	// began is when the run began, which times are given from.
	began time.Time
}

// window is one time the receiver was gone: from the start of the first
// delivery that found no receiver to the end of the last, before a
// delivery started after them was answered again. first and last index
// the run's deliveries in the order sent; down counts those that found no
// receiver.
type window struct {
	from, to    time.Time
	first, last int
	down        int
}

// at gives t as a time into the run: "1.204 s".
func (o *outage) at(t time.Time) string { return fmt.Sprintf("%.3f s", t.Sub(o.began).Seconds()) }

// span names a window as times into the run: "from 3.000 s to 3.500 s".
func (o *outage) span(w window) string { return "from " + o.at(w.from) + " to " + o.at(w.to) }

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

// met returns the windows that a check's exchanges met: one was under
// way during it. A check that ran only between two windows, while the
// receiver answered, met neither. An exchange that found no receiver
// outside every window (a probe call: ACK-12 judges deliveries) met the
// nearest one.
func (o *outage) met(cs []contact) []window {
	hit := make([]bool, len(o.windows))
	for _, c := range cs {
		during := false
		for k, w := range o.windows {
			if w.overlaps(c) {
				hit[k], during = true, true
			}
		}
		if !during && c.gone {
			hit[o.nearest(c)] = true
		}
	}
	var out []window
	for k, w := range o.windows {
		if hit[k] {
			out = append(out, w)
		}
	}
	return out
}

// overlaps reports whether c was under way during the window.
func (w window) overlaps(c contact) bool { return !c.start.After(w.to) && !c.end.Before(w.from) }

// nearest returns the index of the window closest to c in time.
func (o *outage) nearest(c contact) int {
	best, gap := 0, time.Duration(math.MaxInt64)
	for k, w := range o.windows {
		d := time.Duration(0)
		switch {
		case c.end.Before(w.from):
			d = w.from.Sub(c.end)
		case c.start.After(w.to):
			d = c.start.Sub(w.to)
		}
		if d < gap {
			best, gap = k, d
		}
	}
	return best
}

// windowsOf groups the deliveries that found no receiver into windows:
// a delivery answered that started after the last of them ended shows the
// receiver back, and closes the window. One answered that started
// earlier, on a connection the restart had not reached yet, does not.
func windowsOf(tries []try) []window {
	var out []window
	open := false
	for i, t := range tries {
		end := t.ex.Start.Add(t.ex.Latency)
		switch {
		case t.ex.Unavailable() && open:
			w := &out[len(out)-1]
			w.last, w.down = i, w.down+1
			if end.After(w.to) {
				w.to = end
			}
		case t.ex.Unavailable():
			out = append(out, window{from: t.ex.Start, to: end, first: i, last: i, down: 1})
			open = true
		case open && t.ex.Response != nil && t.ex.Start.After(out[len(out)-1].to):
			open = false
		}
	}
	return out
}

// maxWindows is how many windows ACK-12 describes one by one; a receiver
// in a crash loop has many, and the first ones lead to the cause.
const maxWindows = 5

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
	windows := windowsOf(tries)
	what := "every delivery of the run"
	exp := fmt.Sprintf("each of the run's %d deliveries answered, whatever the status: none refused, reset or closed before an answer", len(tries))
	if len(windows) == 0 {
		r.observe(observation{step: n, what: what, expected: exp, observed: fmt.Sprintf("all %d answered", len(tries)), ok: true})
		return nil
	}
	o := &outage{check: r.sc.ID, began: began, windows: windows}
	down, refused := 0, 0
	for _, t := range tries {
		if t.ex.Unavailable() {
			down++
			if t.ex.Failure != harness.FailureReset {
				refused++
			}
		}
	}
	obs := fmt.Sprintf("%d of the run's %d deliveries found no receiver to answer them (%d refused or not connected, %d reset or closed before an answer)",
		down, len(tries), refused, down-refused)
	if len(windows) > 1 {
		obs += fmt.Sprintf(", in %d outages", len(windows))
	}
	var evidence []harness.Exchange
	for k, w := range windows {
		if k == maxWindows {
			obs += fmt.Sprintf("; %d more outages after these, the last %s into the run", len(windows)-k, o.span(windows[len(windows)-1]))
			break
		}
		text, ex := o.describe(w, tries)
		sep := ", "
		if k > 0 {
			sep = "; "
		}
		obs += sep + text
		evidence = append(evidence, ex...)
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

// describe tells one window: its times, its deliveries by number, the
// first and the last that found no receiver, and the delivery sent just
// before the first, which a receiver that crashed on a delivery and
// restarted points at. It returns the exchanges to keep as evidence.
func (o *outage) describe(w window, tries []try) (string, []harness.Exchange) {
	first, last := tries[w.first], tries[w.last]
	text := fmt.Sprintf("%s into the run (deliveries %d to %d of %d, in the order sent): the first, %s at %s (%s)",
		o.span(w), w.first+1, w.last+1, len(tries), first, o.at(first.ex.Start), first.ex.Failure)
	evidence := []harness.Exchange{first.ex}
	if w.down > 1 {
		text += fmt.Sprintf("; the last, %s at %s (%s)", last, o.at(last.ex.Start), last.ex.Failure)
		evidence = append(evidence, last.ex)
	}
	if w.first > 0 {
		lead := tries[w.first-1]
		text += fmt.Sprintf(". Just before the first came %s at %s (%s): a receiver that crashed on a delivery and restarted points at it, or at the first",
			lead, o.at(lead.ex.Start), seen(lead.ex))
		evidence = append([]harness.Exchange{lead.ex}, evidence...)
	}
	return text, evidence
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
		ws := o.met(met[k])
		if k == i || !judgedBroken(r.Verdict) || len(ws) == 0 {
			continue
		}
		spans := make([]string, len(ws))
		for j, w := range ws {
			spans[j] = o.span(w)
		}
		text := fmt.Sprintf("affected by the outage reported by %s %s into the run: an exchange of this check met it, "+
			"so what it saw says nothing of its requirement (it would have been %s); it is judged again once the receiver stays available",
			o.check, strings.Join(spans, " and "), r.Verdict)
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

package load

import (
	"bytes"
	"container/heap"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness/report"
)

// Retries under load (DESIGN section 10): REALM sends again what it does
// not see acknowledged, so the load test does too. A delivery answered
// non-2xx, or not answered within the sender timeout, is sent again after
// the retry schedule's wait, with the same eventId, re-signed, its
// X-Webhook-Attempt one higher. vegeta stays the engine: the attack's
// pacer grants a tick to a due retry before the next fresh event, the
// targeter serves granted retries first, and the attack's HTTP client
// (observer) schedules the retry of every failed attempt.
//
// Each delivery's attempt travels in its target URL's fragment,
// "#attempt=n/m" (m the most attempts an event gets). A fragment is never
// sent (the request line carries the path and query only), so the
// receiver sees the webhook URL as given; the results keep it, so that
// the first attempts and the retries can be told apart in the results
// file as in the figures. Without retries the URL has no fragment.

// stormAmplification is the amplification (deliveries ÷ events) at which
// a receiver is taken to tip into a retry storm (report's, which the
// report prints).
const stormAmplification = report.StormAmplification

// defaultPendingCap bounds the retries waiting at once, so that memory
// stays bounded however many deliveries fail: each holds its event's body.
// A retry beyond it is dropped, and the report says so.
const defaultPendingCap = 10_000

// tailPoll is how often the pacer looks again for due retries once every
// fresh event is sent, while deliveries are still in flight.
const tailPoll = 5 * time.Millisecond

// attemptFragment returns "attempt=n/m".
func attemptFragment(n, m int) string {
	return "attempt=" + strconv.Itoa(n) + "/" + strconv.Itoa(m)
}

// attemptOf reads the attempt number and the most attempts from a URL's
// fragment ("…#attempt=n/m"); a URL without one is a first and only
// attempt.
func attemptOf(url string) (n, m int) {
	i := strings.LastIndexByte(url, '#')
	if i < 0 {
		return 1, 1
	}
	return parseAttempt(url[i+1:])
}

// parseAttempt reads "attempt=n/m"; anything else is a first and only
// attempt.
func parseAttempt(frag string) (n, m int) {
	rest, ok := strings.CutPrefix(frag, "attempt=")
	if !ok {
		return 1, 1
	}
	a, b, ok := strings.Cut(rest, "/")
	n, err1 := strconv.Atoi(a)
	m, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || m < n {
		return 1, 1
	}
	return n, m
}

// pendingRetry is a retry waiting for its time.
type pendingRetry struct {
	due     time.Time
	body    []byte
	id, typ string
	attempt int
}

// retryQueue is a min-heap of pending retries by due time.
type retryQueue []*pendingRetry

func (q retryQueue) Len() int           { return len(q) }
func (q retryQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q retryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *retryQueue) Push(x any)        { *q = append(*q, x.(*pendingRetry)) }
func (q *retryQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return x
}

// retrier holds one attack's retries: those waiting for their time, those
// granted a tick and waiting for the targeter, and the counts of what was
// dropped. It is safe for concurrent use.
type retrier struct {
	schedule []time.Duration
	cap      int
	// urls[n] is the target URL of attempt n (n ≥ 1); results[n] the
	// URL a result of attempt n is recorded under (without credentials);
	// frags[n] the fragment both end with ("#attempt=n/m"), empty without
	// retries.
	urls, results, frags []string

	mu      sync.Mutex
	waiting retryQueue
	granted []*pendingRetry
	dropped int
	closed  bool
	// outstanding counts the ticks the pacer granted whose result has
	// not been counted yet: while any is, a retry may still come. (The
	// pacer counts a tick when it grants it, not when a worker asks the
	// targeter, which may come after the pacer looks again.)
	outstanding atomic.Int64
}

// newRetrier returns the retries of an attack on target (recorded as
// recorded) with the given schedule (none: retries off) and cap.
func newRetrier(target, recorded string, schedule []time.Duration, capacity int) *retrier {
	r := &retrier{schedule: schedule, cap: capacity}
	m := r.attempts()
	r.urls, r.results, r.frags = make([]string, m+1), make([]string, m+1), make([]string, m+1)
	for n := 1; n <= m; n++ {
		if m > 1 {
			r.frags[n] = "#" + attemptFragment(n, m)
		}
		r.urls[n], r.results[n] = target+r.frags[n], recorded+r.frags[n]
	}
	return r
}

// attempts is the most attempts an event gets.
func (r *retrier) attempts() int { return 1 + len(r.schedule) }

// failed schedules the retry of a failed attempt n of the event id at
// failedAt plus the schedule's wait; the retry's body is read again from
// body, its type from the body. A last attempt is not retried. Beyond the
// cap, or once the attack has ended, the retry is dropped and counted
// (as is one whose body cannot be read again, which a body vegeta sends
// from memory never is).
func (r *retrier) failed(id string, n int, body func() ([]byte, error), failedAt time.Time) {
	if n >= r.attempts() || id == "" {
		return
	}
	// The body is read outside the lock, and the cap checked again under
	// it, so that concurrent failures never hold more than the cap.
	if r.full() {
		return
	}
	b, err := body()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil || r.closed || len(r.waiting)+len(r.granted) >= r.cap {
		r.dropped++
		return
	}
	heap.Push(&r.waiting, &pendingRetry{due: failedAt.Add(r.schedule[n-1]), body: b, id: id, typ: eventTypeOf(b), attempt: n + 1})
}

// full reports, counting a dropped retry, whether no retry can be
// scheduled: the attack has ended or the cap is reached.
func (r *retrier) full() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || len(r.waiting)+len(r.granted) >= r.cap {
		r.dropped++
		return true
	}
	return false
}

// grantDue moves the earliest retry due at now to the granted list, for
// the next target; it reports whether there was one. Otherwise it returns
// when the earliest waiting retry is due (zero when none waits).
func (r *retrier) grantDue(now time.Time) (bool, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waiting) == 0 {
		return false, time.Time{}
	}
	if first := r.waiting[0]; first.due.After(now) {
		return false, first.due
	}
	r.granted = append(r.granted, heap.Pop(&r.waiting).(*pendingRetry))
	return true, time.Time{}
}

// take returns a granted retry for the targeter, or nil.
func (r *retrier) take() *pendingRetry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.granted) == 0 {
		return nil
	}
	p := r.granted[0]
	r.granted[0] = nil
	r.granted = r.granted[1:]
	return p
}

// idle reports whether no retry waits, none is granted and no delivery is
// in flight: nothing more can come.
func (r *retrier) idle() bool {
	if r.outstanding.Load() > 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiting) == 0 && len(r.granted) == 0
}

// close ends the retries: nothing more is scheduled, and it returns how
// many were still waiting (granted ones included) and how many were
// dropped.
func (r *retrier) close() (pending, dropped int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return len(r.waiting) + len(r.granted), r.dropped
}

// targeter serves granted retries first, re-signed by sign as their
// attempt, and fresh events from fresh otherwise; every target's URL
// carries its attempt.
func (r *retrier) targeter(fresh vegeta.Targeter, sign signer) vegeta.Targeter {
	m := r.attempts()
	return func(t *vegeta.Target) error {
		if p := r.take(); p != nil {
			sign(t, p.body, p.id, p.typ, p.attempt)
			t.URL = r.urls[p.attempt]
			return nil
		}
		if err := fresh(t); err != nil {
			return err
		}
		if m > 1 {
			t.URL = r.urls[1]
		}
		return nil
	}
}

// retryPacer paces an attack with retries: fresh events at the rate of
// its pacer, at most planned of them and only during the fresh phase;
// a due retry before the next fresh event; and, once the fresh events are
// sent, the retries still to come, until none can come or the attack's
// end. Pace blocks (in vegeta's pacing goroutine) until it knows what the
// next tick is for, waking when stop is closed. The total of fresh events
// and retries is held to maxRate per second on average (zero: unbounded).
type retryPacer struct {
	fresh    vegeta.Pacer
	planned  uint64
	duration time.Duration
	// end bounds the whole attack, retries included.
	end     time.Duration
	maxRate float64
	r       *retrier
	began   time.Time
	stop    <-chan struct{}

	sent uint64 // fresh ticks granted (only the pacing goroutine)
}

// Pace implements vegeta.Pacer.
func (p *retryPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	for {
		now := time.Now()
		elapsed := now.Sub(p.began)
		if elapsed >= p.end {
			return 0, true
		}
		// The safety limit holds retries and fresh events together, with
		// a twentieth of a second's worth of burst.
		if allowed := p.maxRate*elapsed.Seconds() + max(1, p.maxRate/20); p.maxRate > 0 && float64(hits) >= allowed {
			if !p.sleep(time.Duration((float64(hits) - allowed + 1) / p.maxRate * float64(time.Second))) {
				return 0, true
			}
			continue
		}
		ok, next := p.r.grantDue(now)
		if ok {
			p.r.outstanding.Add(1)
			return 0, false
		}
		if p.sent < p.planned && elapsed < p.duration {
			wait, stop := p.fresh.Pace(elapsed, p.sent)
			if !stop {
				if next.IsZero() || !now.Add(wait).After(next) {
					p.sent++
					p.r.outstanding.Add(1)
					return wait, false
				}
				// A retry falls due before the next fresh event.
				if !p.sleep(next.Sub(now)) {
					return 0, true
				}
				continue
			}
			p.sent = p.planned
		}
		if p.r.idle() {
			return 0, true
		}
		wait := tailPoll
		if !next.IsZero() {
			wait = min(wait, next.Sub(now))
		}
		if !p.sleep(wait) {
			return 0, true
		}
	}
}

// sleep waits d, or until stop is closed (false).
func (p *retryPacer) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

// retryBody reads the body a request was sent with again, for its retry.
func retryBody(req *http.Request) func() ([]byte, error) {
	return func() ([]byte, error) {
		if req.GetBody == nil {
			return nil, io.ErrUnexpectedEOF
		}
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		if req.ContentLength > 0 {
			b := make([]byte, req.ContentLength)
			_, err := io.ReadFull(rc, b)
			return b, err
		}
		return io.ReadAll(rc)
	}
}

// eventTypeOf reads the eventType of a body the targeter built (compact
// JSON, eventType a plain string).
func eventTypeOf(body []byte) string {
	const key = `"eventType":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// Rate implements vegeta.Pacer: the rate of fresh events.
func (p *retryPacer) Rate(elapsed time.Duration) float64 { return p.fresh.Rate(elapsed) }

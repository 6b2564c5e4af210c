package engine_test

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/probe"
)

// What a run uses satisfies what the engine asks for, and so do the fakes.
var (
	_ engine.Sender = (*delivery.Sender)(nil)
	_ engine.Prober = (*probe.Client)(nil)
	_ engine.Sender = (*fakeSender)(nil)
)

// The fake target's URLs: never dialled, only shown in the evidence.
const (
	fakeWebhook = "http://receiver.test/webhook"
	fakeProbe   = "http://receiver.test/probe"
)

// fakeReceiver is a receiver in memory, for tests in a synctest bubble:
// a fakeSender delivers to it, and a probe.Client reads what it processed
// through an in-memory transport. Its clock is the bubble's, so a script
// that answers after a second, or processes a minute later, costs no wall
// time and happens exactly then. It has no sockets: a goroutine blocked on
// one would keep the bubble's clock from moving.
type fakeReceiver struct {
	// script answers a delivery; nil answers as a correct receiver does
	// (correct).
	script func(arrival) reply
	// keep is how long a dedupe record lasts; zero keeps it for ever.
	keep time.Duration
	// late is what the business logic does with a job event whose state
	// the job has passed.
	late lateMode
	// away, when set and true, finds nobody there: every delivery is
	// refused, whatever the script, and the address takes no connection.
	away func() bool

	mu       sync.Mutex
	arrivals []arrival
	times    map[string]int       // event id: runs of the business logic
	jobs     map[string]string    // job id: its state
	seen     map[string]time.Time // the dedupe store: event id, recorded at
	inFlight int
	peak     int
}

// arrival is a delivery as the receiver got it.
type arrival struct {
	at time.Time
	a  delivery.Attempt
}

// reply is how the fake answers one delivery.
type reply struct {
	// status is the answer's; 0 never answers.
	status int
	// after is when the answer comes, from the arrival.
	after time.Duration
	// process hands the event to the business logic lag after the
	// arrival, through the dedupe store.
	process bool
	lag     time.Duration
	// again, if set, runs the business logic once more that long after
	// the arrival, past the dedupe store: a worker queue that redelivers.
	again time.Duration
	// refuse finds nobody there: the connection is refused at once, as
	// while a receiver restarts.
	refuse bool
}

// lateMode is what a receiver does with an event its job has passed.
type lateMode int

const (
	// keepNewest runs the business logic, whose state machine refuses to
	// go back: correct.
	keepNewest lateMode = iota
	// skipLate acknowledges the event and drops it before the business
	// logic: correct too (README "The probe contract").
	skipLate
	// lastWriteWins lets the late event overwrite the newer state: wrong.
	lastWriteWins
)

// jobRank orders a job's states; a terminal one is never left.
var jobRank = map[string]int{"queued": 1, "processing": 2, "completed": 3, "failed": 3, "canceled": 3}

func newFakeReceiver() *fakeReceiver {
	return &fakeReceiver{times: map[string]int{}, jobs: map[string]string{}, seen: map[string]time.Time{}}
}

// correct answers as a correct receiver does, at once: 2xx and processed
// for a POST signed the normal way, 405 for another method. It cannot
// verify a signature, so any change to the signature is refused with 401.
func correct(d arrival) reply {
	a := d.a
	switch {
	case a.Method != "" && a.Method != http.MethodPost:
		return reply{status: http.StatusMethodNotAllowed}
	case a.NoSignature || a.Signature != nil || a.Secrets != nil || a.SignedBody != nil || a.TimeOffset != 0:
		return reply{status: http.StatusUnauthorized}
	}
	return reply{status: http.StatusOK, process: true}
}

// deliver records a delivery's arrival, starts its processing and returns
// how it is answered.
func (r *fakeReceiver) deliver(a delivery.Attempt) reply {
	d := arrival{at: time.Now(), a: a}
	script := r.script
	if script == nil {
		script = correct
	}
	if r.gone() {
		script = func(arrival) reply { return reply{refuse: true} }
	}
	rep := script(d)
	r.mu.Lock()
	r.arrivals = append(r.arrivals, d)
	r.inFlight++
	r.peak = max(r.peak, r.inFlight)
	r.mu.Unlock()
	switch {
	case rep.process && rep.lag == 0:
		// At once, so a probe call at the same instant sees it.
		r.process(a, false)
	case rep.process:
		time.AfterFunc(rep.lag, func() { r.process(a, false) })
	}
	if rep.again > 0 {
		time.AfterFunc(rep.again, func() { r.process(a, true) })
	}
	return rep
}

// gone says whether the receiver is away.
func (r *fakeReceiver) gone() bool { return r.away != nil && r.away() }

// answered ends a delivery that deliver started.
func (r *fakeReceiver) answered() {
	r.mu.Lock()
	r.inFlight--
	r.mu.Unlock()
}

// process is the business logic behind the dedupe store, which past
// skips: it counts a run for the event and moves its job, as late says.
func (r *fakeReceiver) process(a delivery.Attempt, past bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if at, ok := r.seen[a.EventID]; ok && !past && (r.keep == 0 || now.Sub(at) < r.keep) {
		return
	}
	r.seen[a.EventID] = now
	var ev struct {
		Data struct{ JobID, Status string } `json:"data"`
	}
	_ = json.Unmarshal(a.Body, &ev)
	if id, st := ev.Data.JobID, ev.Data.Status; id != "" && jobRank[st] > 0 {
		passed := jobRank[st] <= jobRank[r.jobs[id]]
		switch {
		case passed && r.late == skipLate:
			return
		case !passed || r.late == lastWriteWins:
			r.jobs[id] = st
		}
	}
	r.times[a.EventID]++
}

// arrivalsOf returns the deliveries of one event, in the order they came.
func (r *fakeReceiver) arrivalsOf(eventID string) []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []arrival
	for _, d := range r.arrivals {
		if d.a.EventID == eventID {
			out = append(out, d)
		}
	}
	return out
}

// all returns every delivery so far.
func (r *fakeReceiver) all() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]arrival(nil), r.arrivals...)
}

// peakInFlight returns the most deliveries held at once.
func (r *fakeReceiver) peakInFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak
}

// RoundTrip answers the probe's GET /events/{id} and /jobs/{id} from the
// store, as the probe contract says: 200 with the count or state, 404 for
// what it never processed.
func (r *fakeReceiver) RoundTrip(req *http.Request) (*http.Response, error) {
	kind, id, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/probe/"), "/")
	r.mu.Lock()
	code, body := http.StatusNotFound, `{"error":"not found"}`
	switch n, ok := r.times[id]; {
	case kind == "events" && ok:
		code, body = http.StatusOK, fmt.Sprintf(`{"eventId":%q,"timesProcessed":%d}`, id, n)
	case kind == "jobs" && r.jobs[id] != "":
		code, body = http.StatusOK, fmt.Sprintf(`{"jobId":%q,"status":%q}`, id, r.jobs[id])
	}
	r.mu.Unlock()
	return &http.Response{
		StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(body)),
		Request: req,
	}, nil
}

// fakeSender delivers to a fakeReceiver in memory. An attempt takes the
// time the receiver's script says, bounded by the sender timeout, as
// delivery.Sender's would.
type fakeSender struct {
	rcv     *fakeReceiver
	timeout time.Duration

	mu     sync.Mutex
	protos []string
}

// Attempt returns the normal first attempt for ev, as delivery.Sender's.
func (s *fakeSender) Attempt(ev harness.Event) delivery.Attempt {
	return delivery.Attempt{Method: http.MethodPost, Body: ev.Body, EventID: ev.ID, EventType: ev.Type, Number: 1}
}

// Send delivers a and waits for the answer the script gives, the sender
// timeout or the end of ctx, whichever comes first. An abandoned attempt
// ends at once: in memory, its body is sent the moment it leaves.
func (s *fakeSender) Send(ctx context.Context, a delivery.Attempt) harness.Exchange {
	ex := harness.Exchange{
		Attempt: max(a.Number, 1),
		Start:   time.Now(),
		Request: harness.Request{Method: cmp.Or(a.Method, http.MethodPost), URL: fakeWebhook, Body: string(a.Body), BodySize: len(a.Body)},
	}
	rep := s.rcv.deliver(a)
	defer s.rcv.answered()
	if a.Abandon {
		ex.Abandoned = true
		return ex
	}
	if rep.refuse {
		ex.Failure, ex.Err = harness.FailureRefused, "connection refused: nothing is listening at the target"
		return ex
	}
	answers := rep.status != 0 && rep.after <= s.timeout
	wait := s.timeout
	if answers {
		wait = rep.after
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		ex.Latency = time.Since(ex.Start)
		ex.Failure, ex.Err = harness.FailureCanceled, "canceled: the run was interrupted while waiting for an answer"
		return ex
	case <-t.C:
	}
	ex.Latency = time.Since(ex.Start)
	if !answers {
		ex.Failure, ex.Err = harness.FailureTimeout, fmt.Sprintf("timeout: no answer within the sender timeout %s", s.timeout)
		return ex
	}
	ex.Proto = "HTTP/1.1"
	ex.Response = &harness.Response{Status: rep.status, Header: http.Header{}}
	s.mu.Lock()
	if len(s.protos) == 0 {
		s.protos = []string{ex.Proto}
	}
	s.mu.Unlock()
	return ex
}

// Reachable takes a connection unless the receiver is away.
func (s *fakeSender) Reachable(context.Context) error {
	if s.rcv.gone() {
		return errors.New("connection refused")
	}
	return nil
}

func (s *fakeSender) URL() string            { return fakeWebhook }
func (s *fakeSender) Timeout() time.Duration { return s.timeout }
func (s *fakeSender) TLSConfig() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }

func (s *fakeSender) Protocols() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.protos
}

// inMemory returns an engine that plays the sender against rcv with the
// run's real timing, and with a probe reading rcv's store if withProbe.
// Call it inside the bubble, which its timers then belong to.
func inMemory(t *testing.T, rcv *fakeReceiver, withProbe bool, mutate func(*engine.Config)) *engine.Engine {
	t.Helper()
	cfg := engine.Config{Secret: secret, Timing: harness.DefaultTiming()}
	if mutate != nil {
		mutate(&cfg)
	}
	timing := cfg.Timing.WithDefaults()
	if cfg.Sender == nil {
		cfg.Sender = &fakeSender{rcv: rcv, timeout: timing.SenderTimeout}
	}
	if withProbe {
		pc, err := probe.New(fakeProbe, probe.WithHTTPClient(&http.Client{Transport: rcv}),
			probe.WithSettle(timing.Settle), probe.WithWatch(timing.Watch))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Probe = pc
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

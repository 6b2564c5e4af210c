package certify_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/load"
	"github.com/realm-ai/hookcert/harness/receiver"
)

// attemptLog wraps a receiver and keeps, per event, the highest
// X-Webhook-Attempt the receiver was sent.
type attemptLog struct {
	mu      sync.Mutex
	highest map[string]int
}

func (a *attemptLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get(harness.HeaderID); id != "" && r.URL.Path == "/webhook" {
			n, _ := strconv.Atoi(r.Header.Get(harness.HeaderAttempt))
			a.mu.Lock()
			a.highest[id] = max(a.highest[id], n)
			a.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// retried returns how many events were sent an attempt above 1, and the
// highest attempt sent.
func (a *attemptLog) retried() (events, highest int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range a.highest {
		if n > 1 {
			events++
		}
		highest = max(highest, n)
	}
	return events, highest
}

// startLogged serves the reference receiver with cfg over plain HTTP,
// logging the attempts it is sent.
func startLogged(t *testing.T, cfg receiver.Config) (*httptest.Server, *attemptLog) {
	t.Helper()
	rcv, err := receiver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := &attemptLog{highest: map[string]int{}}
	srv := httptest.NewServer(log.wrap(rcv))
	t.Cleanup(func() {
		// The receiver first: it lets go of deliveries waiting for a
		// slow-ack slot, which the server's Close would wait for.
		rcv.Close()
		srv.Close()
	})
	return srv, log
}

// TestFlakyReceiverIsMadeWholeByRetries: the reference receiver with the
// flaky fault answers 503 to one first delivery in ten. The load's
// retries send each of those events again, attempt 2, and the receiver
// processes every event once: LOAD-03 passes, amplification is 1 + the
// share, and LOAD-02, which judges first attempts, fails.
func TestFlakyReceiverIsMadeWholeByRetries(t *testing.T) {
	t.Parallel()
	srv, log := startLogged(t, receiver.Config{Secrets: []harness.Secret{loadSecret}, Faults: []receiver.Fault{receiver.Fault("flaky")}})
	s := prepareLoad(t, certify.Settings{URL: srv.URL + "/webhook", ProbeURL: srv.URL + "/_probe", Secret: loadSecret,
		Timing: loadTiming, Load: shortLoad(100, 2*time.Second)})
	out, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	writeLoadReport(t, s, out)
	got := verdictsOf(out)
	for id, want := range map[string]harness.Verdict{"LOAD-01": harness.Pass, "LOAD-02": harness.Fail, "LOAD-03": harness.Pass} {
		if got[id].Verdict != want {
			t.Errorf("%s %s, want %s: %s", id, got[id].Verdict, want, got[id].Observed)
		}
	}
	l := out.Load
	rt := l.Retries
	events, highest := log.retried()
	// The flaky fault refuses every tenth new event once: within one of
	// the share, whichever event the count starts on.
	const flakyShare = 0.1
	if want := flakyShare * float64(l.Requests); l.Requests < 50 || math.Abs(float64(events)-want) > 1 || highest != 2 {
		t.Fatalf("the receiver was sent retries for %d of %d events (highest attempt %d), want about %.0f, each retried once", events, l.Requests, highest, want)
	}
	if rt == nil || rt.Events != l.Requests || rt.Deliveries != l.Requests+events || rt.NeverAcknowledged != 0 ||
		math.Abs(rt.Amplification-(1+flakyShare)) > 0.02 {
		t.Fatalf("retries %+v: want %d events, %d deliveries, amplification about %.2f, none left unacknowledged", rt, l.Requests, l.Requests+events, 1+flakyShare)
	}
	if p := l.Processed; p == nil || p.Sampled || p.Checked != l.Requests || p.Once != p.Checked {
		t.Fatalf("processed %+v: want every one of the %d events processed once", p, l.Requests)
	}
}

// TestSlowReceiverPastCapacityStorms: the reference receiver with slow-ack
// on two slots of 50 ms handles 40 deliveries a second. Below that rate
// nothing is retried; past it, deliveries wait for a slot past the sender
// timeout, are abandoned and retried, and the amplification rises.
func TestSlowReceiverPastCapacityStorms(t *testing.T) {
	t.Parallel()
	timing := loadTiming
	// The sender timeout is twenty answers long, and at 120/s the wait
	// for a slot passes it within the first second. A busy machine (the
	// race detector beside other packages) can still stall one answer at
	// 10/s past it: calm is asked as at most two retries in the twenty
	// events, a storm as at least one retry in five.
	timing.SenderTimeout = time.Second
	amplification := func(rate int) float64 {
		srv, _ := startLogged(t, receiver.Config{Secrets: []harness.Secret{loadSecret}, Faults: []receiver.Fault{receiver.Fault("slow-ack")},
			AckSlots: 2, Timing: timing, Delays: receiver.Delays{SlowAck: 50 * time.Millisecond}})
		s := prepareLoad(t, certify.Settings{URL: srv.URL + "/webhook", Secret: loadSecret, Timing: timing, Load: shortLoad(rate, 2*time.Second)})
		out, err := s.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d/s: %s; %+v", rate, load.Headline(out.Load), out.Load.StatusCodes)
		return out.Load.Retries.Amplification
	}
	below, past := amplification(10), amplification(120)
	if below > 1.1 || past < 1.2 {
		t.Fatalf("amplification %.3f at 10/s and %.3f at 120/s, against a capacity of 40/s: want calm, then a storm", below, past)
	}
}

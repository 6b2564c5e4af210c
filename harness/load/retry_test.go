package load

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// shortSchedule is the retry schedule of these tests: REALM's shape,
// compressed.
var shortSchedule = []time.Duration{60 * time.Millisecond, 120 * time.Millisecond, 240 * time.Millisecond}

// delivery is one attempt as a retry-recording receiver saw it.
type delivery struct {
	at       time.Time
	attempt  int
	body     []byte
	verified bool
	uri      string
}

// attempts is a loopback receiver that keeps every attempt of every event
// and answers as answer says, given the event's attempt number and how
// many distinct events it had seen before this one's first attempt.
type attempts struct {
	*httptest.Server
	mu     sync.Mutex
	events map[string][]delivery
	order  map[string]int
}

func newAttempts(t *testing.T, answer func(attempt, nth int) (status int, delay time.Duration)) *attempts {
	t.Helper()
	verify := realmVerifier(t)
	a := &attempts{events: map[string][]delivery{}, order: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get(harness.HeaderID)
		n, _ := strconv.Atoi(r.Header.Get(harness.HeaderAttempt))
		a.mu.Lock()
		if _, ok := a.order[id]; !ok {
			a.order[id] = len(a.order)
		}
		nth := a.order[id]
		a.events[id] = append(a.events[id], delivery{at: time.Now(), attempt: n, body: body,
			verified: verify(r.Header, body, time.Now()) == nil, uri: r.RequestURI})
		a.mu.Unlock()
		status, delay := answer(n, nth)
		time.Sleep(delay)
		w.WriteHeader(status)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *attempts) seen() map[string][]delivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string][]delivery, len(a.events))
	for id, d := range a.events {
		out[id] = append([]delivery(nil), d...)
	}
	return out
}

// TestAttackRetriesWhatIsNotAcknowledged: every tenth event's first
// delivery is answered 503; each of them is sent again once, same
// eventId and body, re-signed, X-Webhook-Attempt 2, after the schedule's
// first wait; the figures count it, LOAD-02 judges the first attempts
// and fails, and no event is left unacknowledged.
func TestAttackRetriesWhatIsNotAcknowledged(t *testing.T) {
	t.Parallel()
	rcv := newAttempts(t, func(attempt, nth int) (int, time.Duration) {
		if attempt == 1 && nth%10 == 9 {
			return http.StatusServiceUnavailable, 0
		}
		return http.StatusAccepted, 0
	})
	g := newTestGenerator(t, rcv.URL+"/webhook", WithRetries(shortSchedule))
	var gob bytes.Buffer
	run, err := g.attackFor(context.Background(), 100, time.Second, vegeta.NewEncoder(&gob))
	if err != nil {
		t.Fatal(err)
	}
	seen := rcv.seen()
	refused := 0
	for id, ds := range seen {
		for i, d := range ds {
			if d.attempt != i+1 || !d.verified || d.uri != "/webhook" {
				t.Fatalf("event %s attempt %d: header says %d, signature verified %v, request URI %q", id, i+1, d.attempt, d.verified, d.uri)
			}
		}
		switch len(ds) {
		case 1:
		case 2:
			refused++
			if !bytes.Equal(ds[0].body, ds[1].body) {
				t.Fatalf("event %s was retried with another body", id)
			}
			if gap := ds[1].at.Sub(ds[0].at); gap < shortSchedule[0] {
				t.Fatalf("event %s was retried %s after its first attempt, before the schedule's %s", id, gap, shortSchedule[0])
			}
		default:
			t.Fatalf("event %s was delivered %d times, want at most 2", id, len(ds))
		}
	}
	l := run.load()
	rt := l.Retries
	if refused == 0 || refused != len(seen)/10 || rt == nil {
		t.Fatalf("%d of %d events retried, want one in ten (retries %+v)", refused, len(seen), rt)
	}
	want := report.Retries{Enabled: true, Events: len(seen), Deliveries: len(seen) + refused,
		ByAttempt: []report.AttemptCount{{Attempt: 2, Deliveries: refused, OK: refused}}, PendingCap: defaultPendingCap}
	if rt.Events != want.Events || rt.Deliveries != want.Deliveries || len(rt.ByAttempt) != 1 || rt.ByAttempt[0] != want.ByAttempt[0] ||
		rt.NeverAcknowledged != 0 || rt.Pending != 0 || rt.CapDropped != 0 || !rt.Enabled || len(rt.Schedule) != 3 {
		t.Fatalf("retries %+v, want %+v", *rt, want)
	}
	if amp := rt.Amplification; amp < 1.09 || amp > 1.11 {
		t.Fatalf("amplification %v, want 1.1", amp)
	}
	if l.Requests != len(seen) || l.OK != len(seen)-refused || run.AcknowledgedTotal != len(seen) {
		t.Fatalf("first attempts %d (%d 2xx), acknowledged %d: want %d events, %d first attempts 2xx, all acknowledged",
			l.Requests, l.OK, run.AcknowledgedTotal, len(seen), len(seen)-refused)
	}
	if r := evaluate(l, false)[1]; r.Verdict != harness.Fail {
		t.Fatalf("LOAD-02 %s (%s): one first attempt in ten failed", r.Verdict, r.Observed)
	}
	// The results file tells the attempts apart: recomputed from it, the
	// figures are the same.
	path := filepath.Join(t.TempDir(), "results.gob")
	if err := os.WriteFile(path, gob.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := recompute([]string{path}, g.o.timeout, g.o.ackDeadline)
	if err != nil {
		t.Fatal(err)
	}
	if r := again.Retries; r.Events != rt.Events || r.Deliveries != rt.Deliveries || len(r.ByAttempt) != 1 || r.ByAttempt[0] != rt.ByAttempt[0] || again.Requests != l.Requests {
		t.Fatalf("recomputed from the results file: %+v, want %+v", *r, *rt)
	}
}

// TestAttackGivesUpAfterTheSchedule: a receiver that always fails gets
// each event 1 + len(schedule) times, in order, each retry after its wait;
// every event is counted as never acknowledged and the attack ends by
// itself.
func TestAttackGivesUpAfterTheSchedule(t *testing.T) {
	t.Parallel()
	rcv := newAttempts(t, func(int, int) (int, time.Duration) { return http.StatusInternalServerError, 0 })
	g := newTestGenerator(t, rcv.URL+"/webhook", WithRetries(shortSchedule))
	run, err := g.attackFor(context.Background(), 20, 500*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := rcv.seen()
	for id, ds := range seen {
		if len(ds) != 1+len(shortSchedule) {
			t.Fatalf("event %s was delivered %d times, want %d", id, len(ds), 1+len(shortSchedule))
		}
		for i := 1; i < len(ds); i++ {
			if ds[i].attempt != i+1 || ds[i].at.Sub(ds[i-1].at) < shortSchedule[i-1] {
				t.Fatalf("event %s: attempt %d (header %d) came %s after the last, want at least %s", id, i+1, ds[i].attempt, ds[i].at.Sub(ds[i-1].at), shortSchedule[i-1])
			}
		}
	}
	rt := run.load().Retries
	if len(seen) == 0 || rt.Events != len(seen) || rt.NeverAcknowledged != len(seen) || rt.Amplification != 4 || len(rt.ByAttempt) != 3 {
		t.Fatalf("%d events: retries %+v, want each never acknowledged after 4 attempts", len(seen), *rt)
	}
	for i, a := range rt.ByAttempt {
		if a.Attempt != i+2 || a.Deliveries != len(seen) || a.OK != 0 {
			t.Fatalf("attempt count %+v, want attempt %d ×%d, none acknowledged", a, i+2, len(seen))
		}
	}
}

// TestAttackRetriesAbandonedAttempts: a first attempt not answered within
// the sender timeout is retried, and only the first attempts' latency is
// the load section's; every attempt's is in AllAttempts.
func TestAttackRetriesAbandonedAttempts(t *testing.T) {
	t.Parallel()
	rcv := newAttempts(t, func(attempt, _ int) (int, time.Duration) {
		if attempt == 1 {
			return http.StatusOK, 1500 * time.Millisecond
		}
		return http.StatusOK, 0
	})
	// The timeout is long enough that a busy machine answers every retry
	// within it, and the first attempts are held well past it.
	g := newTestGenerator(t, rcv.URL+"/webhook", WithTimeout(time.Second), WithRetries(shortSchedule))
	run, err := g.attackFor(context.Background(), 10, 500*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := run.load()
	rt := l.Retries
	if l.Requests == 0 || l.PastTimeout != l.Requests || rt.Deliveries != 2*l.Requests || rt.NeverAcknowledged != 0 || run.AcknowledgedTotal != l.Requests {
		t.Fatalf("%d first attempts, %d past the timeout; retries %+v; %d acknowledged: want each abandoned once, then acknowledged", l.Requests, l.PastTimeout, *rt, run.AcknowledgedTotal)
	}
	for _, e := range l.Errors {
		if strings.Contains(e.What, "#attempt") {
			t.Fatalf("error kind %q names the attempt: each attempt's would count apart", e.What)
		}
	}
	if rt.AllAttempts.P50 >= l.Latencies.P50 || rt.AllAttempts.Min >= l.Latencies.Min {
		t.Fatalf("all attempts %+v against first attempts %+v: the quick retries are not counted apart", rt.AllAttempts, l.Latencies)
	}
}

// TestRetriesOff: WithRetries(nil) sends each event once, as REALM never
// would; the failures are then the events never acknowledged.
func TestRetriesOff(t *testing.T) {
	t.Parallel()
	rcv := newAttempts(t, func(int, int) (int, time.Duration) { return http.StatusServiceUnavailable, 0 })
	g := newTestGenerator(t, rcv.URL+"/webhook", WithRetries(nil))
	var gob bytes.Buffer
	run, err := g.attackFor(context.Background(), 20, 500*time.Millisecond, vegeta.NewEncoder(&gob))
	if err != nil {
		t.Fatal(err)
	}
	rt := run.load().Retries
	if rt.Enabled || rt.Events == 0 || rt.Deliveries != rt.Events || rt.NeverAcknowledged != rt.Events || rt.Amplification != 1 || len(rt.ByAttempt) != 0 {
		t.Fatalf("retries %+v: want none, every event unacknowledged", *rt)
	}
	if bytes.Contains(gob.Bytes(), []byte("#attempt=")) {
		t.Fatal("without retries the results name attempts")
	}
}

// TestRetriesAreCapped: with room for two pending retries, the others are
// dropped and counted; the events stay never acknowledged.
func TestRetriesAreCapped(t *testing.T) {
	t.Parallel()
	rcv := newAttempts(t, func(int, int) (int, time.Duration) { return http.StatusServiceUnavailable, 0 })
	g := newTestGenerator(t, rcv.URL+"/webhook", WithRetries([]time.Duration{400 * time.Millisecond}), withPendingCap(2))
	run, err := g.attackFor(context.Background(), 50, 400*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := run.load().Retries
	if rt.CapDropped == 0 || rt.PendingCap != 2 || rt.Deliveries-rt.Events+rt.CapDropped != rt.Events || rt.NeverAcknowledged != rt.Events {
		t.Fatalf("retries %+v: want the retries beyond 2 pending dropped and counted", *rt)
	}
}

// TestRetriesStayWithinTheRateLimit: fresh events and retries together
// keep to the rate limit on average, even when every delivery fails.
func TestRetriesStayWithinTheRateLimit(t *testing.T) {
	t.Parallel()
	rcv := newAttempts(t, func(int, int) (int, time.Duration) { return http.StatusServiceUnavailable, 0 })
	const limit = 100
	g := newTestGenerator(t, rcv.URL+"/webhook", WithLimits(Limits{MaxRate: limit, MaxDuration: time.Minute}),
		WithRetries([]time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}))
	began := time.Now()
	run, err := g.attackFor(context.Background(), limit, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(began)
	rt := run.load().Retries
	// Four attempts per event at 100 events/s would be 400/s: the limit
	// spreads them out.
	if allowed := limit*elapsed.Seconds() + limit/20 + 1; float64(rt.Deliveries) > allowed || rt.Deliveries <= rt.Events {
		t.Fatalf("%d deliveries (%d events) in %s: more than the %d/s limit allows (%.0f)", rt.Deliveries, rt.Events, elapsed, limit, allowed)
	}
}

func TestAttemptOf(t *testing.T) {
	cases := []struct {
		url  string
		n, m int
	}{
		{"http://x/webhook", 1, 1},
		{"http://x/webhook#attempt=2/4", 2, 4},
		{"http://x/webhook#attempt=4/4", 4, 4},
		{"http://x/webhook#attempt=5/4", 1, 1},
		{"http://x/webhook#other", 1, 1},
		{"http://x/webhook#attempt=x/4", 1, 1},
	}
	for _, c := range cases {
		if n, m := attemptOf(c.url); n != c.n || m != c.m {
			t.Errorf("attemptOf(%q) = %d/%d, want %d/%d", c.url, n, m, c.n, c.m)
		}
	}
}

// TestProgressShowsRetries: once there are retries, the progress line
// counts them and gives the amplification; before, it says nothing of
// them.
func TestProgressShowsRetries(t *testing.T) {
	quiet := progressLine("gen", time.Second, snapshot{Requests: 100, Deliveries: 100}, 100)
	busy := progressLine("gen", time.Second, snapshot{Requests: 100, Errors: 10, Deliveries: 110}, 100)
	if strings.Contains(quiet, "retries") || !strings.Contains(busy, "retries 10 (amplification 1.100)") {
		t.Fatalf("progress without retries %q, with 10 retries for 100 events %q", quiet, busy)
	}
}

package receiver

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

func TestAdvance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		why         string
		cur         string
		known       bool
		next        string
		want        string
		wantChanged bool
	}{
		{"a new job takes the first state it hears of", "", false, statusProcessing, statusProcessing, true},
		{"a new job takes even a terminal state (ORD-04)", "", false, statusFailed, statusFailed, true},
		{"forward moves are applied", statusQueued, true, statusProcessing, statusProcessing, true},
		{"a terminal state follows processing", statusProcessing, true, statusCompleted, statusCompleted, true},
		{"a late processing does not undo completed (ORD-02)", statusCompleted, true, statusProcessing, statusCompleted, false},
		{"a late queued does not undo processing", statusProcessing, true, statusQueued, statusProcessing, false},
		{"terminal states are final, even for another terminal", statusCanceled, true, statusCompleted, statusCanceled, false},
		{"the same state again changes nothing", statusQueued, true, statusQueued, statusQueued, false},
		{"an unknown state changes nothing", statusQueued, true, "archived", statusQueued, false},
		{"an unknown state does not create a job", "", false, "archived", "", false},
	}
	for _, tt := range tests {
		got, changed := advance(tt.cur, tt.known, tt.next)
		if got != tt.want || changed != tt.wantChanged {
			t.Errorf("%s: advance(%q, %v, %q) = %q, %v; want %q, %v", tt.why, tt.cur, tt.known, tt.next, got, changed, tt.want, tt.wantChanged)
		}
	}
}

// TestFullQueueRefusesAndForgets: when the queue is full the correct
// receiver must answer 503 rather than acknowledge and lose the event, and
// must not take REALM's retry for a duplicate. A slow single worker and a
// one-slot queue make the queue fill up.
func TestFullQueueRefusesAndForgets(t *testing.T) {
	t.Parallel()
	cfg := Config{Secrets: []harness.Secret{testSecret}, Workers: 1, QueueSize: 1}
	tg := serve(t, newReceiver(cfg, map[Fault]bool{}, time.Second), "")
	// One event occupies the worker for a second, one fills the queue; of
	// four sent quickly at least two find the queue full.
	var refused []string
	for range 4 {
		id := newID("evt")
		r := tg.deliver(eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil))
		switch r.status {
		case http.StatusAccepted:
		case http.StatusServiceUnavailable:
			if r.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			refused = append(refused, id)
		default:
			t.Fatalf("answered %d %q, want 202 or 503", r.status, r.body)
		}
	}
	if len(refused) < 2 {
		t.Fatalf("%d of 4 deliveries refused, want at least 2 with a full queue", len(refused))
	}
	// REALM retries each refused event until the queue has room; each retry
	// must be processed, not taken for a duplicate.
	for _, id := range refused {
		body := eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil)
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := tg.deliver(body)
			if r.status == http.StatusAccepted {
				break
			}
			if r.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("retry of %s answered %d, want 202 once the queue has room", id, r.status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, id := range refused {
		deadline := time.Now().Add(10 * time.Second)
		for tg.rcv.TimesProcessed(id) != 1 && time.Now().Before(deadline) {
			time.Sleep(pollEvery)
		}
		if n := tg.rcv.TimesProcessed(id); n != 1 {
			t.Fatalf("refused then retried event processed %d times, want 1", n)
		}
	}
}

// workers counts the goroutines running p's worker loop (the stack shows
// the pool each runs for).
func workers(p *pool) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), fmt.Sprintf("receiver.(*pool).work(%p", p))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestCloseStopsWorkers counts the worker goroutines of one receiver, by
// its pool, so that other receivers' workers still stopping do not count.
func TestCloseStopsWorkers(t *testing.T) {
	t.Parallel()
	rcv, err := New(Config{Secrets: []harness.Secret{testSecret}, Workers: 16})
	if err != nil {
		t.Fatal(err)
	}
	// The workers are started, not necessarily running yet.
	deadline := time.Now().Add(2 * time.Second)
	for workers(rcv.pool) < 16 && time.Now().Before(deadline) {
		time.Sleep(pollEvery)
	}
	if n := workers(rcv.pool); n != 16 {
		t.Fatalf("%d workers after New with 16 workers", n)
	}
	rcv.Close()
	rcv.Close() // twice is fine
	deadline = time.Now().Add(2 * time.Second)
	for workers(rcv.pool) > 0 && time.Now().Before(deadline) {
		time.Sleep(pollEvery)
	}
	if n := workers(rcv.pool); n > 0 {
		t.Fatalf("%d workers after Close: workers leak", n)
	}
}

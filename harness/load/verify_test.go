package load

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/probe"
)

// fakeProbe answers GET /events/{id} from a script: how many times each
// event has been processed, as a function of the time since it started.
type fakeProbe struct {
	*httptest.Server
	start time.Time
	mu    sync.Mutex
	calls map[string]int
}

func newFakeProbe(t *testing.T, script func(id string, since time.Duration) (times int, status int)) *fakeProbe {
	t.Helper()
	f := &fakeProbe{start: time.Now(), calls: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/events/")
		f.mu.Lock()
		f.calls[id]++
		f.mu.Unlock()
		n, status := script(id, time.Since(f.start))
		switch {
		case status != 0:
			w.WriteHeader(status)
		case n == 0:
			http.NotFound(w, r)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"eventId":%q,"timesProcessed":%d}`, id, n)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func probeClient(t *testing.T, url string) *probe.Client {
	t.Helper()
	pc, err := probe.New(url)
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func TestVerify(t *testing.T) {
	t.Parallel()
	// evt_once_*: processed at once; evt_late_*: processed after 100 ms
	// (within the settle time); evt_lost_*: never; evt_twice_*: twice; evt_again_*:
	// once, and again after 200 ms (caught by the watch); evt_broken:
	// the probe fails.
	f := newFakeProbe(t, func(id string, since time.Duration) (int, int) {
		switch {
		case strings.HasPrefix(id, "evt_once_"):
			return 1, 0
		case strings.HasPrefix(id, "evt_late_"):
			if since > 100*time.Millisecond {
				return 1, 0
			}
			return 0, 0
		case strings.HasPrefix(id, "evt_twice_"):
			return 2, 0
		case strings.HasPrefix(id, "evt_again_"):
			if since > 200*time.Millisecond {
				return 2, 0
			}
			return 1, 0
		case id == "evt_broken":
			return 0, http.StatusInternalServerError
		}
		return 0, 0
	})
	var ids []string
	for i := range 20 {
		ids = append(ids, fmt.Sprintf("evt_once_%d", i), fmt.Sprintf("evt_late_%d", i))
	}
	ids = append(ids, "evt_lost_1", "evt_lost_2", "evt_twice_1", "evt_again_1", "evt_broken")
	v := verify(context.Background(), probeClient(t, f.URL), ids, true,
		verifyOptions{Settle: 250 * time.Millisecond, Watch: 300 * time.Millisecond, Interval: 20 * time.Millisecond})
	p := v.Processed
	if p.Checked != len(ids) || !p.Sampled || p.Once != 40 || p.Missing != 2 || p.Duplicated != 2 || unanswered(p) != 1 {
		t.Fatalf("processed %+v: want 45 checked (sampled), 40 once, 2 missing, 2 duplicated, 1 unanswered", p)
	}
	if v.Err == nil || !strings.Contains(v.Err.Error(), "500") {
		t.Fatalf("the probe's failure is not reported: %v", v.Err)
	}
	if len(v.Evidence) != 4 {
		t.Fatalf("%d exchanges of evidence, want one per missing and duplicated event", len(v.Evidence))
	}
	for _, ex := range v.Evidence {
		if !strings.Contains(ex.Request.URL, "lost") && !strings.Contains(ex.Request.URL, "twice") && !strings.Contains(ex.Request.URL, "again") {
			t.Fatalf("evidence of %s, which is neither missing nor duplicated", ex.Request.URL)
		}
	}
}

// TestVerifyWaitsForABacklog: events that keep appearing are waited for
// past the settle time; the polling stops once none has appeared for the
// settle time. The times are long enough that a busy machine's slower
// polls cannot blur the two: a Verify that stops takes the last
// appearance and a settle time (4.75 s), one that polls its
// maxSettleRounds would take 12 s; the bound is halfway.
func TestVerifyWaitsForABacklog(t *testing.T) {
	t.Parallel()
	const settle, spacing = time.Second, 250 * time.Millisecond
	f := newFakeProbe(t, func(id string, since time.Duration) (int, int) {
		var i int
		fmt.Sscanf(id, "evt_%d", &i)
		if since > time.Duration(i)*spacing {
			return 1, 0
		}
		return 0, 0
	})
	var ids []string
	for i := range 16 { // the last appears after 3.75 s, past the 1 s settle
		ids = append(ids, fmt.Sprintf("evt_%d", i))
	}
	ids = append(ids, "evt_999") // never
	start := time.Now()
	v := verify(context.Background(), probeClient(t, f.URL), ids, false,
		verifyOptions{Settle: settle, Watch: 50 * time.Millisecond, Interval: 100 * time.Millisecond})
	if v.Processed.Once != 16 || v.Processed.Missing != 1 {
		t.Fatalf("processed %+v: want the 16 of the backlog once and 1 missing", v.Processed)
	}
	if d := time.Since(start); d > (15*spacing+settle+maxSettleRounds*settle)/2 {
		t.Fatalf("Verify took %s: it did not stop once nothing more appeared for the settle time", d)
	}
}

func TestVerifyStopsWithContext(t *testing.T) {
	t.Parallel()
	f := newFakeProbe(t, func(string, time.Duration) (int, int) { return 0, 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	v := verify(ctx, probeClient(t, f.URL), []string{"evt_a", "evt_b"}, false, verifyOptions{Settle: time.Minute})
	if time.Since(start) > 2*time.Second || v.Err == nil || v.Processed.Missing != 0 {
		t.Fatalf("after %s: %+v, %v: want a prompt stop that calls nothing missing", time.Since(start), v.Processed, v.Err)
	}
}

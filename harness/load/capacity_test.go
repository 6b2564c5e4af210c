package load

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// limited is a receiver that holds up to a rate: it answers 503 to the
// deliveries of a capacity step past what limit per second allows over a
// step of the given length. It counts deliveries rather than timing them,
// and tells steps apart by the pause a search makes between them (its
// cooldown), so its answers do not depend on the machine's speed: a
// generator slowed by a busy machine sends a step's deliveries late, but
// sends them all. With a sliding half-second window, 160/s once held on a
// loaded CI machine because its 96 deliveries came spread out.
func limited(t *testing.T, limit int, step time.Duration) *httptest.Server {
	t.Helper()
	const stepGap = 400 * time.Millisecond
	budget := int(float64(limit) * step.Seconds())
	var (
		mu   sync.Mutex
		last time.Time
		n    int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		if now.Sub(last) > stepGap {
			n = 0
		}
		last = now
		n++
		over := n > budget
		mu.Unlock()
		if over {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCapacitySearch(t *testing.T) {
	t.Parallel()
	srv := limited(t, 150, 600*time.Millisecond)
	g := newTestGenerator(t, srv.URL+"/webhook", WithRetries(shortSchedule))
	s := Search{Start: 40, Max: 400, Step: 600 * time.Millisecond, Cooldown: 600 * time.Millisecond, Refine: 2}
	c, best, err := g.capacity(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 40 and 80 hold, 160 does not; then 120 and 140 (or 100) are tried,
	// and as many for the storm edge, which this receiver's 503s put at
	// or just above the held edge.
	if c.HighestRate < 80 || c.HighestRate >= 160 || !c.StormSearched || c.StormEdge < c.HighestRate || c.StormEdge >= 160 {
		t.Fatalf("highest rate %v, storm edge %v, want both within [80, 160), the storm edge not below: steps %+v", c.HighestRate, c.StormEdge, c.Steps)
	}
	var rates []float64
	for _, st := range c.Steps {
		rates = append(rates, st.Rate)
		if st.Held && !st.Calm || st.Calm != (st.Amplification < stormAmplification) {
			t.Fatalf("step %+v: a rate that holds stays calm, and calm is an amplification under %v", st, stormAmplification)
		}
	}
	if len(c.Steps) < 4 || len(c.Steps) > 7 || rates[0] != 40 || rates[1] != 80 || rates[2] != 160 || c.Steps[2].Held || c.Steps[2].Calm {
		t.Fatalf("steps %+v: want 40, 80 and 160 (which fails and storms), then at most two refinements per edge", c.Steps)
	}
	if best == nil || float64(best.Rate) != c.HighestRate || !strings.Contains(c.StoppedBecause, "held and") || !strings.Contains(c.StoppedBecause, "stayed calm and") {
		t.Fatalf("best run at %v/s, stopped because %q", best.Rate, c.StoppedBecause)
	}
}

func TestCapacitySearchStops(t *testing.T) {
	t.Parallel()
	srv := limited(t, 10_000, 400*time.Millisecond)
	g := newTestGenerator(t, srv.URL+"/webhook", WithLimits(Limits{MaxRate: 100, MaxDuration: time.Minute}), WithRetries(shortSchedule))
	c, _, err := g.capacity(context.Background(), Search{Start: 50, Max: 100, Step: 400 * time.Millisecond, Refine: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HighestRate != 100 || c.StormEdge != 100 || len(c.Steps) != 2 || !strings.Contains(c.StoppedBecause, "(the rate limit)") {
		t.Fatalf("%+v: want 50 and 100 held, then a stop at the rate limit", c)
	}
	var le *LimitError
	_, _, err = g.capacity(context.Background(), Search{Start: 50, Max: 200, Step: time.Second}, nil)
	if !errors.Is(err, errUnsafe) || !errors.As(err, &le) || le.Setting != LimitRate || le.Asked != 200 || le.Limit != 100 {
		t.Fatalf("a search above the rate limit: %v, want a LimitError on the rate (errUnsafe)", err)
	}
	_, _, err = g.capacity(context.Background(), Search{Start: 1, Max: 100, Step: 10 * time.Second}, nil)
	if !errors.Is(err, errUnsafe) || !errors.As(err, &le) || le.Setting != LimitSearch || le.Limit != int64(time.Minute) || !strings.Contains(err.Error(), "could take") {
		t.Fatalf("a search longer than the duration limit: %v, want a LimitError on the search (errUnsafe)", err)
	}
	none := limited(t, 20, 400*time.Millisecond)
	g = newTestGenerator(t, none.URL+"/webhook", WithRetries(nil))
	c, best, err := g.capacity(context.Background(), Search{Start: 100, Max: 200, Step: 400 * time.Millisecond}, nil)
	if err != nil || c.HighestRate != 0 || best == nil || !strings.Contains(c.StoppedBecause, "first rate") || c.StormSearched || strings.Contains(c.StoppedBecause, "calm") {
		t.Fatalf("%+v, %v: want no rate held, the first step's run, and why; no storm edge without retries", c, err)
	}
}

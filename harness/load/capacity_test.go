package load

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
)

// limited is a receiver that holds up to a rate: above limit deliveries
// per second (over a sliding half second) it answers 503.
func limited(t *testing.T, limit int) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	var recent []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		keep := recent[:0]
		for _, at := range recent {
			if now.Sub(at) < 500*time.Millisecond {
				keep = append(keep, at)
			}
		}
		recent = append(keep, now)
		over := len(recent) > limit/2
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
	srv := limited(t, 150)
	g := newTestGenerator(t, srv.URL+"/webhook")
	s := Search{Start: 40, Max: 400, Step: 600 * time.Millisecond, Cooldown: 600 * time.Millisecond, Refine: 2}
	c, best, err := g.Capacity(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 40 and 80 hold, 160 does not; then 120 and 140 (or 100) are tried.
	if c.HighestRate < 80 || c.HighestRate >= 160 {
		t.Fatalf("highest rate %v, want within [80, 160): steps %+v", c.HighestRate, c.Steps)
	}
	var rates []float64
	for _, st := range c.Steps {
		rates = append(rates, st.Rate)
	}
	if len(c.Steps) != 5 || rates[0] != 40 || rates[1] != 80 || rates[2] != 160 || c.Steps[2].Held {
		t.Fatalf("steps %+v: want 40, 80 and 160 (which fails), then two refinements", c.Steps)
	}
	if best == nil || float64(best.Rate) != c.HighestRate || !strings.Contains(c.StoppedBecause, "did not") {
		t.Fatalf("best run %+v, stopped because %q", best, c.StoppedBecause)
	}
}

func TestCapacitySearchStops(t *testing.T) {
	srv := limited(t, 10_000)
	g := newTestGenerator(t, srv.URL+"/webhook", WithLimits(Limits{MaxRate: 100, MaxDuration: time.Minute}))
	c, _, err := g.Capacity(context.Background(), Search{Start: 50, Max: 100, Step: 400 * time.Millisecond, Refine: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HighestRate != 100 || len(c.Steps) != 2 || !strings.Contains(c.StoppedBecause, "MAX_RATE") {
		t.Fatalf("%+v: want 50 and 100 held, then a stop at MAX_RATE", c)
	}
	if _, _, err := g.Capacity(context.Background(), Search{Start: 50, Max: 200, Step: time.Second}, nil); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("a search above MAX_RATE: %v, want ErrUnsafe", err)
	}
	if _, _, err := g.Capacity(context.Background(), Search{Start: 1, Max: 100, Step: 10 * time.Second}, nil); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "could take") {
		t.Fatalf("a search longer than MAX_DURATION: %v, want ErrUnsafe", err)
	}
	none := limited(t, 20)
	g = newTestGenerator(t, none.URL+"/webhook")
	c, best, err := g.Capacity(context.Background(), Search{Start: 100, Max: 200, Step: 400 * time.Millisecond}, nil)
	if err != nil || c.HighestRate != 0 || best == nil || !strings.Contains(c.StoppedBecause, "first rate") {
		t.Fatalf("%+v, %v: want no rate held, the first step's run, and why", c, err)
	}
}

func TestCapacityReport(t *testing.T) {
	s := prepare(t, certify.Options{})
	set := DefaultSettings()
	set.Rate, set.StepDuration, set.Limits.MaxRate = 100, 500*time.Millisecond, 200
	out, err := Capacity(context.Background(), s, set, SearchFrom(set))
	if err != nil {
		t.Fatal(err)
	}
	writeReport(t, s, out)
	r := out.Results[0]
	if len(out.Results) != 1 || r.ID != CapacityID || r.Verdict != harness.InfoVerdict || !strings.Contains(r.Observed, "highest rate that held: 200/s") {
		t.Fatalf("results %+v", out.Results)
	}
	if h := Headline(out.Load); !strings.HasPrefix(h, "capacity: 200/s held at most; stopped: 200/s, the highest rate allowed (MAX_RATE), held\nload: ") {
		t.Fatalf("headline %q", h)
	}
	if c := out.Load.Capacity; c == nil || c.HighestRate != 200 || out.Load.Rate != 200 || len(out.Load.ResultsFiles) != 1 {
		t.Fatalf("load section %+v", out.Load)
	}
	n, names := 0, map[string]bool{}
	if err := eachInFile(filepath.Join(s.ReportDir, out.Load.ResultsFiles[0]), func(r *vegeta.Result) { n++; names[r.Attack] = true }); err != nil {
		t.Fatal(err)
	}
	if !names["hookcert@100"] || !names["hookcert@200"] || n < 140 {
		t.Fatalf("%d results, attacks %v: want each rate as its own attack", n, names)
	}
}

package load

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBoundsRoundTrip(t *testing.T) {
	for _, sub := range []uint{coarseBits, fineBits} {
		for _, v := range []uint64{0, 1, 31, 32, 127, 128, 129, 1000, 999_999, 1_000_000, 200_000_000, 5_000_000_000, histogramTop} {
			i := bucketOf(v, sub)
			low, width := bounds(i, sub)
			if v < low || v >= low+width {
				t.Fatalf("sub %d: %d fell in bucket %d = [%d, %d)", sub, v, i, low, low+width)
			}
		}
		// Buckets tile the range: each starts where the last ended.
		var next uint64
		for i := 0; i <= bucketOf(histogramTop, sub); i++ {
			low, width := bounds(i, sub)
			if low != next {
				t.Fatalf("sub %d: bucket %d starts at %d, want %d", sub, i, low, next)
			}
			next = low + width
		}
	}
	if i := bucketOf(math.MaxUint64, fineBits); i != bucketOf(histogramTop, fineBits) {
		t.Fatalf("a value past the top landed in bucket %d, not the last", i)
	}
}

// TestQuantileAccuracy compares the histogram's quantiles with the exact
// ones of the same latencies: within half a bucket (1/2^(sub+1) of the value).
func TestQuantileAccuracy(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		gen  func() time.Duration
	}{
		{"fixed 200 ms with jitter", func() time.Duration { return 200*time.Millisecond + time.Duration(rnd.IntN(500_000)) }},
		{"log-normal around 5 ms", func() time.Duration {
			return time.Duration(math.Exp(rnd.NormFloat64()+math.Log(5e6))) + time.Microsecond
		}},
		{"bimodal: 1 ms and 1.5 s", func() time.Duration {
			if rnd.IntN(100) < 3 {
				return 1500*time.Millisecond + time.Duration(rnd.IntN(1e6))
			}
			return time.Millisecond + time.Duration(rnd.IntN(1e5))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, sub := range []uint{coarseBits, fineBits} {
				h := newHistogram(sub)
				var all []time.Duration
				for range 20000 {
					d := c.gen()
					h.add(d)
					all = append(all, d)
				}
				slices.Sort(all)
				for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
					exact := all[int(math.Ceil(q*float64(len(all))))-1]
					got := h.quantile(q, all[0], all[len(all)-1])
					if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 1/float64(uint(1)<<(sub+1)) {
						t.Errorf("sub %d: q%.3f = %s, exact %s: %.2f %% off", sub, q, got, exact, 100*rel)
					}
				}
			}
		})
	}
}

func TestHistogramMergeEqualsOne(t *testing.T) {
	a, b, both := newHistogram(fineBits), newHistogram(fineBits), newHistogram(fineBits)
	for i := range 1000 {
		d := time.Duration(i) * 37 * time.Microsecond
		both.add(d)
		if i%3 == 0 {
			a.add(d)
		} else {
			b.add(d)
		}
	}
	a.merge(b)
	if !slices.Equal(a.counts, both.counts) || a.n != both.n {
		t.Fatal("merging two halves does not give the histogram of the whole")
	}
}

func TestQuantileEmptyAndSingle(t *testing.T) {
	h := newHistogram(fineBits)
	if got := h.quantile(0.99, 0, 0); got != 0 {
		t.Fatalf("empty histogram: %s, want 0", got)
	}
	h.add(123 * time.Millisecond)
	if got := h.quantile(0.5, 123*time.Millisecond, 123*time.Millisecond); got != 123*time.Millisecond {
		t.Fatalf("one latency: %s, want it back (clamped to min and max)", got)
	}
	h.add(-time.Second) // a clock step back must not panic
}

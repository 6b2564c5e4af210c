package load

import (
	"math"
	"math/bits"
	"time"
)

// histogram counts latencies in buckets whose width grows with the value,
// in the manner of an HDR histogram: below 2^sub nanoseconds one bucket per
// nanosecond, above it 2^sub buckets per power of two. Its memory is fixed
// whatever the number of latencies, two histograms merge by adding their
// counts, and a quantile is within half a bucket (1/2^(sub+1) of the value)
// of the true one. Not safe for concurrent use.
type histogram struct {
	sub    uint
	counts []uint64
	n      uint64
}

// histogramTop is the largest latency counted in its own bucket, about 69 s;
// a longer one (only with a sender timeout longer than that) lands in the
// last bucket. Min and max are kept exactly elsewhere.
const histogramTop = 1<<36 - 1

// Precision of the histograms: the whole run's (buckets 0.1 to 0.2 % of the
// value wide, 110 KiB) and each time slice's (1.6 to 3 %, 8 KiB).
const (
	fineBits   = 9
	coarseBits = 5
)

func newHistogram(sub uint) *histogram {
	return &histogram{sub: sub, counts: make([]uint64, bucketOf(histogramTop, sub)+1)}
}

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v uint64, sub uint) int {
	if v > histogramTop {
		v = histogramTop
	}
	if v < 1<<sub {
		return int(v)
	}
	shift := uint(bits.Len64(v)) - 1 - sub
	return int(shift+1)<<sub + int(v>>shift) - 1<<sub
}

// bounds returns the lowest value of bucket i and its width.
func bounds(i int, sub uint) (low, width uint64) {
	if i < 1<<sub {
		return uint64(i), 1
	}
	shift := uint(i>>sub) - 1
	mantissa := uint64(i&(1<<sub-1)) + 1<<sub
	return mantissa << shift, 1 << shift
}

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d), h.sub)]++
	h.n++
}

// merge adds o's counts; both must have the same precision.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the q-quantile (0 < q <= 1), interpolated within its
// bucket by rank and clamped to [lo, hi], the exact extremes.
func (h *histogram) quantile(q float64, lo, hi time.Duration) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(1, min(rank, h.n))
	var seen uint64
	for i, c := range h.counts {
		if c == 0 || seen+c < rank {
			seen += c
			continue
		}
		low, width := bounds(i, h.sub)
		v := float64(low) + float64(width)*(float64(rank-seen)-0.5)/float64(c)
		return min(max(time.Duration(v), lo), hi)
	}
	return hi
}

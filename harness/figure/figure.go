// Package figure prints the figures people compare: latencies rounded as
// a deadline is read, shares as percentages.
package figure

import (
	"strconv"
	"time"
)

// Latency rounds a latency for people, to what they compare with a
// deadline: milliseconds from 10 ms up, microseconds below, so that a fast
// loopback answer does not read "0s" and a slow one carries no noise
// digits. A latency of zero or less is 0. Checks, reports and the load
// progress line all print latencies through it, so one figure reads the
// same everywhere.
func Latency(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return 0
	case d < 10*time.Millisecond:
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// Percent prints a share (0..1) as a percentage with two decimals, the
// precision LOAD-02's floor of 99.9 % is judged at: a share just under the
// floor (99.89 %) must not read as the floor, and every share reads alike
// ("100.00 %", "0.00 %").
func Percent(share float64) string {
	return strconv.FormatFloat(100*share, 'f', 2, 64) + " %"
}

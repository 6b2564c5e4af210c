package figure_test

import (
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/figure"
)

func TestLatency(t *testing.T) {
	tests := []struct {
		why  string
		in   time.Duration
		want string
	}{
		{"a fast loopback answer does not read 0s", 412_345 * time.Nanosecond, "412µs"},
		{"under 10 ms keeps microseconds", 9_876_543 * time.Nanosecond, "9.877ms"},
		{"from 10 ms, milliseconds", 10_400 * time.Microsecond, "10ms"},
		{"a second and more, milliseconds", 1_523_600 * time.Microsecond, "1.524s"},
		{"a deadline reads as itself", time.Second, "1s"},
		{"nothing measured is 0s", 0, "0s"},
		{"a negative latency is 0s", -time.Millisecond, "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := figure.Latency(tt.in).String(); got != tt.want {
				t.Errorf("Latency(%d) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		why   string
		share float64
		want  string
	}{
		{"the LOAD-02 floor", 0.999, "99.90 %"},
		{"just under the floor does not read as it", 0.9989, "99.89 %"},
		{"all", 1, "100.00 %"},
		{"none", 0, "0.00 %"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := figure.Percent(tt.share); got != tt.want {
				t.Errorf("Percent(%v) = %q, want %q", tt.share, got, tt.want)
			}
		})
	}
}

package poll_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/poll"
)

func TestPoll(t *testing.T) {
	boom := errors.New("probe failed")
	tests := []struct {
		why string
		// doneAt is the call that reports done (0: never); failAt the call
		// that fails (0: never).
		doneAt, failAt int
		deadline       time.Duration
		want           error
		wantCalls      int
	}{
		{"done at once: one call, no wait", 1, 0, time.Hour, nil, 1},
		{"done on the third call", 3, 0, time.Hour, nil, 3},
		{"a failure ends the poll with that error", 0, 2, time.Hour, boom, 2},
		{"a deadline already passed still calls once", 0, 0, -time.Second, poll.ErrDeadline, 1},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			calls := 0
			err := poll.Until(context.Background(), time.Millisecond, time.Now().Add(tt.deadline), func() (bool, error) {
				calls++
				if calls == tt.failAt {
					return false, boom
				}
				return calls == tt.doneAt, nil
			})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Poll = %v, want %v", err, tt.want)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// TestPollSeesTheEndOfThePeriod: the last call is made at or after the
// deadline, and no wait runs past it however long the interval.
func TestPollSeesTheEndOfThePeriod(t *testing.T) {
	deadline := time.Now().Add(30 * time.Millisecond)
	var last time.Time
	err := poll.Until(context.Background(), time.Hour, deadline, func() (bool, error) {
		last = time.Now()
		return false, nil
	})
	if !errors.Is(err, poll.ErrDeadline) {
		t.Fatalf("Poll = %v, want ErrDeadline", err)
	}
	if last.Before(deadline) {
		t.Errorf("the last call was %s before the deadline", deadline.Sub(last))
	}
	if late := time.Since(deadline); late > 5*time.Second {
		t.Errorf("Poll returned %s after the deadline: a wait ran past it", late)
	}
}

func TestPollStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := poll.Until(ctx, time.Hour, time.Now().Add(time.Hour), func() (bool, error) {
		calls++
		cancel()
		return false, nil
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, poll.ErrDeadline) {
		t.Errorf("Poll = %v, want the context's error", err)
	}
	if calls != 1 {
		t.Errorf("%d calls after the context ended, want 1", calls)
	}
}

func TestSleep(t *testing.T) {
	if err := poll.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v, want nil once the time has passed", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := poll.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want the context's error at once", err)
	}
}

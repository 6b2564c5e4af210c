package load

import (
	"context"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// Defaults of a capacity search.
const (
	// DefaultStepDuration is how long each rate is held.
	DefaultStepDuration = 10 * time.Second
	// DefaultCooldown is the pause between two rates, for the receiver to
	// work off what the last one queued.
	DefaultCooldown = 2 * time.Second
	// DefaultRefine is how many rates are tried between the highest that
	// held and the lowest that did not, halving the gap each time.
	DefaultRefine = 4
	// Sustained is the share of the planned deliveries a step must send
	// to count: below it the generator, not the receiver, was the limit.
	Sustained = 0.95
	// Jitter is how many planned deliveries a step may miss whatever its
	// size: a short step at a low rate misses a few when the machine
	// pauses the generator near its end, and that says nothing of how fast
	// the generator can send.
	Jitter = 5
)

// CapacityID is the check a capacity search reports; INFO, a measurement.
const CapacityID = "CAP-01"

// Search is the plan of a capacity search: rates from Start, doubled while
// they hold, up to Max; after the first that does not hold, Refine rates
// halving the gap between the highest that held and the lowest that did
// not. A rate holds when its p99 is within the ack deadline and at least
// SuccessFloor of its deliveries are answered 2xx.
type Search struct {
	Start, Max int
	// Step is how long each rate is held; Cooldown the pause between two.
	Step, Cooldown time.Duration
	Refine         int
}

// DefaultSearch returns the search of `make capacity`.
func DefaultSearch() Search {
	return Search{Start: DefaultRate, Max: DefaultMaxRate, Step: DefaultStepDuration, Cooldown: DefaultCooldown, Refine: DefaultRefine}
}

// steps returns the most rates the search can try.
func (s Search) steps() int {
	n := 1
	for r := s.Start; r < s.Max; r *= 2 {
		n++
	}
	return n + s.Refine
}

// Longest returns the longest the search can take, answers included.
func (s Search) Longest(timeout time.Duration) time.Duration {
	n := time.Duration(s.steps())
	return n*(s.Step+timeout) + (n-1)*s.Cooldown
}

// check validates the plan against the limits: every rate and the whole
// search must be within them.
func (s Search) Check(l Limits, timeout time.Duration) error {
	switch {
	case s.Start <= 0:
		return &LimitError{Setting: LimitRate, Asked: int64(s.Start),
			msg: fmt.Sprintf("the capacity search needs a positive first rate, not %d/s", s.Start)}
	case s.Max < s.Start:
		return &LimitError{Setting: LimitRate, Asked: int64(s.Start), Limit: int64(s.Max),
			msg: fmt.Sprintf("the capacity search needs the first rate (%d/s) ≤ the rate limit (%d/s)", s.Start, s.Max)}
	case s.Step <= 0 || s.Cooldown < 0 || s.Refine < 0:
		return &LimitError{Setting: LimitStep, Asked: int64(s.Step), msg: "the capacity search needs a positive step duration"}
	}
	if err := l.Check(s.Max, s.Step); err != nil {
		return err
	}
	if d := s.Longest(timeout); d > l.MaxDuration {
		return &LimitError{Setting: LimitSearch, Asked: int64(d), Limit: int64(l.MaxDuration),
			msg: fmt.Sprintf("the capacity search could take %s (%d rates of %s), above the safety limit of %s", d.Round(time.Second), s.steps(), s.Step, l.MaxDuration)}
	}
	return nil
}

// Capacity runs the search and returns its outcome and the run of the
// highest rate that held (or of the first rate, when none held). Each
// step's results go to enc, named Attacker@rate so that `vegeta plot`
// draws each rate as its own series. The search stops by itself: at Max,
// after Refine rates past the first failure, when the generator cannot
// send the rate asked, or when ctx ends.
func (g *Generator) Capacity(ctx context.Context, s Search, enc vegeta.Encoder) (*report.Capacity, *Run, error) {
	if err := s.Check(g.o.limits, g.o.timeout); err != nil {
		return nil, nil, err
	}
	c := &report.Capacity{Steps: []report.CapacityStep{}}
	var best, first *Run
	try := func(rate int) (held bool, stop string, err error) {
		if len(c.Steps) > 0 && harness.Sleep(ctx, s.Cooldown) != nil {
			return false, "interrupted", nil
		}
		run, err := g.attackAt(ctx, fmt.Sprintf("%s@%d", g.o.attacker, rate), rate, s.Step, enc)
		if run == nil {
			return false, "", err
		}
		if first == nil {
			first = run
		}
		l := run.Metrics.Load()
		step := report.CapacityStep{Rate: float64(rate), Requests: l.Requests, P99: l.Latencies.P99, Success: l.Success}
		step.Held = l.Requests > 0 && withinDeadline(l) && enough2xx(l)
		switch {
		case run.Interrupted:
			return false, "interrupted", err
		case float64(l.Requests) < Sustained*float64(run.Planned) && run.Planned-l.Requests > Jitter:
			step.Held = false
			c.Steps = append(c.Steps, step)
			return false, fmt.Sprintf("the generator sent only %d of the %d deliveries planned at %d/s: it, not the receiver, was the limit; run several generators", l.Requests, run.Planned, rate), err
		}
		c.Steps = append(c.Steps, step)
		if step.Held {
			best, c.HighestRate = run, float64(rate)
		}
		return step.Held, "", err
	}

	low, high := 0, 0 // highest rate that held, lowest that did not
	for rate := s.Start; ; rate = min(2*rate, s.Max) {
		held, stop, err := try(rate)
		if err != nil || stop != "" {
			c.StoppedBecause = stop
			return c, pick(best, first), err
		}
		if !held {
			high = rate
			break
		}
		low = rate
		if rate == s.Max {
			c.StoppedBecause = fmt.Sprintf("%d/s, the highest rate allowed (the rate limit), held", s.Max)
			return c, pick(best, first), nil
		}
	}
	if low == 0 {
		c.StoppedBecause = fmt.Sprintf("the first rate, %d/s, did not hold", s.Start)
		return c, pick(best, first), nil
	}
	for range s.Refine {
		mid := (low + high) / 2
		if mid == low {
			break
		}
		held, stop, err := try(mid)
		if err != nil || stop != "" {
			c.StoppedBecause = stop
			return c, pick(best, first), err
		}
		if held {
			low = mid
		} else {
			high = mid
		}
	}
	c.StoppedBecause = fmt.Sprintf("%d/s held and %d/s did not", low, high)
	return c, pick(best, first), nil
}

func pick(best, first *Run) *Run {
	if best != nil {
		return best
	}
	return first
}

func capacityObserved(c *report.Capacity) string {
	s := "no rate held"
	if c.HighestRate > 0 {
		s = fmt.Sprintf("highest rate that held: %s", rateOf(c.HighestRate))
	}
	for _, st := range c.Steps {
		mark := "did not hold"
		if st.Held {
			mark = "held"
		}
		s += fmt.Sprintf("; %s %s (p99 %s, %s 2xx)", rateOf(st.Rate), mark, harness.RoundLatency(time.Duration(st.P99)), harness.Percent(st.Success))
	}
	return s + "; stopped: " + c.StoppedBecause
}

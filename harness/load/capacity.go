package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/figure"
	"github.com/realm-ai/hookcert/harness/poll"
	"github.com/realm-ai/hookcert/harness/report"
)

// Defaults of a capacity search.
const (
	// DefaultStepDuration is how long each rate is held.
	DefaultStepDuration = 10 * time.Second
	// defaultCooldown is the pause between two rates, for the receiver to
	// work off what the last one queued.
	defaultCooldown = 2 * time.Second
	// defaultRefine is how many rates are tried, for each edge, between
	// the highest on its good side and the lowest on its bad side,
	// halving the gap each time.
	defaultRefine = 4
	// sustained is the share of the planned deliveries a step must send
	// to count: below it the generator, not the receiver, was the limit.
	sustained = 0.95
	// jitter is how many planned deliveries a step may miss whatever its
	// size: a short step at a low rate misses a few when the machine
	// pauses the generator near its end, and that says nothing of how fast
	// the generator can send.
	jitter = 5
)

// capacityID is the check a capacity search reports; INFO, a measurement.
const capacityID = "CAP-01"

// Search is the plan of a capacity search: rates from Start, doubled up to
// Max while they hold or stay calm; then, for each of the two edges,
// Refine rates halving the gap between the highest rate on its good side
// and the lowest on its bad side. A rate holds when its first attempts'
// p99 is within the ack deadline and at least successFloor of them are
// answered 2xx; it stays calm when its amplification (deliveries ÷
// events, retries included) is under stormAmplification. A rate that
// holds stays calm (a retry follows a failed first attempt), so the
// retry-storm edge is never below the held edge.
type Search struct {
	Start, Max int
	// Step is how long each rate is held; Cooldown the pause between two.
	Step, Cooldown time.Duration
	Refine         int
}

// DefaultSearch returns the search of `make capacity`.
func DefaultSearch() Search {
	return Search{Start: DefaultRate, Max: defaultMaxRate, Step: DefaultStepDuration, Cooldown: defaultCooldown, Refine: defaultRefine}
}

// doublings returns the most rates the search tries before it refines.
func (s Search) doublings() int {
	n := 1
	for r := s.Start; r < s.Max; r *= 2 {
		n++
	}
	return n
}

// tail is how long a step's retries may go on after it: the retry tail,
// at most the step's own duration but long enough for the first retry of
// its last events (the sender timeout and the schedule's first wait).
// Retries due later are counted as pending: still owed, they count in the
// step's amplification (stepAmplification).
func (s Search) tail(timeout time.Duration, schedule []time.Duration) time.Duration {
	if len(schedule) == 0 {
		return 0
	}
	return min(retryTail(timeout, schedule), max(s.Step, timeout+schedule[0]+time.Second))
}

// stepAmplification is a capacity step's amplification: its deliveries and
// the retries it still owed when it ended (pending, or dropped at the
// cap), for its events. A retry owed is load REALM would send.
func stepAmplification(rt *report.Retries) float64 {
	if rt.Events == 0 {
		return 0
	}
	return float64(rt.Deliveries+rt.Pending+rt.CapDropped) / float64(rt.Events)
}

// stepLongest is the longest one step can take, answers and retries
// included.
func (s Search) stepLongest(timeout time.Duration, schedule []time.Duration) time.Duration {
	return s.Step + timeout + s.tail(timeout, schedule)
}

// longest returns the longest the search's doubling can take, answers and
// retries included, with the sender timeout and the retry schedule given
// (none: retries off). The refinement that follows tries a rate only
// while it fits within the duration limit, so Longest bounds what Check
// must refuse.
func (s Search) longest(timeout time.Duration, schedule []time.Duration) time.Duration {
	n := time.Duration(s.doublings())
	return n*s.stepLongest(timeout, schedule) + (n-1)*s.Cooldown
}

// Check validates the plan against the limits: every rate and the whole
// search must be within them.
func (s Search) Check(l Limits, timeout time.Duration, schedule []time.Duration) error {
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
	if d := s.longest(timeout, schedule); d > l.MaxDuration {
		return &LimitError{Setting: LimitSearch, Asked: int64(d), Limit: int64(l.MaxDuration),
			msg: fmt.Sprintf("the capacity search could take %s (%d rates of %s, with their retries), above the safety limit of %s", d.Round(time.Second), s.doublings(), s.Step, l.MaxDuration)}
	}
	return nil
}

// edge is one edge a capacity search brackets: the highest rate on its
// good side (low) and the lowest on its bad side (high); zero when none
// has been seen.
type edge struct{ low, high int }

func (e *edge) record(rate int, good bool) {
	switch {
	case good && rate > e.low:
		e.low = rate
	case !good && (e.high == 0 || rate < e.high):
		e.high = rate
	}
}

// gap returns the rate halfway between the edge's sides, and whether it
// is a new rate to try.
func (e edge) gap() (int, bool) {
	if e.low == 0 || e.high == 0 {
		return 0, false
	}
	mid := (e.low + e.high) / 2
	return mid, mid > e.low && mid < e.high
}

// capacity runs the search and returns its outcome and the run of the
// highest rate that held (or of the first rate, when none held). Each
// step's results go to enc, named Attacker@rate so that `vegeta plot`
// draws each rate as its own series. The retry-storm edge is searched
// only with retries on (without them the amplification is always 1). The
// search stops by itself: at Max, after Refine rates per edge past the
// doubling, when the generator cannot send the rate asked, or when ctx
// ends.
func (g *Generator) capacity(ctx context.Context, s Search, enc vegeta.Encoder) (*report.Capacity, *run, error) {
	if err := s.Check(g.o.limits, g.o.timeout, g.o.retries); err != nil {
		return nil, nil, err
	}
	began := time.Now()
	storm := len(g.o.retries) > 0
	c := &report.Capacity{Steps: []report.CapacityStep{}, StormSearched: storm}
	var best, first *run
	var held, calm edge
	try := func(rate int) (stop string, err error) {
		if len(c.Steps) > 0 && poll.Sleep(ctx, s.Cooldown) != nil {
			return "interrupted", nil
		}
		run, err := g.attackAt(ctx, fmt.Sprintf("%s@%d", g.o.attacker, rate), rate, s.Step, s.tail(g.o.timeout, g.o.retries), enc)
		if run == nil {
			return "", err
		}
		if errors.Is(err, dial.ErrOutOfFiles) {
			// Its own want of connections says nothing of the rate.
			return fmt.Sprintf("the generator ran out of open files at %d/s", rate), err
		}
		if first == nil {
			first = run
		}
		l := run.load()
		step := report.CapacityStep{Rate: float64(rate), Requests: l.Requests, P99: l.Latencies.P99, Success: l.Success,
			Amplification: stepAmplification(l.Retries)}
		step.Held = l.Requests > 0 && withinDeadline(l) && enough2xx(l)
		step.Calm = l.Requests > 0 && step.Amplification < stormAmplification
		switch {
		case run.Interrupted:
			return "interrupted", err
		case float64(l.Requests) < sustained*float64(run.Planned) && run.Planned-l.Requests > jitter:
			step.Held, step.Calm = false, false
			c.Steps = append(c.Steps, step)
			return fmt.Sprintf("the generator sent only %d of the %d deliveries planned at %d/s: it, not the receiver, was the limit; run several generators", l.Requests, run.Planned, rate), err
		}
		c.Steps = append(c.Steps, step)
		held.record(rate, step.Held)
		calm.record(rate, step.Calm)
		if step.Held && float64(rate) > c.HighestRate {
			best, c.HighestRate = run, float64(rate)
		}
		if storm && step.Calm && float64(rate) > c.StormEdge {
			c.StormEdge = float64(rate)
		}
		return "", err
	}
	finish := func(stop string, err error) (*report.Capacity, *run, error) {
		c.StoppedBecause = stop
		return c, pick(best, first), err
	}

	// Double while the rate holds, or, searching the storm edge, while
	// it stays calm.
	for rate := s.Start; ; rate = min(2*rate, s.Max) {
		if stop, err := try(rate); err != nil || stop != "" {
			return finish(stop, err)
		}
		last := c.Steps[len(c.Steps)-1]
		if !last.Held && (!storm || !last.Calm) {
			break
		}
		if rate == s.Max {
			break
		}
	}
	room := s.stepLongest(g.o.timeout, g.o.retries) + s.Cooldown
	for _, e := range []*edge{&held, &calm} {
		if e == &calm && !storm {
			break
		}
		for range s.Refine {
			mid, ok := e.gap()
			if !ok {
				break
			}
			if time.Since(began)+room > g.o.limits.MaxDuration {
				return finish(stoppedBecause(s, held, calm, storm)+"; the duration limit left no time to narrow it further", nil)
			}
			if stop, err := try(mid); err != nil || stop != "" {
				return finish(stop, err)
			}
		}
	}
	return finish(stoppedBecause(s, held, calm, storm), nil)
}

// stoppedBecause says where the search ended, for each edge it searched.
func stoppedBecause(s Search, held, calm edge, storm bool) string {
	say := func(e edge, did, not string) string {
		switch {
		case e.low == 0:
			return fmt.Sprintf("the first rate, %d/s, did not %s", s.Start, not)
		case e.high == 0:
			return fmt.Sprintf("%d/s, the highest rate allowed (the rate limit), %s", e.low, did)
		}
		return fmt.Sprintf("%d/s %s and %d/s did not", e.low, did, e.high)
	}
	out := say(held, "held", "hold")
	if storm {
		out += "; " + say(calm, "stayed calm", "stay calm")
	}
	return out
}

func pick(best, first *run) *run {
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
	switch {
	case !c.StormSearched:
		s += "; retry-storm edge not searched: retries were off"
	case c.StormEdge > 0:
		s += fmt.Sprintf("; retry-storm edge (amplification under %.2f): %s", stormAmplification, rateOf(c.StormEdge))
	default:
		s += fmt.Sprintf("; no rate stayed under an amplification of %.2f", stormAmplification)
	}
	for _, st := range c.Steps {
		mark := "did not hold"
		if st.Held {
			mark = "held"
		}
		s += fmt.Sprintf("; %s %s (p99 %s, %s 2xx", rateOf(st.Rate), mark, figure.Latency(time.Duration(st.P99)), figure.Percent(st.Success))
		if c.StormSearched {
			s += fmt.Sprintf(", amplification %.3f", st.Amplification)
		}
		s += ")"
	}
	return s + "; stopped: " + c.StoppedBecause
}

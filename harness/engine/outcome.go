package engine

import (
	"context"
	"errors"

	"github.com/realm-ai/hookcert/harness/scenario"
)

// outcome is how one step of a check ended. verdict reads the outcomes of
// a run besides its observations: they say whether the check can be
// judged at all, and from what.
type outcome struct {
	kind outcomeKind
	// reason is a skipped step's, which becomes the check's.
	reason string
}

// outcomeKind is what became of a step. The kinds from stepInexpressible
// on end the check: no step runs after one.
type outcomeKind int

const (
	// stepOK ran: its observations say how the receiver did.
	stepOK outcomeKind = iota
	// stepLeftOut could not be expressed in the run's signing scheme:
	// the check goes on, and is N/A if it made no delivery at all.
	stepLeftOut
	// stepUnprobed needed the probe the run has none of: the check is
	// skipped unless what it saw without the probe failed.
	stepUnprobed
	// stepInexpressible is the step the check is about, which the
	// scheme cannot express: the check is N/A, whatever came before.
	stepInexpressible
	// stepSkipped found nothing to judge: the check is skipped with
	// the outcome's reason.
	stepSkipped
	// stepUnanswered made a delivery that got no answer: later steps
	// would only wait out the sender timeout again, so the check is
	// judged from what was seen.
	stepUnanswered
	// stepInterrupted was cut short by the run's end, or the run ended
	// before it: the check is skipped.
	stepInterrupted
	// stepFailed could not be carried out (a harness problem): it is
	// observed as a failure, so it is never silent.
	stepFailed
)

// ends reports whether the check stops after a step that ended so.
func (o outcome) ends() bool { return o.kind >= stepInexpressible }

// errUnprobed is a step's word that it was left out for want of a probe.
var errUnprobed = errors.New("left out without a probe")

// outcomeOf says how step st, number n, ended with err, making the note or
// the observation that goes with it.
func (r *run) outcomeOf(ctx context.Context, n int, st scenario.Step, err error) outcome {
	var skip *skipError
	var lo *leftOut
	switch {
	case errors.As(err, &lo) && lo.whole:
		r.note("step %d cannot be made: %s", n, lo.reason)
		return outcome{kind: stepInexpressible}
	case errors.As(err, &lo):
		r.note("step %d left out: %s", n, lo.reason)
		if st.Send != nil && st.Send.As != "" {
			r.gone[st.Send.As] = true
		}
		return outcome{kind: stepLeftOut}
	case errors.As(err, &skip):
		return outcome{kind: stepSkipped, reason: skip.reason}
	case ctx.Err() != nil:
		return outcome{kind: stepInterrupted}
	case errors.Is(err, errUnanswered):
		if n < len(r.sc.Steps) {
			r.note("stopped after step %d, whose delivery got no answer within the sender timeout: the later steps were not run", n)
		}
		return outcome{kind: stepUnanswered}
	case errors.Is(err, errUnprobed):
		return outcome{kind: stepUnprobed}
	case err != nil:
		r.observe(observation{step: n, what: "scenario", expected: "the step can be carried out", observed: err.Error()})
		return outcome{kind: stepFailed}
	}
	return outcome{kind: stepOK}
}

// first returns the first outcome of kind k the run had.
func (r *run) first(k outcomeKind) (outcome, bool) {
	for _, o := range r.outcomes {
		if o.kind == k {
			return o, true
		}
	}
	return outcome{}, false
}

// had reports whether a step of the run ended as k.
func (r *run) had(k outcomeKind) bool {
	_, ok := r.first(k)
	return ok
}

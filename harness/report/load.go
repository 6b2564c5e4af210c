package report

import (
	"fmt"
	"math"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Load is the measured side of a load run (LOAD-04 and the figures behind
// LOAD-01..03), kept as data so the HTML can draw it and `hookcert report`
// can merge runs. The LOAD-* verdicts themselves are harness.Results in
// Report.Results, category "load".
//
// With retries (DESIGN section 10) a run's deliveries are first attempts
// and retries. The top-level figures (Requests, OK, Latencies, Histogram,
// OverTime, PastTimeout) are those of the first attempts, one per event:
// LOAD-01 and LOAD-02 judge them. Retries holds the figures of every
// attempt.
type Load struct {
	// Attackers names the generator processes whose results were merged.
	Attackers []string `json:"attackers"`
	// Rate is the requested rate per second (all attackers together);
	// Duration the requested attack duration.
	Rate     float64          `json:"rate"`
	Duration harness.Duration `json:"duration"`
	// Requests is the number of deliveries sent; Throughput the measured
	// successful deliveries per second.
	Requests   int     `json:"requests"`
	Throughput float64 `json:"throughput"`
	// OK counts the deliveries answered 2xx, REALM's acknowledgement;
	// Success is their share of Requests (not vegeta's ratio, which counts
	// 3xx as success). The checks judge OK, which is exact where a share
	// would round.
	OK      int     `json:"ok"`
	Success float64 `json:"success"`
	// StatusCodes counts answers by status code ("0" = no answer).
	StatusCodes map[string]int `json:"statusCodes"`
	// Errors lists the most frequent transport errors with their counts.
	Errors []Count `json:"errors,omitempty"`
	// Latencies are the acknowledgement latency percentiles.
	Latencies Latencies `json:"latencies"`
	// Histogram buckets the latencies; each bucket counts latencies up to
	// its upper bound.
	Histogram []Bucket `json:"histogram"`
	// OverTime is latency and errors per time slice of the attack.
	OverTime []Slice `json:"overTime"`
	// PastTimeout counts deliveries slower than the sender timeout: each
	// would have been retried by REALM.
	PastTimeout      int              `json:"pastTimeout"`
	PastTimeoutShare float64          `json:"pastTimeoutShare"`
	SenderTimeout    harness.Duration `json:"senderTimeout"`
	AckDeadline      harness.Duration `json:"ackDeadline"`
	// Processed is what the probe said of the events sent (LOAD-03);
	// nil without a probe.
	Processed *Processed `json:"processed,omitempty"`
	// ResultsFiles are the raw vegeta results (gob), relative to the
	// report directory.
	ResultsFiles []string `json:"resultsFiles,omitempty"`
	// Capacity is the result of a capacity search, if one ran.
	Capacity *Capacity `json:"capacity,omitempty"`
	// Retries is the retry side of the run: every attempt, first and
	// retried. Nil in a report written before the load test retried.
	Retries *Retries `json:"retries,omitempty"`
	// Protocols are the HTTP versions the receiver answered the load in
	// ("HTTP/2.0", "HTTP/1.1"); empty when it never answered, or in a
	// report written before the load recorded them.
	Protocols []string `json:"protocols,omitempty"`
}

// Retries is what the load generator's retries did (DESIGN section 10): a
// delivery answered non-2xx or not answered within the sender timeout is
// sent again on the retry schedule, same eventId, re-signed.
type Retries struct {
	// Enabled is false when retries were off (RETRIES=0): every event
	// was sent once, and the figures below still count it.
	Enabled bool `json:"enabled"`
	// Schedule is the wait before each retry: attempt n+1 follows a
	// failed attempt n after Schedule[n-1].
	Schedule []harness.Duration `json:"schedule"`
	// Events counts the distinct events sent (their first attempts);
	// Deliveries every attempt; Amplification is Deliveries ÷ Events.
	Events        int     `json:"events"`
	Deliveries    int     `json:"deliveries"`
	Amplification float64 `json:"amplification"`
	// ByAttempt counts the retries by attempt number, from 2 up, each
	// with how many of them were acknowledged (2xx).
	ByAttempt []AttemptCount `json:"byAttempt"`
	// NeverAcknowledged counts the events no attempt of which was
	// acknowledged: lost from REALM's view. It includes the events whose
	// retry was dropped (CapDropped) or still waiting when the run ended
	// (Pending).
	NeverAcknowledged int `json:"neverAcknowledged"`
	// Pending counts the retries still waiting when the run ended (it
	// was interrupted, or the schedule ran past the run's bound).
	Pending int `json:"pending"`
	// PendingCap bounds the retries waiting at once; CapDropped counts the
	// retries not scheduled because the cap was reached.
	PendingCap int `json:"pendingCap"`
	CapDropped int `json:"capDropped"`
	// AllAttempts are the latency percentiles of every attempt; the
	// load section's own Latencies are those of the first attempts.
	AllAttempts Latencies `json:"allAttempts"`
}

// AttemptCount is how many deliveries of one attempt number were made,
// and how many of them were acknowledged.
type AttemptCount struct {
	Attempt    int `json:"attempt"`
	Deliveries int `json:"deliveries"`
	OK         int `json:"ok"`
}

// Latencies are latency percentiles of a load run.
type Latencies struct {
	Min  harness.Duration `json:"min"`
	Mean harness.Duration `json:"mean"`
	P50  harness.Duration `json:"p50"`
	P90  harness.Duration `json:"p90"`
	P95  harness.Duration `json:"p95"`
	P99  harness.Duration `json:"p99"`
	Max  harness.Duration `json:"max"`
}

// Bucket is one histogram bar: how many latencies fell in (previous Le, Le].
type Bucket struct {
	Le    harness.Duration `json:"le"`
	Count int              `json:"count"`
}

// Slice is one time slice of a load run.
type Slice struct {
	// Offset is the slice's start from the start of the attack.
	Offset   harness.Duration `json:"offset"`
	Requests int              `json:"requests"`
	Errors   int              `json:"errors"`
	P50      harness.Duration `json:"p50"`
	P99      harness.Duration `json:"p99"`
	Max      harness.Duration `json:"max"`
}

// Count is a thing and how often it happened.
type Count struct {
	What  string `json:"what"`
	Count int    `json:"count"`
}

// Processed is the probe's account of the load events (LOAD-03).
type Processed struct {
	// Checked events were asked of the probe; when the run was larger
	// than the sample, Sampled is true.
	Checked int  `json:"checked"`
	Sampled bool `json:"sampled"`
	// Once, Missing and Duplicated split the checked events.
	Once       int `json:"once"`
	Missing    int `json:"missing"`
	Duplicated int `json:"duplicated"`
}

// Capacity is the outcome of a capacity search: the highest rate whose p99
// stayed within the ack deadline with at least 99.9 % 2xx.
type Capacity struct {
	HighestRate float64 `json:"highestRate"`
	// StormEdge is the highest rate whose amplification (deliveries ÷
	// events, retries included) stayed under StormAmplification: past it,
	// the receiver tips into a retry storm. Zero when no rate stayed under
	// it, or when retries were off (StormSearched false).
	StormEdge     float64 `json:"stormEdge"`
	StormSearched bool    `json:"stormSearched"`
	// Steps are the rates tried, in order.
	Steps []CapacityStep `json:"steps"`
	// StoppedBecause says why the search ended.
	StoppedBecause string `json:"stoppedBecause"`
}

// CapacityStep is one rate of a capacity search.
type CapacityStep struct {
	Rate     float64          `json:"rate"`
	Requests int              `json:"requests"`
	P99      harness.Duration `json:"p99"`
	Success  float64          `json:"success"`
	Held     bool             `json:"held"`
	// Amplification is the step's deliveries ÷ events, retries included;
	// Calm is true when it stayed under the storm threshold.
	Amplification float64 `json:"amplification"`
	Calm          bool    `json:"calm"`
}

// shortOfPlan says how many of the events a load run planned (its rate
// for its duration) it sent, when it sent fewer than 99 % of them: under
// a receiver too slow for the rate, deliveries waiting on it and their
// retries hold the generator's workers and fresh events wait, and an
// interrupted run stops early. Empty when the run kept its plan, or for a
// capacity search, whose steps each have their own plan.
func (l *Load) shortOfPlan() string {
	if l == nil || l.Retries == nil || l.Capacity != nil || l.Rate <= 0 || l.Duration <= 0 {
		return ""
	}
	planned := int(math.Ceil(l.Rate * time.Duration(l.Duration).Seconds()))
	if sent := l.Retries.Events; float64(sent) >= 0.99*float64(planned) {
		return ""
	}
	return fmt.Sprintf("only %d of the %d events planned at %s for %s were sent", l.Retries.Events, planned, rate(l.Rate), l.Duration)
}

package report

import "github.com/realm-ai/hookcert/harness"

// Load is the measured side of a load run (LOAD-04 and the figures behind
// LOAD-01..03), kept as data so the HTML can draw it and `hookcert report`
// can merge runs. The LOAD-* verdicts themselves are harness.Results in
// Report.Results, category "load".
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
}

package report

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// errNothingToMerge means Merge was given no report.
var errNothingToMerge = errors.New("report: nothing to merge")

// Merge combines the reports of several runs of one target, typically a
// conformance run and a load run, into one report, and judges it afresh:
// Overall, Counts and ExitCode are recomputed from the merged results.
//
//   - Results are concatenated. When two reports hold the same check ID,
//     the later report's result wins and a note says so.
//   - Suite, Version and Settings come from the first report; Target too,
//     and a note names any other target.
//   - Started is the earliest start; Duration runs from there to the
//     latest end.
//   - Complete only when every report is; Errors are joined.
//   - Notes are kept once each, in order.
//   - The load sections of several generators are combined: what they
//     planned adds up (see MergeWith), and their measured figures are
//     bounded from the parts' figures by mergeLoad.
//
// The inputs are not modified.
func Merge(reports ...*Report) (*Report, error) {
	return MergeWith(nil, reports...)
}

// Measure returns the measured figures of one load made of several
// generators' results files: requests, answers, latencies, histogram and
// time slices, exactly as if one attack had made every request. With
// retries, the top-level figures are the first attempts' and Retries
// counts what the files hold of every attempt: events, deliveries,
// attempts, events never acknowledged and every attempt's latencies. The
// rest of Retries is not in the files; MergeWith takes it from the parts
// (see measuredRetries).
type Measure func(files []string, senderTimeout, ackDeadline time.Duration) (*Load, error)

// MergeWith is Merge, with the measured figures of several load sections
// computed once by measure from the results files they list, rather than
// bounded from their percentiles. Only the plan is taken from the parts:
// the attackers, the requested rates (added up), the longest duration, the
// results files, the probe's account, and what no delivery records of the
// retries (whether they were on, the schedule, the retries pending at the
// end and dropped at the cap, added up). A nil measure, a capacity search
// or a part without results files leaves the figures to mergeLoad. An
// error from measure is returned, and no report.
func MergeWith(measure Measure, reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errNothingToMerge
	}
	first := reports[0]
	out := &Report{
		Suite:    first.Suite,
		Version:  first.Version,
		Target:   first.Target,
		Settings: first.Settings,
		Started:  first.Started,
		Complete: true,
		Counts:   map[harness.Verdict]int{},
		Results:  []harness.Result{},
	}
	var end time.Time
	var errs []string
	var loads []Load
	index := map[string]int{}
	for i, r := range reports {
		if r == nil {
			return nil, fmt.Errorf("report: merge: report %d is missing", i+1)
		}
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		if e := r.Started.Add(time.Duration(r.Duration)); e.After(end) {
			end = e
		}
		out.Complete = out.Complete && r.Complete
		if r.Error != "" && !slices.Contains(errs, r.Error) {
			errs = append(errs, r.Error)
		}
		if i > 0 && r.Target != out.Target {
			out.addNote(fmt.Sprintf("merged with a run against another target: %s", r.Target))
		}
		for _, n := range r.Notes {
			out.addNote(n)
		}
		for _, res := range r.Results {
			if j, ok := index[res.ID]; ok {
				out.Results[j] = res
				out.addNote(ReplacedNote(res.ID))
				continue
			}
			index[res.ID] = len(out.Results)
			out.Results = append(out.Results, res)
		}
		if r.Load != nil {
			loads = append(loads, cloneLoad(*r.Load))
		}
	}
	if len(loads) > 0 {
		l, err := combineLoads(measure, loads)
		if err != nil {
			return nil, err
		}
		out.Load = &l
	}
	if !end.IsZero() && end.After(out.Started) {
		out.Duration = harness.Duration(end.Sub(out.Started))
	}
	out.Error = strings.Join(errs, "; ")
	out.Conclude()
	return out, nil
}

// combineLoads combines the load sections of several generators: measured
// by measure when it can be, bounded by mergeLoad otherwise.
func combineLoads(measure Measure, loads []Load) (Load, error) {
	if len(loads) == 1 {
		return loads[0], nil
	}
	exact := measure != nil && !slices.ContainsFunc(loads, func(l Load) bool { return l.Capacity != nil || len(l.ResultsFiles) == 0 })
	if !exact {
		out := loads[0]
		for _, l := range loads[1:] {
			out = mergeLoad(out, l)
		}
		return out, nil
	}
	plan := loads[0]
	retries := planRetries(loads)
	for _, l := range loads[1:] {
		plan.Attackers = append(plan.Attackers, l.Attackers...)
		plan.ResultsFiles = append(plan.ResultsFiles, l.ResultsFiles...)
		plan.Rate += l.Rate
		plan.Duration = max(plan.Duration, l.Duration)
		plan.Processed = addProcessed(plan.Processed, l.Processed)
		plan.Protocols = addProtocols(plan.Protocols, l.Protocols)
		plan.SenderTimeout = cmp.Or(plan.SenderTimeout, l.SenderTimeout)
		plan.AckDeadline = cmp.Or(plan.AckDeadline, l.AckDeadline)
	}
	m, err := measure(plan.ResultsFiles, time.Duration(plan.SenderTimeout), time.Duration(plan.AckDeadline))
	if err != nil {
		return Load{}, err
	}
	out := *m
	out.Attackers, out.ResultsFiles = plan.Attackers, plan.ResultsFiles
	out.Rate, out.Duration, out.Processed, out.Protocols = plan.Rate, plan.Duration, plan.Processed, plan.Protocols
	out.SenderTimeout, out.AckDeadline = plan.SenderTimeout, plan.AckDeadline
	out.Retries = measuredRetries(m.Retries, retries)
	return out, nil
}

// planRetries adds up the retry figures of the parts of a load (see
// addRetries), or returns nil when no part has any: reports written before
// the load test retried merge as they always did.
func planRetries(loads []Load) *Retries {
	if !slices.ContainsFunc(loads, func(l Load) bool { return l.Retries != nil }) {
		return nil
	}
	var sum *Retries
	for _, l := range loads {
		r := retriesOf(l)
		if sum == nil {
			sum = &r
			continue
		}
		*sum = addRetries(*sum, r)
	}
	return sum
}

// measuredRetries is the retry figures of a load measured from its
// generators' results files. The results files hold the deliveries made,
// so measured counts the events, the deliveries, the attempts and the
// events never acknowledged, and the latencies of every attempt. What no
// delivery records comes from the parts, added up in plan: whether
// retries were on, the schedule, the retries still pending when a
// generator stopped, each generator's cap on pending retries and the
// retries it dropped at that cap. A measure that counts no retries
// (measured nil) leaves every figure to plan, bounded from the parts.
func measuredRetries(measured, plan *Retries) *Retries {
	if plan == nil {
		return nil
	}
	if measured == nil {
		return plan
	}
	r := cloneRetries(*measured)
	r.Enabled, r.Schedule = plan.Enabled, slices.Clone(plan.Schedule)
	r.Pending, r.PendingCap, r.CapDropped = plan.Pending, plan.PendingCap, plan.CapDropped
	// An event whose retry was still pending or dropped left no failed
	// last attempt in the results: it is never acknowledged all the same.
	r.NeverAcknowledged += plan.Pending + plan.CapDropped
	return &r
}

// addProtocols is the HTTP versions either part of a load was answered
// in, a's first.
func addProtocols(a, b []string) []string {
	out := slices.Clone(a)
	for _, p := range b {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// addProcessed adds up the probe's accounts of two parts of a load; a part
// the probe did not check adds nothing.
func addProcessed(a, b *Processed) *Processed {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	p := *a
	p.Checked += b.Checked
	p.Sampled = p.Sampled || b.Sampled
	p.Once += b.Once
	p.Missing += b.Missing
	p.Duplicated += b.Duplicated
	return &p
}

// ReplacedNote is the note a merge leaves when a later report's result of
// check id replaces an earlier one's. A check judged again on the merged
// figures (the load checks) takes it back.
func ReplacedNote(id string) string {
	return id + ": the result of a later report replaces an earlier one"
}

func (r *Report) addNote(n string) {
	if !slices.Contains(r.Notes, n) {
		r.Notes = append(r.Notes, n)
	}
}

// cloneLoad copies the slices and maps of a Load, so merging never writes
// into an input report.
func cloneLoad(l Load) Load {
	l.Attackers = slices.Clone(l.Attackers)
	l.ResultsFiles = slices.Clone(l.ResultsFiles)
	l.Protocols = slices.Clone(l.Protocols)
	l.Errors = slices.Clone(l.Errors)
	l.Histogram = slices.Clone(l.Histogram)
	l.OverTime = slices.Clone(l.OverTime)
	codes := make(map[string]int, len(l.StatusCodes))
	for k, v := range l.StatusCodes {
		codes[k] = v
	}
	l.StatusCodes = codes
	if l.Processed != nil {
		p := *l.Processed
		l.Processed = &p
	}
	if l.Capacity != nil {
		c := *l.Capacity
		c.Steps = slices.Clone(c.Steps)
		l.Capacity = &c
	}
	if l.Retries != nil {
		r := cloneRetries(*l.Retries)
		l.Retries = &r
	}
	return l
}

// cloneRetries copies the slices of a Retries.
func cloneRetries(r Retries) Retries {
	r.Schedule = slices.Clone(r.Schedule)
	r.ByAttempt = slices.Clone(r.ByAttempt)
	return r
}

// retriesOf returns the retry figures of one part of a load. A part
// without them, from a report written before the load test retried, sent
// every event once: its events and deliveries are its requests, the
// events it saw no 2xx for were never acknowledged, and every attempt's
// latencies are its first attempts'. That is how a run with retries off
// counts too.
func retriesOf(l Load) Retries {
	if l.Retries != nil {
		return cloneRetries(*l.Retries)
	}
	r := Retries{
		Events:            l.Requests,
		Deliveries:        l.Requests,
		NeverAcknowledged: max(l.Requests-l.OK, 0),
		AllAttempts:       l.Latencies,
	}
	r.Amplification = amplification(r.Deliveries, r.Events)
	return r
}

// addRetries combines the retry figures of two parts of a load: counts add
// up, attempts add up by attempt number, the amplification is the sum of
// deliveries over the sum of events, and every attempt's latencies are
// bounded as mergeLatencies bounds them. Retries were on if they were on
// in either part; the schedule is the first part's that has one.
func addRetries(a, b Retries) Retries {
	out := cloneRetries(a)
	out.Enabled = a.Enabled || b.Enabled
	if out.Schedule == nil {
		out.Schedule = slices.Clone(b.Schedule)
	}
	out.Events += b.Events
	out.Deliveries += b.Deliveries
	out.Amplification = amplification(out.Deliveries, out.Events)
	out.ByAttempt = addAttempts(a.ByAttempt, b.ByAttempt)
	out.NeverAcknowledged += b.NeverAcknowledged
	out.Pending += b.Pending
	out.PendingCap += b.PendingCap
	out.CapDropped += b.CapDropped
	out.AllAttempts = mergeLatencies(a.AllAttempts, b.AllAttempts, a.Deliveries, b.Deliveries)
	return out
}

// addAttempts adds up deliveries of the same attempt number, in attempt
// order.
func addAttempts(a, b []AttemptCount) []AttemptCount {
	at := map[int]AttemptCount{}
	for _, c := range append(slices.Clone(a), b...) {
		s := at[c.Attempt]
		s.Attempt = c.Attempt
		s.Deliveries += c.Deliveries
		s.OK += c.OK
		at[c.Attempt] = s
	}
	return byKey(at)
}

// byKey returns the values of m in the order of their keys.
func byKey[K cmp.Ordered, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// amplification is deliveries ÷ events, or 0 when no event was sent.
func amplification(deliveries, events int) float64 {
	if events <= 0 {
		return 0
	}
	return float64(deliveries) / float64(events)
}

// mergeLoad combines the load sections of two runs that attacked the same
// target at the same time (several attackers): counts and rates add up;
// the mean is weighted by requests; min and max are exact; the other
// percentiles cannot be merged from percentiles, so the larger of the two
// is kept, which never makes a run look faster than it was. Histogram
// buckets with the same bound add up, and so do time slices with the same
// offset (their latencies keep the larger value). The retry figures add
// up as addRetries adds them; a part without them sent every event once
// (retriesOf). MergeWith measures instead, when it is given the raw
// results.
func mergeLoad(a, b Load) Load {
	out := cloneLoad(a)
	b = cloneLoad(b)
	out.Attackers = append(out.Attackers, b.Attackers...)
	out.ResultsFiles = append(out.ResultsFiles, b.ResultsFiles...)
	out.Rate += b.Rate
	out.Duration = max(out.Duration, b.Duration)
	out.Throughput += b.Throughput
	total := a.Requests + b.Requests
	if total > 0 {
		out.Success = (a.Success*float64(a.Requests) + b.Success*float64(b.Requests)) / float64(total)
	}
	out.Latencies = mergeLatencies(a.Latencies, b.Latencies, a.Requests, b.Requests)
	if a.Retries != nil || b.Retries != nil {
		r := addRetries(retriesOf(a), retriesOf(b))
		out.Retries = &r
	}
	out.Requests = total
	out.OK += b.OK
	for k, v := range b.StatusCodes {
		out.StatusCodes[k] += v
	}
	out.Errors = mergeCounts(out.Errors, b.Errors)
	out.Histogram = mergeBuckets(out.Histogram, b.Histogram)
	out.OverTime = mergeSlices(out.OverTime, b.OverTime)
	out.PastTimeout += b.PastTimeout
	if total > 0 {
		out.PastTimeoutShare = float64(out.PastTimeout) / float64(total)
	}
	if out.SenderTimeout == 0 {
		out.SenderTimeout = b.SenderTimeout
	}
	if out.AckDeadline == 0 {
		out.AckDeadline = b.AckDeadline
	}
	out.Processed = addProcessed(out.Processed, b.Processed)
	out.Protocols = addProtocols(out.Protocols, b.Protocols)
	if out.Capacity == nil {
		out.Capacity = b.Capacity
	}
	return out
}

// mergeLatencies bounds the latencies of two runs of na and nb
// deliveries: the mean is weighted by deliveries; min and max are exact;
// the other percentiles cannot be merged from percentiles, so the larger
// of the two is kept, which never makes a run look faster than it was.
func mergeLatencies(a, b Latencies, na, nb int) Latencies {
	out := a
	if total := na + nb; total > 0 {
		out.Mean = harness.Duration((float64(a.Mean)*float64(na) + float64(b.Mean)*float64(nb)) / float64(total))
	}
	switch {
	case na == 0:
		out.Min = b.Min
	case nb > 0:
		out.Min = min(a.Min, b.Min)
	}
	out.P50 = max(a.P50, b.P50)
	out.P90 = max(a.P90, b.P90)
	out.P95 = max(a.P95, b.P95)
	out.P99 = max(a.P99, b.P99)
	out.Max = max(a.Max, b.Max)
	return out
}

// mergeCounts adds up counts of the same thing, most frequent first.
func mergeCounts(a, b []Count) []Count {
	sum := map[string]int{}
	var order []string
	for _, c := range append(slices.Clone(a), b...) {
		if _, ok := sum[c.What]; !ok {
			order = append(order, c.What)
		}
		sum[c.What] += c.Count
	}
	out := make([]Count, 0, len(order))
	for _, w := range order {
		out = append(out, Count{What: w, Count: sum[w]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

func mergeBuckets(a, b []Bucket) []Bucket {
	sum := map[harness.Duration]Bucket{}
	for _, bk := range append(slices.Clone(a), b...) {
		s := sum[bk.Le]
		s.Le, s.Count = bk.Le, s.Count+bk.Count
		sum[bk.Le] = s
	}
	return byKey(sum)
}

func mergeSlices(a, b []Slice) []Slice {
	at := map[harness.Duration]Slice{}
	for _, s := range append(slices.Clone(a), b...) {
		m, ok := at[s.Offset]
		if !ok {
			at[s.Offset] = s
			continue
		}
		m.Requests += s.Requests
		m.Errors += s.Errors
		m.P50 = max(m.P50, s.P50)
		m.P99 = max(m.P99, s.P99)
		m.Max = max(m.Max, s.Max)
		at[s.Offset] = m
	}
	return byKey(at)
}

// Rebase rewrites the relative paths a report holds (the load section's
// raw results files), which are relative to the directory the report was
// read from, to be relative to the directory it will be written to, so
// that links in a re-rendered or merged report still work.
func (r *Report) Rebase(from, to string) {
	if r.Load == nil || from == to {
		return
	}
	absTo, err := filepath.Abs(to)
	if err != nil {
		return
	}
	for i, f := range r.Load.ResultsFiles {
		if filepath.IsAbs(f) {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(from, f))
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(absTo, abs); err == nil {
			r.Load.ResultsFiles[i] = filepath.ToSlash(rel)
		}
	}
}

// Package load is the load test (LOAD-01..04, README "The load test"): it
// attacks a receiver with vegeta, every request a fresh, valid REALM event
// signed at send time, and judges whether p99 of the acknowledgements stays
// within the ack deadline, whether (nearly) every delivery is answered 2xx,
// and, through the probe, whether every acknowledged event was processed
// exactly once. It is the only package of the suite that imports vegeta.
//
// The nouns follow vegeta's:
//
//   - A Generator runs attacks: a constant rate for a duration, bounded in
//     rate, count and time (Limits), with REALM's sender timeout and 2xx as
//     the only success. Its targeter builds a signed event per request,
//     safe for vegeta's concurrent workers. Results stream to a
//     vegeta.Encoder (gob, so that `vegeta report` and `vegeta plot` read
//     them) and into its metrics, which keep percentiles, a histogram and
//     latency over time in fixed memory.
//     The eventIds of acknowledged deliveries are sampled (a reservoir) for
//     the probe.
//   - Verify asks the probe about the sampled events; evaluate judges a load
//     section (report.Load) against LOAD-01..04.
//   - Generator.Capacity searches for the highest rate that holds.
//   - Merge merges the results of several generators exactly.
//
// Certify and Capacity wire these to a certify.Session, for the Ginkgo load
// suite and `hookcert load` / `hookcert capacity`.
package load

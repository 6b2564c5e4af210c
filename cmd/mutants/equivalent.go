package main

// explanation says why a surviving mutant needs no check: it is
// equivalent (no run of the catalogue against the receiver can tell it
// from the original), or, when Unspecified, it differs only where the
// contract sets no requirement. A mutant is named by its file and its
// line as mutated (white space aside), which survives edits elsewhere in
// the file; survivors.md shows both. An explanation that matches no
// survivor is reported, so that the list does not outlive the code.
type explanation struct {
	File, Mutant, Why string
	Unspecified       bool
}

// closeWhy explains the mutants of Server.Close: it runs once the checks
// are over, and certify.Session.Close discards its error.
const closeWhy = "Server.Close runs after the checks, and certify.Session.Close discards its error: " +
	"how a shutdown reports an error changes nothing a check can see."

// workWhy explains the mutants of the pool's work cost.
const workWhy = "Without a work cost (every configuration but the drop-under-load fault) the worker then " +
	"sleeps zero, a timer that fires at once, and processes the event as before; only while the pool " +
	"closes, after the checks, may it drop the event it holds."

// batchWhy explains the mutants of the pool's catch-up batches.
const batchWhy = "batchOver is zero unless the racy-state fault is planted, so the first operand is false in the " +
	"correct receiver and the comparison after it is never made."

// knownEquivalent are the survivors explained by hand. The mutants behind
// a planted-fault switch are recognised without a list (faultGated).
var knownEquivalent = []explanation{
	{File: "event.go", Mutant: `if t != typ {`, Unspecified: true,
		Why: "Every type is then taken for a catalogued one. ACK-04's job.archived still moves no job (its data has no " +
			"lifecycle status, and archived has no rank); only an unknown job.* type whose data.status is a lifecycle " +
			"state would move its job, and the contract asks of unknown types only that they be acknowledged."},
	{File: "event.go", Mutant: `if ev.Status != "" {`,
		Why: "A job event's state is then always its type's suffix instead of data.status; the event schemas fix " +
			"data.status to exactly that (job.completed: \"completed\"), so every valid event moves its job the same way."},
	{File: "event.go", Mutant: `if err := json.Unmarshal(raw, dst); err != nil && *dst == "" {`, Unspecified: true,
		Why: "An empty-string eventId or eventType is then acknowledged instead of refused 400. The schemas make such an " +
			"event invalid, and for invalid events the contract asks only for no 5xx (ROB-01..03)."},
	{File: "receiver.go", Mutant: `if cfg.Tolerance < 0 {`,
		Why: "A zero tolerance then reaches signing.Verifier, which takes zero as harness.DefaultTolerance as well."},
	{File: "receiver.go", Mutant: `if cfg.Tolerance > 0 {`,
		Why: "The zero tolerance a certification run starts the receiver with then reaches signing.Verifier, which " +
			"takes zero as harness.DefaultTolerance as well; only a configured tolerance would be replaced."},
	{File: "receiver.go", Mutant: `if cfg.DedupeWindow < 0 {`,
		Why: "DedupeWindow is read only under the dedupe-window fault; the correct receiver keeps every dedupe record, " +
			"whatever its window says."},
	{File: "receiver.go", Mutant: `if cfg.DedupeWindow > 0 {`,
		Why: "DedupeWindow is read only under the dedupe-window fault; the correct receiver keeps every dedupe record, " +
			"whatever its window says."},
	{File: "receiver.go", Mutant: `if r.lag >= 0 {`,
		Why: "Without a lag the event is then processed at once on a timer's goroutine instead of the pool: still " +
			"once, after the 202; only the pool's 503 when its 10000 slots are full is lost, which a conformance run never fills."},
	{File: "receiver.go", Mutant: `if r.lag <= 0 {`,
		Why: "Without a lag the event is then processed at once on a timer's goroutine instead of the pool, as with lag >= 0."},
	{File: "receiver.go", Mutant: `if req.ContentLength >= r.maxBody {`, Unspecified: true,
		Why: "A body of exactly MaxBody (1 MiB) is then refused 413 as well. The limit is the receiver's choice: the " +
			"contract asks that about 100 KB be acknowledged (ACK-06) and 5 MiB refused (ROB-05), nothing in between."},
	{File: "receiver.go", Mutant: `if r.faults[faultNoTolerance] && r.trustsRetry(h) {`,
		Why: "trustsRetry is false unless the trust-retries fault is planted, so both operands are false in the " +
			"correct receiver and && gives what || gave."},
	{File: "server.go", Mutant: `if addr != "" {`,
		Why: "A certification run starts the receiver on \"127.0.0.1:0\", which the mutant keeps instead of replacing " +
			"it with the same address."},
	{File: "server.go", Mutant: `if !ok && !tcp.IP.IsUnspecified() {`,
		Why: "For the listener on 127.0.0.1 the URL is then built from \"127.0.0.1\" and the port: the same address."},
	{File: "server.go", Mutant: `if err := s.srv.Shutdown(ctx); err == nil {`, Why: closeWhy},
	{File: "server.go", Mutant: `if s.closeErr != nil && s.serveErr != nil {`, Why: closeWhy},
	{File: "server.go", Mutant: `if s.closeErr == nil || s.serveErr != nil {`, Why: closeWhy},
	{File: "server.go", Mutant: `if s.closeErr == nil && s.serveErr == nil {`, Why: closeWhy},
	{File: "state.go", Mutant: `if ev.JobID == "" && ev.Status == "" {`,
		Why: "An event with a status but no jobId then records a state for the empty job id, which the probe cannot " +
			"be asked about (no route matches /jobs/ with an empty id); the other events are processed as before."},
	{File: "tls.go", Mutant: `KeyUsage: x509.KeyUsageDigitalSignature & x509.KeyUsageCertSign,`,
		Why: "The two bits share none, so the certificate then has no key usage extension, which RFC 5280 allows and " +
			"TLS clients, Go's included, accept: TLS-02 still verifies it for the host."},
	{File: "workers.go", Mutant: `if p.batchOver > 0 && len(p.queue) >= p.batchOver {`, Why: batchWhy},
	{File: "workers.go", Mutant: `if p.batchOver > 0 && len(p.queue) <= p.batchOver {`, Why: batchWhy},
	{File: "workers.go", Mutant: `if p.workCost >= 0 && !p.sleep(p.workCost) {`, Why: workWhy},
	{File: "workers.go", Mutant: `if p.workCost <= 0 && !p.sleep(p.workCost) {`, Why: workWhy},
	{File: "workers.go", Mutant: `if p.workCost > 0 || !p.sleep(p.workCost) {`, Why: workWhy},
}

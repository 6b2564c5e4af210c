// Package receiver is the reference REALM webhook receiver: a correct
// receiver written the way we tell customers to write one, and, switchable
// one at a time, every bug of the planted-fault table planted in it
// (README "The reference receiver"). The suite runs against the correct
// receiver by default (so a fresh clone demonstrates a passing
// certification) and against each fault in its own tests (so each check is
// shown to catch the bug it exists for).
//
// # How a delivery is handled, and why
//
// receiver.ServeHTTP serves the webhook at WebhookPath. Each step below
// answers one way real receivers fail:
//
//  1. Only POST is a delivery. Anything else gets 405 with "Allow: POST" and
//     is never processed: a crawler's GET must not run business logic.
//  2. The body is bounded (Config.MaxBody, 1 MiB): a declared oversize body
//     is refused with 413 before a byte is read, and http.MaxBytesReader
//     stops an undeclared one at the limit.
//  3. The signature is checked on the raw bytes, before the body is parsed:
//     HMAC-SHA256 compared in constant time (signing.Verifier), any v1 entry
//     under any configured secret (so secrets can rotate), and t within the
//     tolerance of now (so a captured delivery cannot be replayed later). A
//     failure is 401 with a body that says nothing more: never 5xx, which
//     would make REALM retry, and never the expected signature.
//  4. The body is parsed tolerantly: it must be a JSON object with string
//     eventId and eventType and an object data, else 400 (a 5xx would make
//     REALM retry a message that can never succeed). Unknown event types
//     are acknowledged and counted but change nothing; unknown fields are
//     ignored. New types and fields then never break the receiver.
//  5. The event id is claimed atomically: checking whether it was seen and
//     recording it happen under one lock (in a real application, an INSERT
//     into a table with a unique key). Of concurrent copies exactly one
//     wins; the others, and every later redelivery, are acknowledged 200
//     and not processed again.
//  6. The event is put on a queue and acknowledged at once (202); a pool of
//     Config.Workers goroutines does the work. The ack deadline then
//     measures a channel send, not the business logic. If the queue is full
//     the receiver answers 503 and forgets its claim, so that REALM's retry
//     is processed: an acknowledged event must never be lost.
//  7. Processing runs a lifecycle state machine per job that never
//     regresses: queued < processing < completed, failed, canceled.
//     Deliveries arrive out of order and are retried, so a late
//     job.processing must not overwrite job.completed, and a terminal state
//     is final. A terminal event for a job never seen is applied.
//
// The probe (README "The probe contract") lives under ProbePath, read-only
// and optionally behind a bearer token: GET ProbePath/events/{eventId} says how
// often the business logic ran for an event, GET ProbePath/jobs/{jobId} the
// state a job is in. In production it would be absent or on an internal
// port; on staging it is what lets the suite see processing, not just
// status codes.
//
// The dedupe set and the job table are kept in memory and grow with the
// events seen, which is fine for a test target; a production receiver keeps
// them in its database, with an expiry on the dedupe keys.
//
// # Faults
//
// Config.Faults plants bugs, each changing exactly one of the steps above
// (see Fault and Faults; several may be combined). Start serves a Receiver
// on a real socket, over HTTPS with a generated certificate when asked, and
// there the faults tls-legacy and expired-cert take effect.
package receiver

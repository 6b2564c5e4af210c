package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness/signing"
)

// Fault names one planted bug (README "The reference receiver"). A
// receiver started with a fault behaves correctly except for exactly that
// one thing, so the suite's own tests can show that each check catches the
// bug it is written for.
type Fault string

// The planted faults, in the order of the planted-fault table, faultTable.
const (
	// faultSkipVerify does no signature verification at all.
	faultSkipVerify Fault = "skip-verify"
	// faultNoTolerance checks the HMAC but ignores the age of t.
	faultNoTolerance Fault = "no-tolerance"
	// faultFirstSignatureOnly checks only the first v1 entry of the header.
	faultFirstSignatureOnly Fault = "first-signature-only"
	// fault5xxOnBadSignature answers 500 instead of 401 to a rejected
	// signature (it still does not process the delivery).
	fault5xxOnBadSignature Fault = "5xx-on-bad-signature"
	// faultLeakSignature echoes the expected v1 signature in the 401 body.
	faultLeakSignature Fault = "leak-signature"
	// faultVerifyReparsed computes the MAC over the body parsed and written
	// again (as a framework that hands the handler a parsed object would),
	// not over the raw bytes: any other formatting of the same event fails.
	faultVerifyReparsed Fault = "verify-reparsed"
	// faultMarkBeforeVerify records the eventId as seen before checking the
	// signature, so a forged delivery carrying a real event's id makes the
	// genuine one a duplicate.
	faultMarkBeforeVerify Fault = "mark-before-verify"
	// faultDoubleProcess does no deduplication: every delivery is processed.
	faultDoubleProcess Fault = "double-process"
	// fault500OnDuplicate answers 500 to a redelivery of an event it has
	// already seen (and does not process it again).
	fault500OnDuplicate Fault = "500-on-duplicate"
	// faultRacyDedupe checks whether an event was seen and records it in two
	// separate steps, with a window between them in which concurrent copies
	// all pass the check.
	faultRacyDedupe Fault = "racy-dedupe"
	// faultDedupeByJob deduplicates on data.jobId and eventType instead of
	// eventId, so distinct events of the same job and type are dropped.
	faultDedupeByJob Fault = "dedupe-by-job"
	// faultSlowAck processes the event before answering, which takes
	// the timing's SlowAck, on Config.AckSlots slots at once (slowAckSlots
	// by default), as a synchronous receiver's threads would: above their
	// rate deliveries wait for a slot and the latency climbs.
	faultSlowAck Fault = "slow-ack"
	// faultLastWriteWins applies whatever job state arrives last, without
	// ranking the lifecycle.
	faultLastWriteWins Fault = "last-write-wins"
	// faultIgnoreUnseenJob ignores events for a job it has not seen queued,
	// so a terminal event that overtakes the job's first event is lost. It
	// is the one fault added to the 20 first planned: it proves ORD-04.
	faultIgnoreUnseenJob Fault = "ignore-unseen-job"
	// faultRejectUnknownType answers 400 to event types not in the catalogue.
	faultRejectUnknownType Fault = "reject-unknown-type"
	// faultStrictFields answers 400 to envelope or data fields outside the
	// catalogue.
	faultStrictFields Fault = "strict-fields"
	// fault500OnMalformed answers 500 to invalid JSON, missing required
	// fields or an empty body, as a handler that crashes on them would.
	fault500OnMalformed Fault = "500-on-malformed"
	// faultAcceptAnyMethod handles GET, PUT, DELETE, ... like POST.
	faultAcceptAnyMethod Fault = "accept-any-method"
	// faultNoSizeLimit reads any body whole and only then answers 500 when it
	// is over the limit.
	faultNoSizeLimit Fault = "no-size-limit"
	// faultRedirect answers every webhook delivery with a 307 to redirectPath,
	// which is not served.
	faultRedirect Fault = "redirect"
	// faultDropUnderLoad queues events in dropQueueSize slots on slow workers
	// and, when the queue is full, drops the event but still acknowledges it.
	faultDropUnderLoad Fault = "drop-under-load"
	// faultDropModelEvents acknowledges model.training.* events like any
	// other, but its worker never processes them: an acknowledgement
	// broken as a promise.
	faultDropModelEvents Fault = "drop-model-events"
	// faultProcessRejected refuses a bad signature with 401 like the
	// correct receiver, but has already handed the event to its business
	// logic (it logs and processes before it decides the answer).
	faultProcessRejected Fault = "process-rejected"
	// faultTrustRetries skips the age check of t when X-Webhook-Attempt
	// says the delivery is a retry, as if a retry were exempt from replay.
	faultTrustRetries Fault = "trust-retries"
	// faultNoTerminalGuard lets a terminal state replace another terminal
	// state: job.completed after job.failed changes the job.
	faultNoTerminalGuard Fault = "no-terminal-guard"
	// faultModelSkipVerify verifies job.* deliveries only: a
	// model.training.* delivery is accepted whatever its signature.
	faultModelSkipVerify Fault = "model-skip-verify"
	// faultModelNoDedupe deduplicates job.* events only: every delivery of
	// a model.training.* event is processed.
	faultModelNoDedupe Fault = "model-no-dedupe"
	// faultModelLastWriteWins ranks the lifecycle for job.* events only: a
	// late model.training.* event overwrites its job's state.
	faultModelLastWriteWins Fault = "model-last-write-wins"
	// faultStrictHeader refuses a signature header with an entry it does
	// not know (v0=, v2=) beside a valid signature, which a newer sender
	// may add.
	faultStrictHeader Fault = "strict-header"
	// faultMixedTimestamps accepts a signature valid under any t entry of
	// the header and takes the age from the last one: a stale signature
	// passes beside a fresh t.
	faultMixedTimestamps Fault = "mixed-timestamps"
	// faultDedupeExpiry forgets a dedupe record after half the timing's
	// DedupeGap (5 s at real time), so a late redelivery is processed again.
	faultDedupeExpiry Fault = "dedupe-expiry"
	// faultDedupeByHeader deduplicates on the id header (X-Webhook-Id),
	// which REALM v1 does not sign, instead of the body's eventId.
	faultDedupeByHeader Fault = "dedupe-by-header"
	// faultDropUnknownFields acknowledges an event with fields it does not
	// know, and drops it.
	faultDropUnknownFields Fault = "drop-unknown-fields"
	// faultDropUnknownValues acknowledges an event whose jobType or
	// errorCode it does not know, and drops it.
	faultDropUnknownValues Fault = "drop-unknown-values"
	// faultDropOldEvents acknowledges an event created over an hour ago (a
	// late retry), and drops it.
	faultDropOldEvents Fault = "drop-old-events"
	// faultDropLarge acknowledges an event of over largeEvent bytes, and
	// drops it.
	faultDropLarge Fault = "drop-large"
	// faultSplitUTF8 decodes the body as text one read of splitRead bytes
	// at a time, so a character split between two reads is corrupted and
	// the signature no longer matches.
	faultSplitUTF8 Fault = "split-utf8"
	// faultTrustContentLength enforces the size limit on the declared
	// Content-Length only: a body sent chunked, without one, is read
	// whole and processed however large.
	faultTrustContentLength Fault = "trust-content-length"
	// faultFlaky refuses a fixed share of first deliveries, flakyShare of
	// them, with 503 and without processing them; the retry of a refused
	// delivery is handled normally. A first delivery is judged by the
	// eventId, not by X-Webhook-Attempt, which some schemes do not send.
	faultFlaky Fault = "flaky"
	// faultDropWhenFull queues events in fullQueueSize slots on workers that
	// spend dropWorkCost on each and, when the queue is full, acknowledges
	// the event and drops it: a sustained burst above the workers' rate
	// loses events, a conformance run's short bursts fit.
	faultDropWhenFull Fault = "drop-when-full"
	// faultProcessStale refuses a delivery whose t is past the tolerance,
	// old or ahead, with 401 like the correct receiver, but has processed
	// it first: it checks the age only after handing a correctly signed
	// event to its business logic. Other refusals are not processed.
	faultProcessStale Fault = "process-stale"
	// faultDedupeWindow remembers only the last Config.DedupeWindow event
	// ids it claimed (defaultDedupeWindow), as a capped list or a
	// fixed-size cache would: a redelivery that comes after more other
	// events than that is processed again.
	faultDedupeWindow Fault = "dedupe-window"
	// faultDecodeChunks decodes the body as text read by read, each Read of
	// the request body decoded on its own and appended, as Node's
	// data += chunk does: a character that the network splits between two
	// reads is corrupted and the signature no longer matches. Unlike
	// faultSplitUTF8 it cuts where the reads from the connection end.
	faultDecodeChunks Fault = "decode-chunks"
	// faultLastSignatureOnly reads the signature header's entries into a
	// map, as Python's dict() over the pairs does, so that of several
	// signature entries only the last is checked.
	faultLastSignatureOnly Fault = "last-signature-only"
	// faultLimit100K limits bodies to limit100K bytes, body-parser's
	// default of '100kb': a larger event is refused 413.
	faultLimit100K Fault = "limit-100k"
	// faultSlowModelAck processes model.training.* events before
	// answering, as faultSlowAck processes every event; job.* events are
	// acknowledged at once and processed after.
	faultSlowModelAck Fault = "slow-model-ack"
	// faultRacyState catches up on a backlog by a path that forgot the
	// lock. Its workers spend dropWorkCost on each event, as under
	// faultDropWhenFull, and once more than racyBacklog events wait they
	// take them racyBatch at a time, so that a sustained burst is served;
	// but that batch path reads the queue without the lock the one-by-one
	// path takes (a slice guarded on some paths only), and two workers
	// take the same batch: its events are processed twice. The reference
	// receiver must stay free of data races, so the batch is taken safely
	// and processed twice on purpose, the outcome of the race.
	faultRacyState Fault = "racy-state"
	// faultCrashOnMalformed crashes the handler on what fault500OnMalformed
	// answers 500 to: invalid JSON, missing required fields, an empty
	// body. The server then drops the delivery unanswered (HTTP/1.1
	// closes the connection, HTTP/2 resets the stream), as a receiver
	// whose process dies on such an input and is restarted does.
	faultCrashOnMalformed Fault = "crash-on-malformed"
	// faultTLSLegacy makes the HTTPS server also accept TLS 1.0 and 1.1.
	faultTLSLegacy Fault = "tls-legacy"
	// faultExpiredCert makes the HTTPS server present a certificate whose
	// validity ended a day ago.
	faultExpiredCert Fault = "expired-cert"
)

// errUnknownFault is returned (wrapped) by ParseFault and New for a fault
// name that is not in Faults.
var errUnknownFault = errors.New("unknown fault")

// faultTable is the planted-fault table: every fault with its description.
var faultTable = []struct {
	f    Fault
	desc string
}{
	{faultSkipVerify, "no signature verification at all"},
	{faultNoTolerance, "checks the HMAC but ignores the age of t (replays accepted)"},
	{faultFirstSignatureOnly, "checks only the first v1 entry (breaks secret rotation)"},
	{fault5xxOnBadSignature, "answers 500 instead of 401 to a bad signature"},
	{faultLeakSignature, "echoes the expected signature in the 401 body"},
	{faultVerifyReparsed, "computes the MAC over the parsed and re-serialized body, not the raw bytes"},
	{faultMarkBeforeVerify, "records the eventId as seen before checking the signature"},
	{faultDoubleProcess, "no deduplication: every delivery is processed"},
	{fault500OnDuplicate, "a redelivery of a seen event fails with 500"},
	{faultRacyDedupe, "check-then-insert dedupe without a lock: concurrent copies all pass"},
	{faultDedupeByJob, "dedupes on jobId and eventType instead of eventId"},
	{faultSlowAck, "processes before answering (1.5 s per delivery at real time), 64 at once: about 42 deliveries/s"},
	{faultLastWriteWins, "applies whatever job state arrives last (late events regress jobs)"},
	{faultIgnoreUnseenJob, "ignores events for jobs it has not seen queued (early terminal events lost)"},
	{faultRejectUnknownType, "400 on event types not in the catalogue"},
	{faultStrictFields, "400 on envelope or data fields not in the catalogue"},
	{fault500OnMalformed, "500 on invalid JSON, missing fields or an empty body"},
	{faultAcceptAnyMethod, "processes GET, PUT and DELETE like POST"},
	{faultNoSizeLimit, "reads any body whole, then answers 500 when it is too large"},
	{faultRedirect, "307 to /webhook/v2 for every delivery"},
	{faultDropUnderLoad, "a 400-slot queue served at about 80 events/s that silently drops events when full"},
	{faultDropModelEvents, "acknowledges model.training.* events but never processes them"},
	{faultProcessRejected, "refuses a bad signature with 401, but has already processed the event"},
	{faultTrustRetries, "skips the age check of t when X-Webhook-Attempt is over 1"},
	{faultNoTerminalGuard, "a terminal state replaces another (job.completed after job.failed)"},
	{faultModelSkipVerify, "verifies job.* deliveries only, never model.training.* ones"},
	{faultModelNoDedupe, "deduplicates job.* events only: model.training.* redeliveries are processed again"},
	{faultModelLastWriteWins, "a late model.training.* event overwrites its job's state"},
	{faultStrictHeader, "refuses a signature header with unknown entries (v0=, v2=) beside a valid one"},
	{faultMixedTimestamps, "a signature may match any t entry; the age is taken from the last"},
	{faultDedupeExpiry, "forgets dedupe records after 5 s"},
	{faultDedupeByHeader, "dedupes on the unsigned id header instead of the body's eventId"},
	{faultDropUnknownFields, "acknowledges events with unknown fields, then drops them"},
	{faultDropUnknownValues, "acknowledges events with an unknown jobType or errorCode, then drops them"},
	{faultDropOldEvents, "acknowledges events created over an hour ago, then drops them"},
	{faultDropLarge, "acknowledges events over 8,000 bytes, then drops them"},
	{faultSplitUTF8, "decodes the body 4 KiB at a time: characters split between reads are corrupted"},
	{faultTrustContentLength, "limits the size declared by Content-Length only: a chunked body is read whole, however large"},
	{faultFlaky, "answers 503 to every 10th first delivery of an event, unprocessed; its retry is handled"},
	{faultDropWhenFull, "a 150-slot queue served at about 80 events/s that silently drops events when full"},
	{faultProcessStale, "refuses a stale or future t with 401, but has already processed the event"},
	{faultDedupeWindow, "remembers only the last 1,000 event ids: a later redelivery is processed again"},
	{faultDecodeChunks, "decodes the body read by read: characters the network splits are corrupted"},
	{faultLastSignatureOnly, "checks only the last v1 entry (a map of the header's pairs)"},
	{faultLimit100K, "refuses bodies over 102,400 bytes (body-parser's '100kb') with 413"},
	{faultSlowModelAck, "processes model.training.* events before answering (1.5 s at real time)"},
	{faultRacyState, "past a backlog of 150 events, workers share batches: their events are processed twice"},
	{faultCrashOnMalformed, "crashes on invalid JSON, missing fields or an empty body: the delivery is dropped unanswered"},
	{faultTLSLegacy, "HTTPS also accepts TLS 1.0 and 1.1"},
	{faultExpiredCert, "HTTPS serves a certificate that expired a day ago"},
}

// Faults returns every fault, in the order of the planted-fault table.
func Faults() []Fault {
	out := make([]Fault, len(faultTable))
	for i, e := range faultTable {
		out[i] = e.f
	}
	return out
}

// Description returns a one-line description of the fault for a usage
// message, or "" for a fault that does not exist.
func (f Fault) Description() string {
	for _, e := range faultTable {
		if e.f == f {
			return e.desc
		}
	}
	return ""
}

// ParseFault returns the fault named s. The error wraps errUnknownFault and
// lists the valid names, so a mistyped fault name tells the user what to type.
func ParseFault(s string) (Fault, error) {
	s = strings.TrimSpace(s)
	for _, e := range faultTable {
		if string(e.f) == s {
			return e.f, nil
		}
	}
	names := make([]string, len(faultTable))
	for i, e := range faultTable {
		names[i] = string(e.f)
	}
	return "", fmt.Errorf("receiver: %w %q: valid faults are %s", errUnknownFault, s, strings.Join(names, ", "))
}

// Sizes of the faults that read the body: faultDropLarge drops events over
// largeEvent bytes, faultSplitUTF8 decodes splitRead bytes at a time.
const (
	largeEvent = 8000
	splitRead  = 4096
)

// oldEvent is the age of createdAt past which faultDropOldEvents drops an
// event.
const oldEvent = time.Hour

// knownJobTypes and knownErrorCodes are the values faultDropUnknownValues
// was written against: today's catalogue.
var (
	knownJobTypes   = fieldSet("image_generation", "video_generation", "upscale")
	knownErrorCodes = fieldSet("content_policy_violation", "generation_timeout", "invalid_input", "internal_error",
		"insufficient_training_images", "training_diverged")
)

// dropped says why one of the dropping faults acknowledges ev and never
// processes it, or "" when none applies.
func (r *receiver) dropped(ev event, body []byte) string {
	if !r.faults[faultDropLarge] && !r.faults[faultDropUnknownFields] && !r.faults[faultDropUnknownValues] && !r.faults[faultDropOldEvents] {
		// The correct receiver decodes nothing more of the body.
		return ""
	}
	var doc struct {
		CreatedAt string `json:"createdAt"`
		Data      struct {
			JobType   *string `json:"jobType"`
			ErrorCode *string `json:"errorCode"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &doc)
	switch {
	case r.faults[faultDropLarge] && len(body) > largeEvent:
		return "too large: dropped"
	case r.faults[faultDropUnknownFields] && isCatalogued(ev.Type):
		if _, err := parseEvent(body, false, true); err != nil {
			return "unknown field: dropped"
		}
	case r.faults[faultDropUnknownValues]:
		if jt := doc.Data.JobType; jt != nil && !knownJobTypes[*jt] {
			return "unknown jobType: dropped"
		}
		if ec := doc.Data.ErrorCode; ec != nil && !knownErrorCodes[*ec] {
			return "unknown errorCode: dropped"
		}
	case r.faults[faultDropOldEvents]:
		if at, err := time.Parse(time.RFC3339, doc.CreatedAt); err == nil && r.clock.Now().Sub(at) > oldEvent {
			return "old event: dropped"
		}
	}
	return ""
}

// splitDecode is the body as faultSplitUTF8 reads it: each read of
// splitRead bytes decoded as text on its own, a character cut between two
// reads replaced.
func splitDecode(body []byte) []byte {
	var out []byte
	for len(body) > 0 {
		n := min(splitRead, len(body))
		out = appendText(out, body[:n])
		body = body[n:]
	}
	return out
}

// chunkRead is the buffer faultDecodeChunks reads into: the size of a
// Node socket's reads, larger than a network segment or a TLS record, so
// that a Read returns what had arrived.
const chunkRead = 64 << 10

// decodeChunks reads rd to the end as faultDecodeChunks does: each Read's
// bytes decoded as text on their own and appended, a character that two
// reads split replaced.
func decodeChunks(rd io.Reader) ([]byte, error) {
	buf := make([]byte, chunkRead)
	var out []byte
	for {
		n, err := rd.Read(buf)
		out = appendText(out, buf[:n])
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// appendText appends chunk decoded as UTF-8 text on its own, each invalid
// sequence (a character's bytes cut at either end) replaced by U+FFFD, as
// a decoder that does not carry bytes over between chunks does.
func appendText(out, chunk []byte) []byte {
	return append(out, strings.ToValidUTF8(string(chunk), "\uFFFD")...)
}

// isStale reports whether a verification error is the age check of t, old
// or ahead: what faultProcessStale checks only after processing.
func isStale(err error) bool {
	return errors.Is(err, signing.ErrTooOld) || errors.Is(err, signing.ErrTooNew)
}

// lastSignature is the header h of the scheme sc as faultLastSignatureOnly
// reads it: of the signature entries only the last, the other entries (a
// timestamp, entries it does not know) as they were. A parser that puts
// the key=value pairs of the header into a map keeps the last value of a
// repeated key.
func lastSignature(sc *signing.Scheme, h http.Header) http.Header {
	prefix, _, _ := strings.Cut(sc.Signature.Entry, "{signature}")
	parts := strings.Split(h.Get(sc.Signature.Header), sc.Signature.Separator)
	last := -1
	for i, p := range parts {
		if strings.HasPrefix(p, prefix) {
			last = i
		}
	}
	var kept []string
	for i, p := range parts {
		if i == last || !strings.HasPrefix(p, prefix) {
			kept = append(kept, p)
		}
	}
	h = h.Clone()
	h.Set(sc.Signature.Header, strings.Join(kept, sc.Signature.Separator))
	return h
}

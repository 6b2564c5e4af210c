// Package scenario defines the scripted checks of the conformance suite:
// one Scenario per check ID (README "The checks"), written by people in
// YAML (or JSON) files under scenarios/, validated against
// schemas/scenario.schema.json, and interpreted by the engine package.
//
// A scenario is a list of steps. Each step does one thing: send a delivery
// (with mutations), deliver shuffled job lifecycles, pause, ask the probe,
// or probe TLS. Send steps carry expectations on the answer; probe steps are
// expectations on what the receiver processed.
package scenario

import "github.com/realm-ai/hookcert/harness"

// Scenario is one check of the requirement catalogue.
type Scenario struct {
	// ID is the stable check ID, e.g. "SIG-02".
	ID    string `json:"id"`
	Title string `json:"title"`
	// Level is MUST, SHOULD or INFO.
	Level harness.Level `json:"level"`
	// Category groups checks in reports and selects them with labels:
	// signature, acknowledgement, idempotency, ordering, retry, robustness, tls.
	Category string `json:"category"`
	// Requirement is the catalogue's requirement text, quoted in reports.
	Requirement string `json:"requirement"`
	// Seed quotes the product's own words the requirement rests on.
	Seed string `json:"seed"`
	// Fix says what a receiver must change to pass, in the README's words,
	// ending with a link to its section (README.md#anchor). Reports show
	// it for failing and warning checks. Every built-in scenario has one;
	// a user's own may leave it out.
	Fix string `json:"fix,omitempty"`
	// Probe is true when the check needs the probe. Without a probe URL
	// its status expectations are still judged; only when they all hold
	// is it skipped, saying that processing was not verified.
	Probe bool `json:"probe,omitempty"`
	// Exclusive scenarios run alone, after the others, because they measure
	// latency that concurrent traffic would distort.
	Exclusive bool `json:"exclusive,omitempty"`
	// After lists check IDs that must have finished before this one starts.
	After []string `json:"after,omitempty"`
	// Final scenarios judge the whole run (its ledger): they run after
	// every other check, one at a time.
	Final bool `json:"final,omitempty"`
	// Labels are extra Ginkgo labels besides the category and level.
	Labels []string `json:"labels,omitempty"`
	Steps  []Step   `json:"steps"`

	// Source is the file the scenario was read from (set by the loader).
	Source string `json:"-"`
}

// Step is one step of a scenario. Exactly one of Send, Lifecycles, Pause,
// Probe, TLS and Ledger is set.
type Step struct {
	Send       *Send       `json:"send,omitempty"`
	Lifecycles *Lifecycles `json:"lifecycles,omitempty"`
	Pause      *Pause      `json:"pause,omitempty"`
	Probe      *ProbeCheck `json:"probe,omitempty"`
	TLS        *TLSCheck   `json:"tls,omitempty"`
	Ledger     *Ledger     `json:"ledger,omitempty"`
	// Expect applies to the deliveries of a Send or Lifecycles step.
	Expect *Expect `json:"expect,omitempty"`
}

// Send delivers an event, once or several times.
type Send struct {
	// Event is the name of an event sent by an earlier step (a
	// redelivery) ...
	Event string `json:"event,omitempty"`
	// ... or Build describes a new event to build from the catalogue.
	Build *Build `json:"build,omitempty"`
	// As names the event so later steps can redeliver or probe it.
	As string `json:"as,omitempty"`
	// Each "catalogue" repeats the step for every event type of the
	// catalogue (Build.Type is then ignored).
	Each string `json:"each,omitempty"`
	// Repeat sends that many fresh events one after the other (default 1).
	Repeat int `json:"repeat,omitempty"`
	// Copies sends that many identical copies at the same time (default 1).
	Copies int `json:"copies,omitempty"`
	// Method is the HTTP method (default POST).
	Method string `json:"method,omitempty"`
	// Attempt is the X-Webhook-Attempt number (default 1).
	Attempt int `json:"attempt,omitempty"`
	// Abandon closes the connection once the body is sent, before any answer.
	Abandon bool `json:"abandon,omitempty"`
	// SplitCharacters ends some of the body's segments inside 2-, 3- and
	// 4-byte UTF-8 characters, so that a receiver that decodes each read
	// on its own corrupts them. Every body is written in segments of
	// about 1-1.5 KB with short pauses, as a network delivers it.
	SplitCharacters bool `json:"splitCharacters,omitempty"`
	// Background starts the delivery and goes on to the next step at once;
	// probe steps and the end of the scenario wait for it.
	Background bool `json:"background,omitempty"`
	// Replay resends the previous delivery of Event byte for byte,
	// signature header included (an identical redelivery).
	Replay bool `json:"replay,omitempty"`
	// NewID, with Replay, puts a fresh event id in the scheme's id header:
	// the captured delivery replayed with another unsigned header.
	NewID     bool       `json:"newId,omitempty"`
	Signature *Signature `json:"signature,omitempty"`
	Body      *Body      `json:"body,omitempty"`
}

// Build describes an event built by the event factory.
type Build struct {
	// Type is a catalogue event type, or any dotted name when Unknown.
	Type string `json:"type,omitempty"`
	// Unknown allows a type outside the catalogue (forward compatibility).
	Unknown bool `json:"unknown,omitempty"`
	// Job names the job: events with the same Job share one jobId; no Job
	// means a fresh job.
	Job string `json:"job,omitempty"`
	// Extra adds unknown fields to envelope and data.
	Extra bool `json:"extra,omitempty"`
	// Results is the number of results of a job.completed event.
	Results int `json:"results,omitempty"`
	// Set overrides fields by dotted path (the result must still validate).
	// Values are in the JSON data model as the loader decodes them:
	// numbers are json.Number, so that they are sent exactly as written.
	Set map[string]any `json:"set,omitempty"`
}

// Signature mutates the X-Webhook-Signature header of a delivery. The zero
// value signs correctly with the secret at the time of sending.
type Signature struct {
	// Missing omits the header.
	Missing bool `json:"missing,omitempty"`
	// WrongSecret signs with a secret that is not the receiver's.
	WrongSecret bool `json:"wrongSecret,omitempty"`
	// Header is sent verbatim, after replacing {t} with the unix time,
	// {v1} with the correct signature and {v1/2} with its first half.
	Header *string `json:"header,omitempty"`
	// Offset shifts t from now, e.g. "-10m" (stale) or "10m" (future).
	Offset string `json:"offset,omitempty"`
	// Tamper alters the body after signing it.
	Tamper bool `json:"tamper,omitempty"`
	// Rotated puts that many v1 entries made with other secrets beside the
	// valid one (secret rotation), before it unless Valid says otherwise.
	Rotated int `json:"rotated,omitempty"`
	// Valid, with Rotated, places the valid entry among the others:
	// "first", "middle" or "last" (the default).
	Valid string `json:"valid,omitempty"`
	// Malformed sends a malformed header of the run's scheme: empty,
	// garbage, no-signature, bad-encoding, truncated or no-timestamp.
	Malformed string `json:"malformed,omitempty"`
	// UnknownEntries puts entries of versions the scheme does not define
	// (v0, v2) beside the valid signature, as a newer sender may.
	UnknownEntries bool `json:"unknownEntries,omitempty"`
	// Timestamps sends two timestamp entries, the current time and one 10
	// minutes old, with a signature valid for the old one only: "fresh-first"
	// or "fresh-last" says their order.
	Timestamps string `json:"timestamps,omitempty"`
}

// Body replaces the event's body with a deliberately bad one. The body is
// still signed correctly unless Signature says otherwise.
type Body struct {
	// Raw is sent as is (malformed JSON).
	Raw *string `json:"raw,omitempty"`
	// Delete removes fields by dotted path (missing required fields).
	Delete []string `json:"delete,omitempty"`
	// Size pads the event to this size, e.g. "5MiB" (still valid JSON).
	Size string `json:"size,omitempty"`
	// Format writes the same event in other bytes (FormatPretty, ...), so
	// that only a receiver that verifies the raw body accepts it.
	Format string `json:"format,omitempty"`
	// Multibyte, with Size, pads with multi-byte UTF-8 text instead of
	// ASCII, so that characters straddle the receiver's reads.
	Multibyte bool `json:"multibyte,omitempty"`
	// Chunked, with Size, sends the body without a Content-Length.
	Chunked bool `json:"chunked,omitempty"`
	// Set overrides fields by dotted path after the event is built,
	// without validating it: values a newer REALM may send that today's
	// schemas do not list (a new jobType).
	Set map[string]any `json:"set,omitempty"`
}

// The byte forms of Body.Format: the same JSON value, written otherwise.
const (
	// FormatPretty indents the event over several lines.
	FormatPretty = "pretty"
	// FormatEscaped writes every non-ASCII character of its strings as a
	// \uXXXX escape.
	FormatEscaped = "escaped"
	// FormatDecimal writes its integers with a fraction, 7 as 7.0.
	FormatDecimal = "decimal"
	// FormatExponent writes its integers in exponent form, 1000 as 1e+03.
	FormatExponent = "exponent"
	// FormatReversed writes the keys of every object in reverse order.
	FormatReversed = "reversed"
	// FormatSlashes escapes every '/' of its strings as \/, as some JSON
	// writers (PHP's, Java's) do.
	FormatSlashes = "slashes"
)

// Lifecycles delivers the whole lifecycle of several jobs, each job's
// events in shuffled order with its terminal event never last, all jobs at
// the same time.
type Lifecycles struct {
	Jobs    int    `json:"jobs"`
	Shuffle bool   `json:"shuffle,omitempty"`
	As      string `json:"as"`
}

// Pause waits, either a fixed duration or the retry schedule's backoff
// before the given attempt (Retry 2 waits the first backoff).
type Pause struct {
	For   string `json:"for,omitempty"`
	Retry int    `json:"retry,omitempty"`
	// DedupeGap waits the run's dedupe gap (DEDUPE_GAP, 10 s by default).
	DedupeGap bool `json:"dedupeGap,omitempty"`
	// Volume, with DedupeGap, delivers the run's DEDUPE_VOLUME fresh
	// signed events of every type while it waits, in bursts (up to
	// DEDUPE_RATE a second, 50 in flight), each expected 2xx.
	Volume bool `json:"volume,omitempty"`
}

// Ledger judges the whole run from its ledger (DESIGN section 5); only a
// final scenario has one. Exactly one of its fields is set.
type Ledger struct {
	// Processed: every event acknowledged anywhere in the run was
	// processed exactly once, and every event whose deliveries were all
	// refused never (probe).
	Processed bool `json:"processed,omitempty"`
	// AckTimes: every delivery of the run was answered within the ack
	// deadline (more than 1 % late, or any past the sender timeout,
	// fails; any late warns).
	AckTimes bool `json:"ackTimes,omitempty"`
	// Availability: every delivery of the run found the receiver there to
	// answer it (none refused, reset or closed before an answer); the
	// checks an outage took from judgment become AFFECTED.
	Availability bool `json:"availability,omitempty"`
}

// ProbeCheck asks the probe what the receiver did. Exactly one of Event,
// Job and Lifecycles is set.
type ProbeCheck struct {
	// Event and Processed: the event was processed exactly this many times.
	Event     string `json:"event,omitempty"`
	Processed *int   `json:"processed,omitempty"`
	// Late, instead of Processed: the event arrived after its job passed
	// its state, so it may be processed once or skipped, never twice.
	Late bool `json:"late,omitempty"`
	// Job and Status: the job ended in this state; Job names a job of a
	// Build step.
	Job    string `json:"job,omitempty"`
	Status string `json:"status,omitempty"`
	// Lifecycles: every job of that Lifecycles step ended in its true final
	// state.
	Lifecycles string `json:"lifecycles,omitempty"`
}

// TLSCheck names a TLS check: "https" (the endpoint is HTTPS),
// "certificate" (valid for the host), "legacy" (TLS 1.0 and 1.1 refused) or
// "info" (negotiated protocol, version, expiry).
type TLSCheck struct {
	Check string `json:"check"`
}

// Expect is what every delivery of a step must show.
type Expect struct {
	// Status is a class ("2xx", "4xx"), a code ("413"), or a negation
	// ("not-5xx", "not-3xx"). A delivery with no response never matches.
	Status string `json:"status,omitempty"`
	// Within requires the acknowledgement within the ack deadline.
	Within bool `json:"within,omitempty"`
	// NoEcho requires that the response reveals neither the secret nor the
	// signature the receiver expected.
	NoEcho bool `json:"noEcho,omitempty"`
}

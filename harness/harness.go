// Package harness holds the domain types of the REALM webhook conformance
// suite: the secret, events, the evidence of one HTTP exchange, the sender's
// timing defaults and the small interfaces that the concern packages below it
// (signing, events, delivery, probe, receiver, ...) implement or accept.
//
// It depends on the standard library only. Implementations live in
// subpackages named for what they wrap; the CLI and the Ginkgo suites wire
// them together.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Version is the suite's version, printed by the CLI and written into every
// report.
const Version = "0.1.0"

// Header names of a REALM v1 delivery.
const (
	HeaderContentType = "Content-Type"
	HeaderUserAgent   = "User-Agent"
	HeaderID          = "X-Webhook-Id"
	HeaderEvent       = "X-Webhook-Event"
	HeaderAttempt     = "X-Webhook-Attempt"
	HeaderSignature   = "X-Webhook-Signature"
)

// UserAgent is the User-Agent every REALM delivery carries.
const UserAgent = "REALM-Webhooks/1.0"

// ContentType is the Content-Type of every REALM delivery.
const ContentType = "application/json"

// SecretEnv is the environment variable the secret may come from, so that it
// need not appear on a command line or in a CI log.
const SecretEnv = "REALM_WEBHOOK_SECRET"

// Limits that are not waits (the waits are in Timing).
const (
	// DefaultTolerance is the largest |now - t| a receiver accepts.
	DefaultTolerance = 300 * time.Second
	// DefaultBodyLimit bounds how much of a response body is read.
	DefaultBodyLimit = 64 << 10
)

// errTiming means a Timing holds a duration out of range.
var errTiming = errors.New("invalid timing")

// Clock returns the current time. Signing, event building and the receiver
// take one so that tests can fix the time.
type Clock func() time.Time

// Now returns c(), or time.Now() when c is nil.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// Secret is a webhook signing secret. It never prints itself: String,
// GoString, Format and MarshalJSON all give Redacted, so a secret that slips
// into a log line, an error or a report does not leak. Reveal gives the
// bytes to the code that must sign or verify.
type Secret string

// Redacted is what a Secret prints as.
const Redacted = "[redacted]"

// Reveal returns the secret itself. Call it only to sign or verify.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer without revealing the secret.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer without revealing the secret.
func (s Secret) GoString() string { return Redacted }

// MarshalJSON implements json.Marshaler without revealing the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler without revealing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Format implements fmt.Formatter: every verb, %d and %x included, prints
// Redacted.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// Event types of the catalogue; schemas/ holds one schema for each.
const (
	JobQueued              = "job.queued"
	JobProcessing          = "job.processing"
	JobCompleted           = "job.completed"
	JobFailed              = "job.failed"
	JobCanceled            = "job.canceled"
	ModelTrainingStarted   = "model.training.started"
	ModelTrainingCompleted = "model.training.completed"
	ModelTrainingFailed    = "model.training.failed"
)

// EventTypes lists every event type of the catalogue, in lifecycle order.
func EventTypes() []string {
	return []string{
		JobQueued, JobProcessing, JobCompleted, JobFailed, JobCanceled,
		ModelTrainingStarted, ModelTrainingCompleted, ModelTrainingFailed,
	}
}

// Event is one webhook event ready to send: the exact bytes of its body and
// the identifiers a check needs to follow it through the probe.
type Event struct {
	ID      string `json:"eventId"`
	Type    string `json:"eventType"`
	JobID   string `json:"jobId,omitempty"`
	ModelID string `json:"modelId,omitempty"`
	// Status is data.status: the job state this event moves its job to.
	Status string `json:"status,omitempty"`
	// Body is the exact JSON sent on the wire.
	Body []byte `json:"-"`
}

// Validator checks a JSON document against a named schema of the catalogue
// (for example "envelope", "job.completed", "probe-event"). The error says
// where the document is wrong.
type Validator interface {
	Validate(schema string, doc []byte) error
}

// Request is the evidence of one HTTP request the harness sent.
type Request struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	// Body is an excerpt of the body sent, at most a few KiB.
	Body string `json:"body,omitempty"`
	// BodySize is the full size of the body in bytes.
	BodySize int `json:"bodySize"`
	// Segments says, for people, how the body was written to the
	// connection: in how many segments and pauses, how long the upload
	// took and when its last byte left, and how many segments ended
	// inside a character. Latency includes the upload; this tells it from
	// the time the receiver took to answer. Empty when there was no body,
	// or the request was not a delivery.
	Segments string `json:"segments,omitempty"`

	// whole is the body sent when Body is only an excerpt of it, so that
	// a report can re-send the request exactly. It is not serialised:
	// report.json keeps the excerpt, and a report read back from it can
	// show only that.
	whole []byte
}

// MaxKeptBody bounds the bodies KeepBody keeps: the largest REALM event
// fits with room (the catalogue's largest, ACK-09's, is 100 KiB); larger
// bodies are generated on purpose (ROB-05's 5 MiB) and would cost more to
// hold until the report is written than re-sending them exactly is worth.
const MaxKeptBody = 256 << 10

// KeepBody keeps a copy of body, the whole body sent, beside the excerpt
// in Body when the excerpt is not all of it and body is at most
// MaxKeptBody long; otherwise it keeps nothing (and drops what it kept).
func (r *Request) KeepBody(body []byte) {
	r.whole = nil
	if len(body) != len(r.Body) && len(body) <= MaxKeptBody {
		r.whole = bytes.Clone(body)
	}
}

// Sent returns the body sent as far as it is known: the body KeepBody
// kept, or else the excerpt in Body. It is the body sent exactly when its
// length is BodySize.
func (r Request) Sent() []byte {
	if r.whole != nil {
		return r.whole
	}
	return []byte(r.Body)
}

// Response is the evidence of one HTTP response the harness received.
type Response struct {
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
	// Body is an excerpt of the body received, at most a few KiB.
	Body string `json:"body,omitempty"`
	// BodySize is how many bytes of body were read (bounded).
	BodySize int `json:"bodySize"`
	// SecretEchoed is true when the body read or a header held the
	// secret. The evidence shows harness.Redacted in its place, so this
	// flag is how a check still sees the leak.
	SecretEchoed bool `json:"secretEchoed,omitempty"`
}

// Exchange is the evidence of one attempt: what was sent, what came back (if
// anything), how long it took and why it ended. It never holds the secret.
type Exchange struct {
	// Attempt is the X-Webhook-Attempt number, 0 for requests that are not
	// deliveries (probe calls, other methods).
	Attempt  int       `json:"attempt"`
	Request  Request   `json:"request"`
	Response *Response `json:"response,omitempty"`
	// Start is when the request started.
	Start time.Time `json:"start"`
	// Latency runs from the start of the request to the end of the response
	// headers (the acknowledgement), or to the error. It includes the
	// upload of the body, as REALM's timeout does: Request.Segments says
	// when the body's last byte left.
	Latency time.Duration `json:"latency"`
	// Abandoned is true when the sender closed the connection on purpose
	// once the body was sent, without waiting for an answer.
	Abandoned bool `json:"abandoned,omitempty"`
	// Proto is the HTTP version the attempt was made in, as net/http
	// names it ("HTTP/1.1", "HTTP/2.0"): the answer's, or for an
	// abandoned attempt the one its request was written in. It is empty
	// when no answer came, since then nothing shows what the receiver
	// spoke.
	Proto string `json:"proto,omitempty"`
	// Failure is the kind of transport failure, empty if a response
	// arrived and was read whole or the attempt was abandoned on purpose.
	Failure FailureKind `json:"failure,omitempty"`
	// Err describes the transport failure for people (timeout, reset,
	// TLS): what happened and what to do. It is empty when Failure is.
	Err string `json:"error,omitempty"`
}

// Status returns the response status, or 0 when no response arrived.
func (e Exchange) Status() int {
	if e.Response == nil {
		return 0
	}
	return e.Response.Status
}

// OK reports whether the attempt was acknowledged: a 2xx response.
// Redirects and every other status are failures (README "Make variables").
func (e Exchange) OK() bool {
	s := e.Status()
	return s >= 200 && s < 300
}

// Duration is a time.Duration that reads and writes as a Go duration
// string ("1.5s") in JSON, so reports are readable by people and tools.
type Duration time.Duration

// String returns the duration as time.Duration prints it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Unavailable reports whether the exchange found no receiver to answer
// it: no answer came, and the connection was refused or could not be
// made, or was reset or closed before a byte of an answer. A receiver
// that restarts, or crashes on a delivery, looks so; one that hangs
// (a timeout) or answers nonsense is there, and does not.
func (e Exchange) Unavailable() bool {
	switch e.Failure {
	case FailureRefused, FailureUnreachable, FailureReset:
		return e.Response == nil && !e.Abandoned
	}
	return false
}

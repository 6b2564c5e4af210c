package harness

// FailureKind names the kind of transport failure of an exchange, from
// "nobody there" to "the receiver misbehaved". It is recorded in
// Exchange.Failure as a value, so that a check or a tool reading
// report.json tells the kinds apart without parsing Exchange.Err, which is
// written for people.
type FailureKind string

// Failure kinds. The empty kind means none: a response arrived, or the
// attempt was abandoned on purpose.
const (
	// FailureRefused: nothing listens at the target's address.
	FailureRefused FailureKind = "connection refused"
	// FailureDNS: the target's host name does not resolve.
	FailureDNS FailureKind = "host not found"
	// FailureUnreachable: no TCP connection could be made (no route, or
	// the connect itself timed out).
	FailureUnreachable FailureKind = "unreachable"
	// FailureTLS: the TLS handshake failed (untrusted or invalid
	// certificate, protocol mismatch).
	FailureTLS FailureKind = "tls error"
	// FailureTimeout: connected, but no answer within the timeout.
	FailureTimeout FailureKind = "timeout"
	// FailureReset: the peer closed the connection without answering.
	FailureReset FailureKind = "connection reset"
	// FailureCanceled: the run was interrupted.
	FailureCanceled FailureKind = "canceled"
	// FailureOther: any other transport error.
	FailureOther FailureKind = "transport error"
)

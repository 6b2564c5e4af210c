package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Failure names the kind of transport failure of an attempt. Exchange.Err
// starts with it, followed by ": " and the details for a human, so the kind
// survives a round trip through report.json.
type Failure string

// Failure kinds, from "nobody there" to "the receiver misbehaved".
const (
	// FailureNone: a response arrived, or the attempt was abandoned on
	// purpose.
	FailureNone Failure = ""
	// FailureRefused: nothing listens at the target's address.
	FailureRefused Failure = "connection refused"
	// FailureDNS: the target's host name does not resolve.
	FailureDNS Failure = "host not found"
	// FailureUnreachable: no TCP connection could be made (no route, or
	// the connect itself timed out).
	FailureUnreachable Failure = "unreachable"
	// FailureTLS: the TLS handshake failed (untrusted or invalid
	// certificate, protocol mismatch).
	FailureTLS Failure = "tls error"
	// FailureTimeout: connected, but no answer within the sender timeout.
	FailureTimeout Failure = "timeout"
	// FailureReset: the receiver closed the connection without answering.
	FailureReset Failure = "connection reset"
	// FailureCanceled: the run was interrupted.
	FailureCanceled Failure = "canceled"
	// FailureOther: any other transport error.
	FailureOther Failure = "transport error"
)

// failureKinds is the order Classify tries the prefixes in.
var failureKinds = []Failure{
	FailureRefused, FailureDNS, FailureUnreachable, FailureTLS, FailureTimeout,
	FailureReset, FailureCanceled, FailureOther,
}

// Classify returns the kind of transport failure recorded in ex, or
// FailureNone when there was none.
func Classify(ex harness.Exchange) Failure {
	if ex.Err == "" {
		return FailureNone
	}
	for _, k := range failureKinds {
		if strings.HasPrefix(ex.Err, string(k)+":") {
			return k
		}
	}
	return FailureOther
}

// Unreachable reports whether ex failed because the target could not be
// reached at all (refused, unknown host, no route). A run treats that as
// "could not be made" (exit 2), not as a receiver failure.
func Unreachable(ex harness.Exchange) bool {
	switch Classify(ex) {
	case FailureRefused, FailureDNS, FailureUnreachable:
		return true
	}
	return false
}

// Refused reports whether ex failed because the connection was refused.
func Refused(ex harness.Exchange) bool { return Classify(ex) == FailureRefused }

// describe turns a transport error into "<kind>: <what happened and what it
// means>". ctx is the attempt's context; phase says what the sender was
// doing when it failed.
func describe(ctx context.Context, err error, timeout time.Duration, phase string) string {
	detail := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL is in the evidence already; keep the cause only.
		detail = ue.Err.Error()
	}
	var op *net.OpError
	dialing := errors.As(err, &op) && op.Op == "dial"
	var dns *net.DNSError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Sprintf("%s: the run was interrupted while %s", FailureCanceled, phase)
	case errors.As(err, &dns):
		return fmt.Sprintf("%s: %s (check the URL)", FailureDNS, detail)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s: nothing is listening at the target (is the receiver running and the URL right?): %s", FailureRefused, detail)
	case dialing && (isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded)):
		return fmt.Sprintf("%s: no TCP connection within the sender timeout %s: %s", FailureUnreachable, timeout, detail)
	case dialing:
		return fmt.Sprintf("%s: could not connect: %s", FailureUnreachable, detail)
	case isTLS(err):
		return fmt.Sprintf("%s: %s (pass CA_CERT=... to trust a private CA, or INSECURE=1)", FailureTLS, detail)
	case isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("%s: no answer within the sender timeout %s while %s; REALM abandons such an attempt and retries", FailureTimeout, timeout, phase)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s: the receiver closed the connection while %s: %s", FailureReset, phase, detail)
	}
	return fmt.Sprintf("%s: %s while %s", FailureOther, detail, phase)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isTLS(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	if errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) {
		return true
	}
	// Alerts from the peer and version mismatches are unexported error
	// values; their text is all that tells them apart.
	return strings.Contains(err.Error(), "tls: ")
}

package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// describe turns a transport error into its kind and a sentence for
// people, "<kind>: <what happened and what it means>". ctx is the
// attempt's context; phase says what the sender was doing when it failed.
func describe(ctx context.Context, err error, timeout time.Duration, phase string) (harness.FailureKind, string) {
	detail := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		// The URL is in the evidence already; keep the cause only.
		detail = ue.Err.Error()
	}
	var op *net.OpError
	dialing := errors.As(err, &op) && op.Op == "dial"
	var dns *net.DNSError
	say := func(kind harness.FailureKind, format string, args ...any) (harness.FailureKind, string) {
		return kind, string(kind) + ": " + fmt.Sprintf(format, args...)
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return say(harness.FailureCanceled, "the run was interrupted while %s", phase)
	case errors.As(err, &dns):
		return say(harness.FailureDNS, "%s (check the URL)", detail)
	case errors.Is(err, syscall.ECONNREFUSED):
		return say(harness.FailureRefused, "nothing is listening at the target (is the receiver running and the URL right?): %s", detail)
	case dialing && (isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded)):
		return say(harness.FailureUnreachable, "no TCP connection within the sender timeout %s: %s", timeout, detail)
	case dialing:
		return say(harness.FailureUnreachable, "could not connect: %s", detail)
	case errors.Is(err, errNoH2):
		return say(harness.FailureTLS, "%s", detail)
	case strings.Contains(detail, "no application protocol"):
		return say(harness.FailureTLS, "the receiver speaks none of the protocols the sender offered in the TLS handshake (ALPN): %s", detail)
	case isTLS(err):
		return say(harness.FailureTLS, "%s (give the run the certificate of a private CA to trust, or turn certificate verification off)", detail)
	case isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return say(harness.FailureTimeout, "no answer within the sender timeout %s while %s; REALM abandons such an attempt and retries", timeout, phase)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.Contains(detail, serverClosed):
		return say(harness.FailureReset, "the receiver closed the connection while %s: %s", phase, detail)
	case streamReset(detail):
		return say(harness.FailureReset, "the receiver reset the HTTP/2 stream while %s, as a server does when its handler crashes: %s", phase, detail)
	case strings.Contains(detail, "server response headers exceeded"):
		return say(harness.FailureOther, "the receiver sent more than %d KiB of headers while %s; the sender reads no more", maxHeaderBytes>>10, phase)
	case notHTTP(err, detail):
		return say(harness.FailureOther, "the answer is not HTTP/1.1 (%s) while %s", strings.TrimPrefix(detail, brokenPrefix), phase)
	}
	return say(harness.FailureOther, "%s while %s", detail, phase)
}

// serverClosed is net/http's error (an unexported value) for a connection
// the receiver closed before a byte of an answer, when the Transport saw
// the close before it sent the request.
const serverClosed = "server closed idle connection"

// streamReset reports whether an error's text is net/http's for an HTTP/2
// stream the receiver reset (a RST_STREAM received from the peer): what
// HTTP/2 makes of a closed connection, the one request given up rather
// than all of them. A stream error of the client's own (a malformed
// answer) is not one. The error is an unexported type; its text is what
// tells it apart.
func streamReset(detail string) bool {
	return strings.Contains(detail, "stream error: ") && strings.Contains(detail, "received from peer")
}

// brokenPrefix is how net/http's Transport prefixes an error that broke
// the connection; it says nothing to a reader of the report.
const brokenPrefix = "net/http: HTTP/1.x transport connection broken: "

// notHTTP reports whether err says the bytes that came back could not be
// parsed as an HTTP/1.1 answer. net/http's parse errors are unexported
// values; their text is what tells them apart.
func notHTTP(err error, detail string) bool {
	var pe textproto.ProtocolError
	return errors.As(err, &pe) || strings.Contains(detail, "malformed HTTP") ||
		strings.Contains(detail, "malformed MIME")
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

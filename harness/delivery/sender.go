// Package delivery plays the REALM sender: it signs and POSTs webhook
// deliveries to a receiver, runs the retry schedule, abandons attempts on
// purpose for the retry checks, and records every attempt as a
// harness.Exchange that never holds the secret.
package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Sentinel errors of NewSender; all of them mean the run cannot be made.
var (
	// ErrInvalidURL means the target URL is not an absolute http(s) URL.
	ErrInvalidURL = errors.New("invalid target URL")
	// ErrNoSecret means the signing secret is empty.
	ErrNoSecret = errors.New("secret is empty")
	// ErrInvalidCA means a CA certificate given to trust could not be used.
	ErrInvalidCA = errors.New("invalid CA certificate")
	// ErrInvalidOption means an option was given a value out of range.
	ErrInvalidOption = errors.New("invalid option")
)

// maxIdle bounds the kept-alive connections to the receiver: enough for
// the checks that send concurrently (lifecycles, duplicate storms) to
// reuse their connections.
const maxIdle = 256

// maxHeaderBytes bounds how much of a response's headers is read, as
// net/http's server bounds a request's (http.DefaultMaxHeaderBytes, 1 MiB):
// the Transport's own default, 10 MiB, costs some 50 MiB of allocations to
// refuse a receiver whose header never ends. Real receivers send a few KiB.
const maxHeaderBytes = http.DefaultMaxHeaderBytes

// ExcerptLimit bounds the body excerpts kept as evidence, so that a report
// stays readable and small however large the bodies are.
const ExcerptLimit = 4 << 10

// Sender delivers signed REALM webhooks to one target URL. It is safe for
// concurrent use; keep-alive connections are reused between attempts.
type Sender struct {
	url    *url.URL
	secret harness.Secret
	// scheme signs the deliveries; nil is REALM v1 by its fast signer.
	scheme    *signing.Scheme
	timeout   time.Duration
	bodyLimit int64
	clock     harness.Clock
	tls       *tls.Config
	client    *http.Client
	transport *http.Transport
}

// options collects what the Option functions set; NewSender validates it
// all at once so that a bad option is reported as an error, not a panic.
type options struct {
	timeout   time.Duration
	bodyLimit int64
	clock     harness.Clock
	caPEM     [][]byte
	caFiles   []string
	insecure  bool
	tls       *tls.Config
	scheme    *signing.Scheme
}

// Option configures a Sender.
type Option func(*options)

// WithTimeout sets the sender timeout: the deadline of every attempt, from
// the dial through TLS, the request, the response headers and the bounded
// body read. The default is harness.DefaultTiming().SenderTimeout.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithCACert adds the PEM certificates to the roots trusted for https, on
// top of the system roots: a staging endpoint with a private CA.
func WithCACert(pem []byte) Option {
	return func(o *options) { o.caPEM = append(o.caPEM, pem) }
}

// WithCAFile is WithCACert reading the PEM from a file.
func WithCAFile(path string) Option {
	return func(o *options) { o.caFiles = append(o.caFiles, path) }
}

// WithInsecure skips verification of the receiver's certificate. The TLS
// checks report it as a warning.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithClock sets the clock the signatures are made with; the default is the
// wall clock.
func WithClock(c harness.Clock) Option { return func(o *options) { o.clock = c } }

// WithBodyLimit bounds how many bytes of a response body are read; the
// default is harness.DefaultBodyLimit. The rest is never read, so a receiver
// that answers endlessly cannot stall the run.
func WithBodyLimit(n int64) Option { return func(o *options) { o.bodyLimit = n } }

// WithScheme signs the deliveries with a signing scheme (README "Signing
// schemes") and sends its headers; without it, deliveries are signed with
// REALM v1.
func WithScheme(sc *signing.Scheme) Option { return func(o *options) { o.scheme = sc } }

// WithTLSConfig sets the base TLS configuration (it is cloned); the CA and
// insecure options are applied on top of it.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// NewSender returns a Sender for the target URL, which must be an absolute
// http or https URL with a host, signing with secret.
func NewSender(target string, secret harness.Secret, opts ...Option) (*Sender, error) {
	u, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	if secret.Reveal() == "" {
		return nil, fmt.Errorf("delivery: %w: give the sender the receiver's signing secret", ErrNoSecret)
	}
	o := options{timeout: harness.DefaultTiming().SenderTimeout, bodyLimit: harness.DefaultBodyLimit}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("delivery: %w: timeout %s must be positive", ErrInvalidOption, o.timeout)
	}
	if o.bodyLimit <= 0 {
		return nil, fmt.Errorf("delivery: %w: body limit %d must be positive", ErrInvalidOption, o.bodyLimit)
	}
	cfg, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	// The abandon path dials the receiver itself; the transport, which
	// uses no proxy, reaches the same address.
	tr := harness.NewTransport(cfg, o.timeout, maxIdle)
	// An answer sent before the whole body was read is the answer, not
	// a reset (earlyanswer.go).
	earlyAnswers(tr, o.timeout)
	tr.MaxResponseHeaderBytes = maxHeaderBytes
	return &Sender{
		url:       u,
		secret:    secret,
		scheme:    o.scheme,
		timeout:   o.timeout,
		bodyLimit: o.bodyLimit,
		clock:     o.clock,
		tls:       cfg,
		transport: tr,
		client: &http.Client{
			Transport: tr,
			// Redirects are never followed: the 3xx is the evidence (ACK-03).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

func parseTarget(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		// url.Error quotes the input, which may hold credentials; say only
		// what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("delivery: %w: %v", ErrInvalidURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("delivery: %w: %q must start with http:// or https://", ErrInvalidURL, u.Redacted())
	case u.Hostname() == "":
		return nil, fmt.Errorf("delivery: %w: %q has no host", ErrInvalidURL, u.Redacted())
	}
	return u, nil
}

func (o options) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.tls != nil {
		cfg = o.tls.Clone()
	}
	pems := o.caPEM
	for _, path := range o.caFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("delivery: %w: reading CA file: %w", ErrInvalidCA, err)
		}
		pems = append(pems, b)
	}
	if len(pems) > 0 {
		pool := cfg.RootCAs
		if pool != nil {
			pool = pool.Clone()
		} else if sys, err := x509.SystemCertPool(); err == nil && sys != nil {
			pool = sys
		} else {
			pool = x509.NewCertPool()
		}
		for i, pem := range pems {
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("delivery: %w: CA certificate %d holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)", ErrInvalidCA, i+1)
			}
		}
		cfg.RootCAs = pool
	}
	if o.insecure {
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// URL returns the target URL, with any password redacted so that it can be
// printed.
func (s *Sender) URL() string { return s.url.Redacted() }

// TLSConfig returns a clone of the TLS configuration the sender trusts with,
// so that the TLS checks reuse the same CA and insecure settings.
func (s *Sender) TLSConfig() *tls.Config { return s.tls.Clone() }

// Timeout returns the sender timeout applied to every attempt.
func (s *Sender) Timeout() time.Duration { return s.timeout }

// CloseIdleConnections closes the kept-alive connections to the receiver,
// for example between phases of a run or before a test server shuts down.
func (s *Sender) CloseIdleConnections() { s.transport.CloseIdleConnections() }

// Deliver runs the retry schedule for ev: attempt 1, then, while the answer
// is not 2xx, waits schedule[i] and makes attempt i+2, re-signed at the time
// of that attempt and with the same X-Webhook-Id. It stops at the first 2xx,
// after the last attempt or when ctx ends, and returns every attempt made. A
// nil schedule makes a single attempt; pass harness.DefaultTiming().RetrySchedule
// for REALM's.
func (s *Sender) Deliver(ctx context.Context, ev harness.Event, schedule []time.Duration) []harness.Exchange {
	exs := make([]harness.Exchange, 0, len(schedule)+1)
	for i := 0; i <= len(schedule); i++ {
		if i > 0 && harness.Sleep(ctx, schedule[i-1]) != nil {
			return exs
		}
		a := s.Attempt(ev)
		a.Number = i + 1
		ex := s.Send(ctx, a)
		exs = append(exs, ex)
		if ex.OK() || ctx.Err() != nil {
			break
		}
	}
	return exs
}

// String describes the sender by its target, never by its secret: fmt
// cannot see through the unexported field to the Secret's own redaction.
func (s *Sender) String() string { return "delivery.Sender(" + s.URL() + ")" }

// GoString is String, for %#v.
func (s *Sender) GoString() string { return s.String() }

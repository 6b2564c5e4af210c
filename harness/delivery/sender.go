// Package delivery plays the REALM sender: it signs and POSTs webhook
// deliveries to a receiver, writing their bodies in segments as a real
// network delivers them, runs the retry schedule, abandons attempts on
// purpose for the retry checks, and records every attempt as a
// harness.Exchange that never holds the secret.
package delivery

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/poll"
	"github.com/realm-ai/hookcert/harness/redact"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Sentinel errors of NewSender; all of them mean the run cannot be made.
var (
	// errInvalidURL means the target URL is not an absolute http(s) URL.
	errInvalidURL = errors.New("invalid target URL")
	// errNoSecret means the signing secret is empty.
	errNoSecret = errors.New("secret is empty")
	// errInvalidCA means a CA certificate given to trust could not be used.
	errInvalidCA = errors.New("invalid CA certificate")
	// errInvalidOption means an option was given a value out of range.
	errInvalidOption = errors.New("invalid option")
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

// excerptLimit bounds the body excerpts kept as evidence, so that a report
// stays readable and small however large the bodies are.
const excerptLimit = 4 << 10

// Sender delivers signed REALM webhooks to one target URL. It is safe for
// concurrent use; keep-alive connections are reused between attempts.
type Sender struct {
	url    *url.URL
	secret harness.Secret
	// hidden is what never appears in evidence: the secret, and the
	// password of the target URL with the Authorization value it makes.
	hidden []harness.Secret
	// scheme signs the deliveries; nil is REALM v1 by its fast signer.
	scheme    *signing.Scheme
	timeout   time.Duration
	bodyLimit int64
	clock     harness.Clock
	// tls offers the protocols of the sender's HTTP version (NextProtos).
	tls       *tls.Config
	dialer    *dialer
	client    *http.Client
	transport *http.Transport
	// fresh sends each request on a new connection, closed after it: the
	// second sending of a request whose kept-alive connection had gone
	// stale (see do).
	fresh *http.Client

	protoMu sync.Mutex
	protos  []string // the HTTP versions of the attempts, first seen first

	// rnd draws the segments and pauses of the bodies (segment.go).
	rndMu sync.Mutex
	rnd   segmentSource
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
	version   harness.HTTPVersion
}

// Option configures a Sender.
type Option func(*options)

// WithTimeout sets the sender timeout: the deadline of every attempt, from
// the dial through TLS, the request, the response headers and the bounded
// body read. The default is harness.DefaultTiming().SenderTimeout.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// withCACert adds the PEM certificates to the roots trusted for https, on
// top of the system roots: a staging endpoint with a private CA.
func withCACert(pem []byte) Option {
	return func(o *options) { o.caPEM = append(o.caPEM, pem) }
}

// WithCAFile adds the PEM certificates in the file at path to the roots
// trusted for https, on top of the system roots: a staging endpoint with a
// private CA.
func WithCAFile(path string) Option {
	return func(o *options) { o.caFiles = append(o.caFiles, path) }
}

// WithInsecure skips verification of the receiver's certificate. The TLS
// checks report it as a warning.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// withClock sets the clock the signatures are made with; the default is the
// wall clock.
func withClock(c harness.Clock) Option { return func(o *options) { o.clock = c } }

// withBodyLimit bounds how many bytes of a response body are read; the
// default is harness.DefaultBodyLimit. The rest is never read, so a receiver
// that answers endlessly cannot stall the run.
func withBodyLimit(n int64) Option { return func(o *options) { o.bodyLimit = n } }

// WithScheme signs the deliveries with a signing scheme (README "Signing
// schemes") and sends its headers; without it, deliveries are signed with
// REALM v1.
func WithScheme(sc *signing.Scheme) Option { return func(o *options) { o.scheme = sc } }

// WithTLSConfig sets the base TLS configuration (it is cloned); the CA and
// insecure options are applied on top of it, and the HTTP version sets
// the protocols offered in the handshake.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// WithHTTPVersion sets the HTTP versions the sender speaks; the default,
// harness.HTTPAuto, offers HTTP/2 and HTTP/1.1 over TLS and speaks
// HTTP/1.1 over http://.
func WithHTTPVersion(v harness.HTTPVersion) Option { return func(o *options) { o.version = v } }

// NewSender returns a Sender for the target URL, which must be an absolute
// http or https URL with a host, signing with secret.
func NewSender(target string, secret harness.Secret, opts ...Option) (*Sender, error) {
	u, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	if secret.Reveal() == "" {
		return nil, fmt.Errorf("delivery: %w: give the sender the receiver's signing secret", errNoSecret)
	}
	o := options{timeout: harness.DefaultTiming().SenderTimeout, bodyLimit: harness.DefaultBodyLimit}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("delivery: %w: timeout %s must be positive", errInvalidOption, o.timeout)
	}
	if o.bodyLimit <= 0 {
		return nil, fmt.Errorf("delivery: %w: body limit %d must be positive", errInvalidOption, o.bodyLimit)
	}
	if o.version, err = harness.ParseHTTPVersion(string(o.version)); err != nil {
		return nil, fmt.Errorf("delivery: %w: %w", errInvalidOption, err)
	}
	cfg, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	cfg.NextProtos = o.version.ALPN()
	// The abandon path dials the receiver itself, through the dialer the
	// transport dials with: the transport, which uses no proxy, reaches
	// the same address in the same protocol.
	tr := dial.Transport(cfg, o.timeout, maxIdle)
	tr.Protocols = o.version.Protocols()
	d := &dialer{tcp: tr.DialContext, tls: cfg, version: o.version, timeout: o.timeout}
	// An answer sent before the whole body was read is the answer, not
	// a reset (earlyanswer.go).
	earlyAnswers(tr, d, o.timeout)
	tr.MaxResponseHeaderBytes = maxHeaderBytes
	fresh := tr.Clone()
	fresh.DisableKeepAlives = true
	s := &Sender{
		url:       u,
		secret:    secret,
		hidden:    []harness.Secret{secret},
		scheme:    o.scheme,
		timeout:   o.timeout,
		bodyLimit: o.bodyLimit,
		clock:     o.clock,
		tls:       cfg,
		dialer:    d,
		transport: tr,
		client:    noRedirects(tr),
		fresh:     noRedirects(fresh),
		rnd:       newSegmentSource(),
	}
	if u.User != nil {
		s.hidden = append(s.hidden, harness.Secret(basicCredentials(u.User)))
		if pw, ok := u.User.Password(); ok {
			s.hidden = append(s.hidden, harness.Secret(pw))
		}
	}
	return s, nil
}

// newSegmentSource returns a random source of the sender's own, seeded
// from crypto/rand: every run cuts its bodies differently.
func newSegmentSource() segmentSource {
	var seed [32]byte
	crand.Read(seed[:]) // never fails: it crashes the program instead
	return rand.New(rand.NewChaCha8(seed))
}

// plan plans how the body of a is written to the connection.
func (s *Sender) plan(a Attempt) segmentation {
	s.rndMu.Lock()
	defer s.rndMu.Unlock()
	return planSegments(a.Body, a.Whole, a.SplitRunes, s.rnd)
}

// noRedirects returns a client of tr that never follows a redirect: the
// 3xx is the evidence (ACK-03).
func noRedirects(tr *http.Transport) *http.Client {
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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
		return nil, fmt.Errorf("delivery: %w: %v", errInvalidURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("delivery: %w: %q must start with http:// or https://", errInvalidURL, redact.URL(u.String()))
	case u.Hostname() == "":
		return nil, fmt.Errorf("delivery: %w: %q has no host", errInvalidURL, redact.URL(u.String()))
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
			return nil, fmt.Errorf("delivery: %w: reading CA file: %w", errInvalidCA, err)
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
				return nil, fmt.Errorf("delivery: %w: CA certificate %d holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)", errInvalidCA, i+1)
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
func (s *Sender) URL() string { return redact.URL(s.url.String()) }

// TLSConfig returns a clone of the TLS configuration the sender trusts with,
// so that the TLS checks reuse the same CA and insecure settings; its
// NextProtos are the protocols the sender offers.
func (s *Sender) TLSConfig() *tls.Config { return s.tls.Clone() }

// Protocols returns the HTTP versions the sender's attempts were made in
// so far ("HTTP/2.0", "HTTP/1.1"), first seen first: what the receiver
// spoke, not what the TLS handshake could offer.
func (s *Sender) Protocols() []string {
	s.protoMu.Lock()
	defer s.protoMu.Unlock()
	return slices.Clone(s.protos)
}

// saw records that an attempt was made in proto.
func (s *Sender) saw(proto string) {
	s.protoMu.Lock()
	defer s.protoMu.Unlock()
	if !slices.Contains(s.protos, proto) {
		s.protos = append(s.protos, proto)
	}
}

// Reachable reports whether the target's address takes a TCP connection
// at all, within ctx and the sender timeout: nil when it does. A run asks
// it once a delivery found no receiver to answer it (refused, or reset
// unanswered), to know when a receiver that went away is back.
func (s *Sender) Reachable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	c, err := s.dialer.dialTCP(ctx, dial.HostPort(s.url))
	if err != nil {
		return err
	}
	return c.Close()
}

// Timeout returns the sender timeout applied to every attempt.
func (s *Sender) Timeout() time.Duration { return s.timeout }

// CloseIdleConnections closes the kept-alive connections to the receiver,
// for example between phases of a run or before a test server shuts down.
func (s *Sender) CloseIdleConnections() {
	s.transport.CloseIdleConnections()
	s.fresh.CloseIdleConnections()
}

// deliver runs the retry schedule for ev: attempt 1, then, while the answer
// is not 2xx, waits schedule[i] and makes attempt i+2, re-signed at the time
// of that attempt and with the same X-Webhook-Id. It stops at the first 2xx,
// after the last attempt or when ctx ends, and returns every attempt made. A
// nil schedule makes a single attempt; pass harness.DefaultTiming().RetrySchedule
// for REALM's.
func (s *Sender) deliver(ctx context.Context, ev harness.Event, schedule []time.Duration) []harness.Exchange {
	exs := make([]harness.Exchange, 0, len(schedule)+1)
	for i := 0; i <= len(schedule); i++ {
		if i > 0 && poll.Sleep(ctx, schedule[i-1]) != nil {
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

package delivery

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Attempt describes one request to the receiver. The zero value of every
// mutation field gives a normal REALM delivery; the checks set one field to
// break exactly one thing.
type Attempt struct {
	// Method is the HTTP method; empty means POST.
	Method string
	// Body is the raw body sent.
	Body []byte
	// EventID and EventType fill X-Webhook-Id and X-Webhook-Event; an
	// empty value omits its header.
	EventID   string
	EventType string
	// Number is X-Webhook-Attempt; zero or less means 1.
	Number int
	// SignedBody, if non-nil, is signed instead of Body: the body is then
	// altered after signing (SIG-04).
	SignedBody []byte
	// Secrets sign the attempt, one v1 entry each, in order: several for
	// rotation (SIG-08), a wrong one for SIG-03. Nil means the sender's
	// secret; an empty non-nil slice gives a header with no v1 entry.
	Secrets []harness.Secret
	// TimeOffset shifts the signature's t from the sender's clock: stale
	// (SIG-06) or future (SIG-07) timestamps.
	TimeOffset time.Duration
	// Signature, if non-nil, is sent verbatim as X-Webhook-Signature
	// instead of signing: malformed headers (SIG-05).
	Signature *string
	// NoSignature omits X-Webhook-Signature (SIG-02).
	NoSignature bool
	// Header holds extra headers applied last, overriding the REALM ones;
	// a key with no values removes that header.
	Header http.Header
	// Abandon closes the connection as soon as the whole request is
	// written, without reading any answer (RETRY-01).
	Abandon bool
}

// Attempt returns the normal first attempt for ev.
func (s *Sender) Attempt(ev harness.Event) Attempt {
	return Attempt{
		Method:    http.MethodPost,
		Body:      ev.Body,
		EventID:   ev.ID,
		EventType: ev.Type,
		Number:    1,
	}
}

// Send makes one attempt and returns its evidence. It never fails: a
// transport failure is recorded in Exchange.Failure and described in
// Exchange.Err. The whole attempt runs under the sender timeout, and under
// ctx.
func (s *Sender) Send(ctx context.Context, a Attempt) harness.Exchange {
	number := a.Number
	if number <= 0 {
		number = 1
	}
	ex := harness.Exchange{Attempt: number, Start: s.clock.Now()}
	req, err := s.request(ctx, a, number)
	ex.Request = harness.Request{
		Method:   a.method(),
		URL:      s.url.Redacted(),
		Body:     Excerpt(a.Body),
		BodySize: len(a.Body),
	}
	if err != nil {
		ex.Failure = harness.FailureOther
		ex.Err = string(harness.FailureOther) + ": " + s.scrub(err.Error())
		return ex
	}
	ex.Request.Header = req.Header.Clone()
	// The sender timeout starts with the latency's clock, once the request
	// is built and signed: a timed-out attempt never reports less latency
	// than the timeout it was given.
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(s.timeout))
	defer cancel()
	req = req.WithContext(ctx)
	if a.Abandon {
		s.abandon(ctx, req, &ex, start)
		return ex
	}

	resp, err := s.do(ctx, req)
	ex.Latency = time.Since(start)
	if err != nil {
		s.fail(ctx, &ex, err, "waiting for an answer")
		return ex
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.bodyLimit))
	ex.Response = &harness.Response{
		Status:       resp.StatusCode,
		Header:       harness.ScrubHeader(resp.Header, s.secret),
		Body:         Excerpt([]byte(s.scrub(string(body)))),
		BodySize:     len(body),
		SecretEchoed: harness.Echoes(body, resp.Header, s.secret),
	}
	if err != nil {
		// The acknowledgement arrived, so the response is kept; the error
		// says the body did not.
		s.fail(ctx, &ex, err, "reading the response body")
	}
	return ex
}

func (a Attempt) method() string {
	if a.Method == "" {
		return http.MethodPost
	}
	return a.Method
}

// request builds the HTTP request of a, signed now.
func (s *Sender) request(ctx context.Context, a Attempt, number int) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, a.method(), s.url.String(), bytes.NewReader(a.Body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set(harness.HeaderContentType, harness.ContentType)
	h.Set(harness.HeaderUserAgent, harness.UserAgent)
	if s.scheme != nil {
		s.schemeHeaders(h, a, number)
	} else {
		s.realmHeaders(h, a, number)
	}
	for k, vs := range a.Header {
		switch {
		case http.CanonicalHeaderKey(k) == "Host" && len(vs) > 0:
			req.Host = vs[0]
		case len(vs) == 0:
			h.Del(k)
		default:
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
		}
	}
	return req, nil
}

// abandon writes req on a connection of its own and closes it at once, so
// the receiver gets the whole request but the sender never sees an answer.
func (s *Sender) abandon(ctx context.Context, req *http.Request, ex *harness.Exchange, start time.Time) {
	defer func() { ex.Latency = time.Since(start) }()
	conn, err := s.dial(ctx)
	if err != nil {
		s.fail(ctx, ex, err, "connecting")
		return
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	// A cancelled run must not wait for the deadline.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	w := bufio.NewWriter(conn)
	if err := req.Write(w); err != nil {
		s.fail(ctx, ex, err, "sending the request")
		return
	}
	if err := w.Flush(); err != nil {
		s.fail(ctx, ex, err, "sending the request")
		return
	}
	ex.Abandoned = true
}

// dial opens a connection to the target as the transport would: TCP, and
// TLS with the sender's configuration for https.
func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	addr := harness.HostPort(s.url)
	nd := &net.Dialer{Timeout: s.timeout}
	if s.url.Scheme != "https" {
		return nd.DialContext(ctx, "tcp", addr)
	}
	cfg := s.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = s.url.Hostname()
	}
	// The transport speaks HTTP/1.1 over TLS; say so, so the request
	// written below is understood.
	cfg.NextProtos = []string{"http/1.1"}
	td := &tls.Dialer{NetDialer: nd, Config: cfg}
	return td.DialContext(ctx, "tcp", addr)
}

// Excerpt returns at most ExcerptLimit bytes of b as evidence. A rune cut in
// half at the end, by this limit or by the body limit before it, is
// dropped so that the report shows no broken character.
func Excerpt(b []byte) string {
	if len(b) > ExcerptLimit {
		b = b[:ExcerptLimit]
	}
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				b = b[:len(b)-i]
			}
			break
		}
	}
	return string(b)
}

// scrub removes the sender's secret from text the receiver controls, so a
// receiver that echoes it cannot make the report leak it.
func (s *Sender) scrub(text string) string { return harness.Scrub(text, s.secret) }

// fail records the transport failure err of the attempt in ex: its kind,
// and the sentence describing it without the secret. phase says what the
// sender was doing.
func (s *Sender) fail(ctx context.Context, ex *harness.Exchange, err error, phase string) {
	kind, text := describe(ctx, err, s.timeout, phase)
	ex.Failure, ex.Err = kind, s.scrub(text)
}

// do sends req. A kept-alive connection that the receiver closed while it
// sat idle fails the request before a byte of an answer comes back; any
// HTTP client then sends the request again on a new connection (net/http
// does so itself only for requests it knows to be idempotent). The
// receiver never saw that attempt, so it is sent once more, on a new
// connection and the same deadline, rather than reported as the
// receiver's reset. A failure on a new connection is the receiver's.
func (s *Sender) do(ctx context.Context, req *http.Request) (*http.Response, error) {
	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	resp, err := s.client.Do(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err == nil || !reused || ctx.Err() != nil || req.GetBody == nil ||
		!(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		return resp, err
	}
	body, berr := req.GetBody()
	if berr != nil {
		return resp, err
	}
	// The other idle connections may have been closed as well.
	s.client.CloseIdleConnections()
	retry := req.Clone(ctx)
	retry.Body = body
	return s.client.Do(retry)
}

// realmHeaders sets the REALM v1 headers of attempt a, signed by the fast
// signer unless a asks for no signature or a literal one.
func (s *Sender) realmHeaders(h http.Header, a Attempt, number int) {
	if a.EventID != "" {
		h.Set(harness.HeaderID, a.EventID)
	}
	if a.EventType != "" {
		h.Set(harness.HeaderEvent, a.EventType)
	}
	h.Set(harness.HeaderAttempt, strconv.Itoa(number))
	switch {
	case a.NoSignature:
	case a.Signature != nil:
		h[harness.HeaderSignature] = []string{*a.Signature}
	default:
		secrets := a.Secrets
		if secrets == nil {
			secrets = []harness.Secret{s.secret}
		}
		signer := signing.Signer{Secrets: secrets}
		h.Set(harness.HeaderSignature, signer.HeaderAt(s.clock.Now().Add(a.TimeOffset), a.signed()))
	}
}

// schemeHeaders sets the headers of the sender's scheme for attempt a:
// every header it sends, signed with a's secrets (the sender's by
// default), then without the signature header (NoSignature) or with a
// literal one (Signature).
func (s *Sender) schemeHeaders(h http.Header, a Attempt, number int) {
	secrets := a.Secrets
	if secrets == nil {
		secrets = []harness.Secret{s.secret}
	}
	keys := make([][]byte, len(secrets))
	for i, sec := range secrets {
		k, err := s.scheme.KeyOf(sec)
		if err != nil {
			// A secret the scheme cannot decode (a wrong one, on purpose)
			// still signs, with its bytes as they are.
			k = []byte(sec.Reveal())
		}
		keys[i] = k
	}
	d := signing.Delivery{ID: a.EventID, Type: a.EventType, Attempt: number, T: s.clock.Now().Add(a.TimeOffset).Unix(), Body: a.signed()}
	for _, l := range s.scheme.HeaderLines(d, keys...) {
		h.Set(l.Name, l.Value)
	}
	switch {
	case a.NoSignature:
		h.Del(s.scheme.Signature.Header)
	case a.Signature != nil:
		h[http.CanonicalHeaderKey(s.scheme.Signature.Header)] = []string{*a.Signature}
	}
}

// signed is the body the signature covers: SignedBody when the body is
// altered after signing.
func (a Attempt) signed() []byte {
	if a.SignedBody != nil {
		return a.SignedBody
	}
	return a.Body
}

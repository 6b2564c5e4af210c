package delivery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/redact"
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
	// SignedAt, if not zero, is the time the attempt is signed at instead
	// of the sender's clock (TimeOffset still applies): a literal
	// Signature made for that time then agrees with a timestamp header
	// the scheme sends beside it, whichever second the attempt leaves in.
	SignedAt time.Time
	// Signature, if non-nil, is sent verbatim as X-Webhook-Signature
	// instead of signing: malformed headers (SIG-05).
	Signature *string
	// NoSignature omits X-Webhook-Signature (SIG-02).
	NoSignature bool
	// Header holds extra headers applied last, overriding the REALM ones;
	// a key with no values removes that header.
	Header http.Header
	// Abandon closes the connection as soon as the whole request is
	// written (over HTTP/2, and read: see writeH2), without reading any
	// answer (RETRY-01).
	Abandon bool
	// Chunked sends the body without a Content-Length, as a sender that
	// streams it would (chunked in HTTP/1.1): a receiver cannot refuse it
	// from its declared size (ROB-05).
	Chunked bool
	// SplitRunes ends the body's segments inside multi-byte UTF-8
	// characters wherever one lies within a segment's reach, and inside
	// the first character of each width (2, 3 and 4 bytes) the body has
	// however short it is, with a pause after each of those: a receiver
	// that decodes each read on its own corrupts them (ACK-09, SIG-10).
	// It does nothing with Whole.
	SplitRunes bool
	// Whole hands the body to the connection in one piece, as net/http
	// writes it, instead of in segments of about 1–1.5 KiB with short
	// pauses between them (segment.go): for a check that needs the body
	// sent at once.
	Whole bool
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
func (s *Sender) Send(ctx context.Context, a Attempt) (ex harness.Exchange) {
	number := a.Number
	if number <= 0 {
		number = 1
	}
	ex = harness.Exchange{Attempt: number, Start: s.clock.Now()}
	req, err := s.request(ctx, a, number)
	ex.Request = harness.Request{
		Method:   a.method(),
		URL:      redact.URL(s.url.String()),
		Body:     excerpt(a.Body),
		BodySize: len(a.Body),
	}
	// The report re-sends a failing exchange; the excerpt alone would not
	// be the request sent.
	ex.Request.KeepBody(a.Body)
	if err != nil {
		ex.Failure = harness.FailureOther
		ex.Err = string(harness.FailureOther) + ": " + s.scrub(err.Error())
		return ex
	}
	ex.Request.Header = redactAuthorization(req.Header)
	// The sender timeout starts with the latency's clock, once the request
	// is built and signed: a timed-out attempt never reports less latency
	// than the timeout it was given.
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(s.timeout))
	defer cancel()
	req = req.WithContext(ctx)
	plan := s.plan(a)
	var up atomic.Pointer[upload]
	up.Store(plan.upload(ctx))
	// Described before cancel ends an upload still under way: the
	// evidence then says how much of the body was sent by the end.
	defer func() { ex.Request.Segments = up.Load().describe(start) }()
	if a.Abandon {
		s.abandon(ctx, req, up.Load(), &ex, start)
		return ex
	}
	if plan.boundaries() > 0 {
		// A retry of the request (do's, or the transport's own) sends
		// the body anew, and the evidence describes that sending.
		req.Body = up.Load()
		req.GetBody = func() (io.ReadCloser, error) {
			u := plan.upload(ctx)
			up.Store(u)
			return u, nil
		}
	}

	resp, err := s.do(ctx, req)
	ex.Latency = time.Since(start)
	if err != nil {
		s.fail(ctx, &ex, err, "waiting for an answer")
		return ex
	}
	defer resp.Body.Close()
	ex.Proto = resp.Proto
	s.saw(resp.Proto)
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.bodyLimit))
	ex.Response = &harness.Response{
		Status:       resp.StatusCode,
		Header:       redact.Header(resp.Header, s.hidden...),
		Body:         excerpt([]byte(s.scrub(string(body)))),
		BodySize:     len(body),
		SecretEchoed: redact.Echoes(body, resp.Header, s.secret),
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
	if a.Chunked {
		req.ContentLength = -1 // unknown: the transport sends it chunked
	}
	h := req.Header
	h.Set(harness.HeaderContentType, harness.ContentType)
	h.Set(harness.HeaderUserAgent, harness.UserAgent)
	if s.url.User != nil {
		// net/http's Client adds this header to what it sends, but an
		// abandoned attempt is written by hand: set here, it is carried
		// by every attempt alike (and shown redacted in the evidence).
		h.Set("Authorization", basicCredentials(s.url.User))
	}
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

// abandon writes req, whose body up sends, on a connection of its own and
// closes it once the request is written, so the receiver gets the whole
// request but the sender never sees an answer. The connection is dialled
// and spoken as the transport's would be: HTTP/2 when the TLS handshake
// chose h2 or the sender speaks h2c (writeH2), else HTTP/1.1.
func (s *Sender) abandon(ctx context.Context, req *http.Request, up *upload, ex *harness.Exchange, start time.Time) {
	defer func() { ex.Latency = time.Since(start) }()
	addr := dial.HostPort(s.url)
	var (
		conn net.Conn
		err  error
	)
	if s.url.Scheme == "https" {
		conn, err = s.dialer.dialTLS(ctx, addr)
	} else {
		conn, err = s.dialer.dialTCP(ctx, addr)
	}
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
	proto := protoHTTP1
	if s.dialer.h2(conn) {
		proto = protoHTTP2
		err = writeH2(conn, req, up)
	} else {
		if up.seg.boundaries() > 0 {
			req.Body = up
		}
		w := bufio.NewWriter(perReadWriter{conn})
		if err = req.Write(w); err == nil {
			err = w.Flush()
		}
	}
	if err != nil {
		s.fail(ctx, ex, err, "sending the request")
		return
	}
	ex.Abandoned, ex.Proto = true, proto
	s.saw(proto)
}

// basicCredentials is the Authorization value net/http's Client sends for
// the credentials of a URL (https://user:password@host/...).
func basicCredentials(u *url.Userinfo) string {
	pw, _ := u.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw))
}

// redactAuthorization copies h for the evidence with the credentials of
// every Authorization value replaced by harness.Redacted: the scheme
// ("Basic") shows that they were sent, and nothing of them leaks.
func redactAuthorization(h http.Header) http.Header {
	h = h.Clone()
	for i, v := range h["Authorization"] {
		scheme, _, _ := strings.Cut(v, " ")
		h["Authorization"][i] = scheme + " " + harness.Redacted
	}
	return h
}

// excerpt returns at most excerptLimit bytes of b as evidence. A rune cut in
// half at the end, by this limit or by the body limit before it, is
// dropped so that the report shows no broken character.
func excerpt(b []byte) string {
	if len(b) > excerptLimit {
		b = b[:excerptLimit]
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

// scrub removes the sender's secret, and the target URL's credentials,
// from text the receiver controls, so a receiver that echoes them cannot
// make the report leak them.
func (s *Sender) scrub(text string) string { return redact.Scrub(text, s.hidden...) }

// fail records the transport failure err of the attempt in ex: its kind,
// and the sentence describing it without the secret. phase says what the
// sender was doing.
func (s *Sender) fail(ctx context.Context, ex *harness.Exchange, err error, phase string) {
	kind, text := describe(ctx, err, s.timeout, phase)
	if v := s.dialer.version; kind == harness.FailureReset && ex.Response == nil && v != harness.HTTPAuto && !streamReset(text) {
		// A receiver that does not speak the one version the sender was
		// told to speak closes the connection without a word.
		text += "; the sender speaks only HTTP/" + v.String() + ", as it was told to: a receiver that does not speak it closes the connection unanswered"
	}
	ex.Failure, ex.Err = kind, s.scrub(text)
}

// do sends req. A kept-alive connection that the receiver closed while it
// sat idle (its idle timeout, or the close that followed its early answer
// to another request) fails the request before a byte of an answer comes
// back, in whatever way the close and the request met: end of file, a
// reset, a broken pipe, net/http's "server closed idle connection" or
// "transport connection broken". Any HTTP client then sends the request
// again on a new connection (net/http does so itself only for requests it
// knows to be idempotent, or when not a byte was written). Such an attempt
// never reached the receiver, or never reached it whole: it is sent once
// more, on a connection opened for it and the same deadline, rather than
// reported as the receiver's failure. Only a failure on a new connection,
// an answer, or the deadline is the receiver's.
func (s *Sender) do(ctx context.Context, req *http.Request) (*http.Response, error) {
	// The trace's hooks may run on the transport's goroutines.
	var reused, answered atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn:              func(i httptrace.GotConnInfo) { reused.Store(i.Reused) },
		GotFirstResponseByte: func() { answered.Store(true) },
	}
	resp, err := s.client.Do(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err == nil || !reused.Load() || answered.Load() || ctx.Err() != nil || isTimeout(err) || req.GetBody == nil {
		return resp, err
	}
	body, berr := req.GetBody()
	if berr != nil {
		return resp, err
	}
	// The other idle connections may have been closed as well.
	s.transport.CloseIdleConnections()
	retry := req.Clone(ctx)
	retry.Body = body
	// Not s.client: another of its kept-alive connections may have gone
	// stale the same way.
	return s.fresh.Do(retry)
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
		h.Set(harness.HeaderSignature, signer.HeaderAt(s.signingTime(a), a.signed()))
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
	d := signing.Delivery{ID: a.EventID, Type: a.EventType, Attempt: number, T: s.signingTime(a).Unix(), Body: a.signed()}
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

// signingTime is when attempt a is signed: now, or its SignedAt, shifted by
// its TimeOffset.
func (s *Sender) signingTime(a Attempt) time.Time {
	at := a.SignedAt
	if at.IsZero() {
		at = s.clock.Now()
	}
	return at.Add(a.TimeOffset)
}

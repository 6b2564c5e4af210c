// Package probe is the client of the receiver's read-only test endpoints
// (README "The probe contract"): GET {probe URL}/events/{eventId} says how
// many times the business logic ran for an event, GET {probe URL}/jobs/{jobId}
// which state the receiver holds for a job. The checks that status codes
// cannot decide (duplicates processed twice, late events overwriting newer
// states) poll it, and every call is kept as evidence with the token
// redacted.
package probe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/redact"
	"github.com/realm-ai/hookcert/harness/schema"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrProbe means one probe call gave no usable answer: a transport
	// failure, a status other than 200 or 404, or a body that does not
	// follow the probe schemas.
	ErrProbe = errors.New("probe")
	// errUnusable means Check found the probe misconfigured, so the run
	// cannot be made.
	errUnusable = errors.New("probe unusable (fix it, or run without a probe to skip the checks that need it)")
	// ErrUnauthorized means the probe answered 401 or 403: the probe token
	// is missing or wrong. It comes wrapped together with ErrProbe.
	ErrUnauthorized = errors.New("unauthorized")
	// errInvalidURL means the probe base URL is not an absolute http(s) URL.
	errInvalidURL = errors.New("invalid probe URL")
	// errInvalidOption means an option was given a value out of range.
	errInvalidOption = errors.New("invalid probe option")
)

// Defaults of the options.
const (
	// DefaultTimeout bounds each probe request.
	DefaultTimeout = 5 * time.Second
	// DefaultInterval is the pause between two polls.
	DefaultInterval = 50 * time.Millisecond
	// checkEventID is the event id Check asks for: no REALM event has it,
	// so a working probe answers 404.
	checkEventID = "evt_hookcert_probe_check_never_sent"
)

// Schema names of the probe answers in the catalogue.
const (
	schemaEvent = "probe-event"
	schemaJob   = "probe-job"
)

// userAgent identifies the probe calls of the harness.
const userAgent = "hookcert-probe/1.0"

// bodyLimit bounds the probe answers read; they are a few dozen bytes.
const bodyLimit = harness.DefaultBodyLimit

// maxIdle bounds the kept-alive connections to the probe, enough for the
// checks that ask about many jobs at once.
const maxIdle = 32

// EventState is what the probe says about one event.
type EventState struct {
	EventID string
	// TimesProcessed counts runs of the business logic, not deliveries.
	TimesProcessed int
	// Found is false when the probe answered 404: never processed.
	Found bool
}

// JobState is what the probe says about one job.
type JobState struct {
	JobID  string
	Status string
	// Found is false when the probe answered 404: job unknown.
	Found bool
}

// Client calls one receiver's probe. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	shown     string // base without credentials, for evidence and errors
	token     harness.Secret
	hc        *http.Client
	timeout   time.Duration
	settle    time.Duration
	watch     time.Duration
	interval  time.Duration
	validator harness.Validator
	// version is what the client speaks, for the advice of its errors.
	version harness.HTTPVersion
}

type options struct {
	token     harness.Secret
	hc        *http.Client
	tls       *tls.Config
	insecure  bool
	timeout   time.Duration
	settle    time.Duration
	watch     time.Duration
	interval  time.Duration
	validator harness.Validator
	version   harness.HTTPVersion
}

// Option configures a Client.
type Option func(*options)

// WithToken sends Authorization: Bearer <token>, the probe token. The token is
// redacted from the evidence.
func WithToken(token harness.Secret) Option { return func(o *options) { o.token = token } }

// WithHTTPClient replaces the HTTP client; WithTLSConfig, withInsecure and
// WithHTTPVersion are then ignored, and the client's own redirect policy
// applies.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithTLSConfig sets the TLS configuration (cloned) of the probe's client;
// pass the sender's TLSConfig to trust the same CA.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// withInsecure skips verification of the probe's certificate.
func withInsecure() Option { return func(o *options) { o.insecure = true } }

// WithHTTPVersion sets the HTTP versions the probe's client speaks; pass
// the sender's, since the probe is usually served by the receiver itself.
// The default, harness.HTTPAuto, offers HTTP/2 and HTTP/1.1 over TLS and
// speaks HTTP/1.1 over http://.
func WithHTTPVersion(v harness.HTTPVersion) Option { return func(o *options) { o.version = v } }

// WithTimeout bounds each probe request; the default is DefaultTimeout.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// withValidator sets the validator of the probe answers; the default is the
// embedded schema catalogue.
func withValidator(v harness.Validator) Option { return func(o *options) { o.validator = v } }

// WithSettle sets how long Await* poll for the expected state; the default
// is harness.DefaultTiming().Settle.
func WithSettle(d time.Duration) Option { return func(o *options) { o.settle = d } }

// WithWatch sets how long Await* keep watching once the expected state is
// seen; the default is harness.DefaultTiming().Watch.
func WithWatch(d time.Duration) Option { return func(o *options) { o.watch = d } }

// withInterval sets the pause between polls; the default is
// DefaultInterval.
func withInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// New returns a client for the probe at baseURL, the probe URL, an absolute
// http or https URL; the paths /events/{id} and /jobs/{id} are appended.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("probe: %w: %v", errInvalidURL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("probe: %w: %q must start with http:// or https://", errInvalidURL, redact.URL(u.String()))
	case u.Hostname() == "":
		return nil, fmt.Errorf("probe: %w: %q has no host", errInvalidURL, redact.URL(u.String()))
	}
	o := options{
		timeout:  DefaultTimeout,
		settle:   harness.DefaultTiming().Settle,
		watch:    harness.DefaultTiming().Watch,
		interval: DefaultInterval,
	}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.timeout <= 0:
		return nil, fmt.Errorf("probe: %w: timeout %s must be positive", errInvalidOption, o.timeout)
	case o.interval <= 0:
		return nil, fmt.Errorf("probe: %w: interval %s must be positive", errInvalidOption, o.interval)
	case o.settle < 0 || o.watch < 0:
		return nil, fmt.Errorf("probe: %w: settle %s and watch %s must not be negative", errInvalidOption, o.settle, o.watch)
	}
	if o.version, err = harness.ParseHTTPVersion(string(o.version)); err != nil {
		return nil, fmt.Errorf("probe: %w: %w", errInvalidOption, err)
	}
	if o.validator == nil {
		o.validator = schema.Default()
	}
	if o.hc == nil {
		o.hc = newHTTPClient(o)
	}
	// The paths go under the base URL's own; its query (a function key,
	// say) stays on every request.
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
	return &Client{
		base:      u,
		shown:     redact.URL(u.String()),
		token:     o.token,
		hc:        o.hc,
		timeout:   o.timeout,
		settle:    o.settle,
		watch:     o.watch,
		interval:  o.interval,
		validator: o.validator,
		version:   o.version,
	}, nil
}

func newHTTPClient(o options) *http.Client {
	cfg := o.tls.Clone()
	if o.insecure {
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		cfg.InsecureSkipVerify = true
	}
	tr := dial.Transport(cfg, o.timeout, maxIdle)
	// net/http offers in the TLS handshake what these protocols allow.
	tr.Protocols = o.version.Protocols()
	// Probe calls are not REALM deliveries: like any client, they accept
	// a gzipped answer.
	tr.DisableCompression = false
	return &http.Client{
		Transport: tr,
		// A probe that redirects is misconfigured; say so rather than
		// follow it somewhere the token should not go.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CloseIdleConnections closes the probe's idle keep-alive connections, so
// a receiver shutting down after a run does not wait for them.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// String describes the client by its URL, never by its token.
func (c *Client) String() string { return "probe.Client(" + c.shown + ")" }

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// Settle returns how long Await* poll for the expected state.
func (c *Client) Settle() time.Duration { return c.settle }

// Watch returns how long Await* watch once the expected state is seen.
func (c *Client) Watch() time.Duration { return c.watch }

// Event asks the probe about one event. A 404 gives Found false and no
// error; any answer other than a valid 200 or a 404 is an error wrapping
// ErrProbe that says what was wrong and what to do.
func (c *Client) Event(ctx context.Context, eventID string) (EventState, harness.Exchange, error) {
	body, found, ex, err := c.get(ctx, "events", eventID, schemaEvent)
	if err != nil || !found {
		return EventState{EventID: eventID}, ex, err
	}
	st, err := c.eventState(ex.Request.URL, body, eventID)
	return st, ex, err
}

// job asks the probe about one job, like Event.
func (c *Client) job(ctx context.Context, jobID string) (JobState, harness.Exchange, error) {
	body, found, ex, err := c.get(ctx, "jobs", jobID, schemaJob)
	if err != nil || !found {
		return JobState{JobID: jobID}, ex, err
	}
	st, err := c.jobState(ex.Request.URL, body, jobID)
	return st, ex, err
}

// maxCount is the largest timesProcessed read: the largest integer that
// JSON carries exactly between implementations (RFC 7493), far beyond any
// count of runs.
const maxCount = 1<<53 - 1

// eventState reads the probe-event answer of url, body, which the schema
// accepted, about the event eventID.
func (c *Client) eventState(url string, body []byte, eventID string) (EventState, error) {
	st := EventState{EventID: eventID}
	var id string
	var count float64 // JSON Schema's integer admits 2.0
	if err := members(body, map[string]any{"eventId": &id, "timesProcessed": &count}); err != nil {
		return st, fmt.Errorf("%w: %s answered a body that is not a probe-event: %s", ErrProbe, url, c.scrub(err.Error()))
	}
	if id != eventID {
		return st, fmt.Errorf("%w: %s answered for eventId %q: the probe must describe the event asked for", ErrProbe, url, c.scrub(id))
	}
	if count < 0 || count > maxCount || count != math.Trunc(count) {
		return st, fmt.Errorf("%w: %s answered timesProcessed %v: not a count of runs", ErrProbe, url, count)
	}
	return EventState{EventID: eventID, TimesProcessed: int(count), Found: true}, nil
}

// jobState reads the probe-job answer of url, body, which the schema
// accepted, about the job jobID.
func (c *Client) jobState(url string, body []byte, jobID string) (JobState, error) {
	st := JobState{JobID: jobID}
	var id, status string
	if err := members(body, map[string]any{"jobId": &id, "status": &status}); err != nil {
		return st, fmt.Errorf("%w: %s answered a body that is not a probe-job: %s", ErrProbe, url, c.scrub(err.Error()))
	}
	if id != jobID {
		return st, fmt.Errorf("%w: %s answered for jobId %q: the probe must describe the job asked for", ErrProbe, url, c.scrub(id))
	}
	return JobState{JobID: jobID, Status: status, Found: true}, nil
}

// members decodes the members of the JSON object body named by the keys
// of into, each into its value, matching the names exactly. Decoding into
// a struct would match them regardless of case: an answer holding both
// timesProcessed and TimesProcessed would be read by the second, which
// the schema, reading the first, never checked.
func members(body []byte, into map[string]any) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return err
	}
	for name, v := range into {
		raw, ok := obj[name]
		if !ok {
			return fmt.Errorf("no %s", name)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// Check tells whether the probe is usable before a run: it asks for an
// event that cannot exist and demands a 404. Any other outcome is an error
// wrapping errUnusable (and ErrProbe when the call itself failed).
func (c *Client) Check(ctx context.Context) error {
	st, ex, err := c.Event(ctx, checkEventID)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", errUnusable, err)
	case st.Found:
		return fmt.Errorf("%w: %s answered 200 for an event never sent: the probe must answer 404 for unknown events", errUnusable, ex.Request.URL)
	}
	return nil
}

// get performs GET {base}/{kind}/{id}. It returns the body of a 200 that
// validates against schemaName, found false for a 404, and an error wrapping
// ErrProbe otherwise. The exchange is filled in every case.
func (c *Client) get(ctx context.Context, kind, id, schemaName string) ([]byte, bool, harness.Exchange, error) {
	u := *c.base
	u.Path += "/" + kind + "/" + id
	target := u.String()
	// shown is the URL without credentials, for evidence and errors.
	shown := redact.URL(target)
	ex := harness.Exchange{
		Start:   time.Now(),
		Request: harness.Request{Method: http.MethodGet, URL: shown},
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		ex.Failure, ex.Err = harness.FailureOther, err.Error()
		return nil, false, ex, fmt.Errorf("%w: building GET %s: %w", ErrProbe, shown, err)
	}
	req.Header.Set("Accept", "application/json")
	// Not REALM's User-Agent: these calls are not deliveries, and a
	// receiver's logs should tell them apart.
	req.Header.Set(harness.HeaderUserAgent, userAgent)
	if c.token.Reveal() != "" {
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	ex.Request.Header = c.redactHeader(req.Header)

	start := time.Now()
	resp, err := c.hc.Do(req)
	ex.Latency = time.Since(start)
	if err != nil {
		what, kind := "no answer", failureOf(err)
		if kind == harness.FailureTimeout {
			what = fmt.Sprintf("no answer within %s", c.timeout)
		}
		// The URL is in the message already; keep the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		ex.Failure, ex.Err = kind, c.scrub(fmt.Sprintf("%s: %v", what, err))
		ask := "is the receiver up and the probe URL right?"
		if c.version != harness.HTTPAuto {
			// A server that does not speak the one version the client
			// speaks closes the connection without a word.
			ask = "is the receiver up, does it speak HTTP/" + c.version.String() + ", the one version this client speaks, and is the probe URL right?"
		}
		return nil, false, ex, fmt.Errorf("%w: GET %s: %s (%s): %w", ErrProbe, shown, what, ask, err)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
	ex.Response = &harness.Response{
		Status:   resp.StatusCode,
		Header:   c.redactHeader(resp.Header),
		Body:     excerpt([]byte(c.scrub(string(body)))),
		BodySize: len(body),
	}
	if readErr != nil {
		ex.Failure, ex.Err = harness.FailureOther, c.scrub(readErr.Error())
		return nil, false, ex, fmt.Errorf("%w: GET %s: reading the answer: %w", ErrProbe, shown, readErr)
	}
	if found, err := c.answer(shown, resp.StatusCode, body, schemaName); !found {
		return nil, false, ex, err
	}
	return body, true, ex, nil
}

// failureOf is the kind of a probe call's transport failure: a probe
// that a restart took away with its receiver refuses or resets the call,
// as the deliveries are, so a check can tell that from a probe that is
// wrong (harness.Exchange.Unavailable).
func failureOf(err error) harness.FailureKind {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return harness.FailureTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return harness.FailureRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return harness.FailureReset
	}
	return harness.FailureOther
}

// answer judges the probe's answer to GET shown, its status code and body:
// found for a 200 whose body follows the schema schemaName, not found and
// no error for a 404, and an error wrapping ErrProbe that says what to do
// for anything else.
func (c *Client) answer(shown string, code int, body []byte, schemaName string) (found bool, err error) {
	switch {
	case code == http.StatusOK:
	case code == http.StatusNotFound:
		return false, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return false, fmt.Errorf("%w: GET %s answered %d: %w: check the probe token", ErrProbe, shown, code, ErrUnauthorized)
	case code >= 300 && code < 400:
		return false, fmt.Errorf("%w: GET %s answered %d (a redirect): give the probe's own URL, not one that redirects to it", ErrProbe, shown, code)
	default:
		return false, fmt.Errorf("%w: GET %s answered %d: the probe must answer 200 or 404 (README \"The probe contract\")", ErrProbe, shown, code)
	}
	if err := c.validator.Validate(schemaName, body); err != nil {
		return false, fmt.Errorf("%w: GET %s answered 200 with a body that does not follow the %s schema: %s", ErrProbe, shown, schemaName, c.scrub(err.Error()))
	}
	return true, nil
}

// redactHeader copies h for the evidence, with the credentials replaced:
// the Authorization header whole, the token wherever else it appears.
func (c *Client) redactHeader(h http.Header) http.Header {
	if vs, ok := h["Authorization"]; ok {
		h = h.Clone()
		for i := range vs {
			h["Authorization"][i] = "Bearer " + harness.Redacted
		}
	}
	return redact.Header(h, c.token)
}

// scrub removes the token from text the probe controls, so that a probe
// echoing it cannot make the report leak it.
func (c *Client) scrub(s string) string { return redact.Scrub(s, c.token) }

// excerptLimit bounds the body kept as evidence; probe answers are tiny,
// so only a misbehaving probe reaches it.
const excerptLimit = 1 << 10

func excerpt(b []byte) string {
	if len(b) > excerptLimit {
		b = b[:excerptLimit]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

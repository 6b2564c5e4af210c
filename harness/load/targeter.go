package load

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/schema"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Share is one event type's part of an attack: Weight deliveries of Type
// in every sum-of-weights deliveries.
type Share struct {
	Type   string
	Weight int
}

// Mix is the event types an attack sends, with their shares.
type Mix []Share

// DefaultMix is mostly job events, as REALM's traffic is, with some model
// training events: three in four are job.*, job.completed the most common.
func DefaultMix() Mix {
	return Mix{
		{harness.JobQueued, 10},
		{harness.JobProcessing, 15},
		{harness.JobCompleted, 35},
		{harness.JobFailed, 10},
		{harness.JobCanceled, 5},
		{harness.ModelTrainingStarted, 8},
		{harness.ModelTrainingCompleted, 12},
		{harness.ModelTrainingFailed, 5},
	}
}

// ErrInvalidMix is wrapped when a Mix names no type, a type outside the
// catalogue, or a weight below zero.
var ErrInvalidMix = errors.New("invalid event mix")

// cycle expands the mix into a sequence in which each type appears Weight
// times, shuffled so that the types interleave.
func (m Mix) cycle(rnd *rand.Rand) ([]string, error) {
	var out []string
	for _, s := range m {
		if s.Weight < 0 {
			return nil, fmt.Errorf("load: %w: %s has weight %d", ErrInvalidMix, s.Type, s.Weight)
		}
		if !isCatalogued(s.Type) {
			return nil, fmt.Errorf("load: %w: %q is not in the catalogue %v", ErrInvalidMix, s.Type, harness.EventTypes())
		}
		for range s.Weight {
			out = append(out, s.Type)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load: %w: no event type has a weight", ErrInvalidMix)
	}
	rnd.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

func isCatalogued(t string) bool {
	for _, c := range harness.EventTypes() {
		if c == t {
			return true
		}
	}
	return false
}

// NewTargeter returns a vegeta.Targeter whose every Target is a fresh,
// valid REALM event for url, of a type taken in turn from the mix, signed
// with secret at the moment vegeta asks for it, with the headers of a
// REALM v1 delivery (harness.Header*), attempt 1. Every event has a new
// eventId, jobId (and modelId for model events) and the clock's createdAt.
// It is safe for concurrent use by vegeta's workers. NewTargeter heeds
// WithFactory, WithMix, WithClock, WithSeed and WithRebuild.
//
// Building and validating an event costs about 20 µs, more than the rest
// of a request on loopback, so by default the factory builds (and
// validates) one event of a type in every DefaultRebuild, and the others
// are that event's body with the identifiers and timestamps rewritten in
// place: the same bytes but for fields of the same shape, so as valid as
// the one validated. The first rewrite of each template is validated
// again against the catalogue as a guard. WithRebuild(1) builds every
// event afresh.
func NewTargeter(url string, secret harness.Secret, opts ...Option) (vegeta.Targeter, error) {
	return newTargeter(url, secret, newOptions(opts))
}

func newTargeter(url string, secret harness.Secret, o options) (vegeta.Targeter, error) {
	if secret.Reveal() == "" {
		return nil, errors.New("load: the secret is empty: give the targeter the receiver's signing secret")
	}
	if o.rebuild < 1 {
		return nil, fmt.Errorf("load: %w: rebuild every %d events: want 1 or more", ErrInvalidOption, o.rebuild)
	}
	types, err := o.mix.cycle(o.rand())
	if err != nil {
		return nil, err
	}
	src := &source{factory: o.factory, clock: o.clock, rebuild: uint64(o.rebuild), slots: map[string]*slot{}}
	for _, t := range types {
		src.slots[t] = &slot{}
	}
	sign, err := newSigner(url, secret, o.scheme, o.clock)
	if err != nil {
		return nil, err
	}
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		typ := types[(n.Add(1)-1)%uint64(len(types))]
		body, id, err := src.event(typ)
		if err != nil {
			return err
		}
		sign(t, body, id, typ, 1)
		return nil
	}, nil
}

// signer fills t with a delivery to the target of body, the event id of
// type typ, as its attempt number attempt (X-Webhook-Attempt, 1 for a
// first delivery), signed at the clock's second. The retries of a load
// run are signed by the same signer as first deliveries.
type signer func(t *vegeta.Target, body []byte, id, typ string, attempt int)

// newSigner returns the signer of REALM v1 (sc nil: the fast path) or of
// the scheme sc.
func newSigner(url string, secret harness.Secret, sc *signing.Scheme, clock harness.Clock) (signer, error) {
	if sc != nil {
		return schemeSigner(url, secret, sc, clock)
	}
	return func(t *vegeta.Target, body []byte, id, typ string, attempt int) {
		ts := clock.Now().Unix()
		t.Method = http.MethodPost
		t.URL = url
		t.Body = body
		// Keys are in canonical form already, so the map is filled
		// directly rather than through Header.Set, and the values share
		// one array: this runs for every request.
		v := [...]string{harness.ContentType, harness.UserAgent, id, typ, attemptHeader(attempt),
			signing.FormatHeader(ts, signing.Sign(secret, ts, body))}
		t.Header = http.Header{
			harness.HeaderContentType: v[0:1:1],
			harness.HeaderUserAgent:   v[1:2:2],
			harness.HeaderID:          v[2:3:3],
			harness.HeaderEvent:       v[3:4:4],
			harness.HeaderAttempt:     v[4:5:5],
			harness.HeaderSignature:   v[5:6:6],
		}
	}, nil
}

// attemptHeader is X-Webhook-Attempt of attempt n, without allocating for
// a first delivery.
func attemptHeader(n int) string {
	if n == 1 {
		return "1"
	}
	return strconv.Itoa(n)
}

// schemeSigner is the signer of a scheme other than REALM v1's fast path:
// every header of the scheme. The event id also travels in X-Webhook-Id
// when the scheme has no header of its own for it, so that the
// acknowledged events can be sampled for LOAD-03 and retried.
func schemeSigner(url string, secret harness.Secret, sc *signing.Scheme, clock harness.Clock) (signer, error) {
	key, err := sc.KeyOf(secret)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	// Header names in canonical form, once.
	names := []string{http.CanonicalHeaderKey(sc.Signature.Header)}
	for _, h := range sc.Headers {
		names = append(names, http.CanonicalHeaderKey(h.Name))
	}
	idHeader := http.CanonicalHeaderKey(sc.IDHeader())
	if idHeader == "" {
		idHeader = harness.HeaderID
	}
	return func(t *vegeta.Target, body []byte, id, typ string, attempt int) {
		lines := sc.HeaderLines(signing.Delivery{ID: id, Type: typ, Attempt: attempt, T: clock.Now().Unix(), Body: body}, key)
		t.Method, t.URL, t.Body = http.MethodPost, url, body
		h := make(http.Header, len(lines)+3)
		h[harness.HeaderContentType] = []string{harness.ContentType}
		h[harness.HeaderUserAgent] = []string{harness.UserAgent}
		for i, l := range lines {
			h[names[i]] = []string{l.Value}
		}
		if h[idHeader] == nil {
			h[idHeader] = []string{id}
		}
		t.Header = h
	}, nil
}

// source hands out event bodies: per type, a factory-built template
// rebuilt every rebuild events, rewritten in between.
type source struct {
	factory *events.Factory
	clock   harness.Clock
	rebuild uint64
	slots   map[string]*slot // read-only once built
}

// slot is one type's template and how many events it has given.
type slot struct {
	n   atomic.Uint64
	tpl atomic.Pointer[template]
}

func (s *source) event(typ string) ([]byte, string, error) {
	sl := s.slots[typ]
	n := sl.n.Add(1) - 1
	tpl := sl.tpl.Load()
	if n%s.rebuild == 0 || tpl == nil {
		ev, err := s.factory.New(typ)
		if err != nil {
			return nil, "", fmt.Errorf("load: building a %s event: %w", typ, err)
		}
		if s.rebuild > 1 {
			if tpl, err := newTemplate(ev); err == nil {
				sl.tpl.Store(tpl)
			}
		}
		return ev.Body, ev.ID, nil
	}
	body, id := tpl.instance(s.factory, s.clock.Now())
	if n%s.rebuild == 1 {
		// The first rewrite of each template is validated: a new shape of
		// event that rewriting would break is caught at once.
		if err := schema.Default().ValidateEvent(body); err != nil {
			return nil, "", fmt.Errorf("load: a rewritten %s event is invalid: %w", typ, err)
		}
	}
	return body, id, nil
}

// template is a validated event body with the places of its identifiers
// and timestamps.
type template struct {
	body  []byte
	ids   []field // eventId first
	times []int   // offsets of createdAt and completedAt values
}

// field is an identifier in a body: where it starts and its prefix (evt,
// job, model), from which a fresh one of the same length is made.
type field struct {
	off    int
	prefix string
}

// rfc3339Len is the length of a UTC time in RFC 3339 without fractions,
// as the factory writes createdAt and completedAt.
const rfc3339Len = len("2006-01-02T15:04:05Z")

// newTemplate locates the identifiers and timestamps of ev. It refuses an
// event where one of them is not found exactly once, or has another
// shape: such an event is then always built afresh.
func newTemplate(ev harness.Event) (*template, error) {
	t := &template{body: ev.Body}
	for _, id := range []string{ev.ID, ev.JobID, ev.ModelID} {
		if id == "" {
			continue
		}
		quoted := `"` + id + `"`
		off := bytes.Index(ev.Body, []byte(quoted))
		prefix, rest, ok := strings.Cut(id, "_")
		if off < 0 || bytes.Count(ev.Body, []byte(quoted)) != 1 || !ok || len(rest) != events.IDLength {
			return nil, fmt.Errorf("load: %s of %s cannot be rewritten", id, ev.Type)
		}
		t.ids = append(t.ids, field{off: off + 1, prefix: prefix})
	}
	for _, key := range []string{`"createdAt":"`, `"completedAt":"`} {
		if off := bytes.Index(ev.Body, []byte(key)); off >= 0 {
			at := off + len(key)
			if at+rfc3339Len >= len(ev.Body) || ev.Body[at+rfc3339Len] != '"' {
				return nil, fmt.Errorf("load: %s of %s is not a UTC time without fractions", key, ev.Type)
			}
			t.times = append(t.times, at)
		}
	}
	return t, nil
}

// instance returns a copy of the body with fresh identifiers and the time
// now, and its eventId.
func (t *template) instance(f *events.Factory, now time.Time) ([]byte, string) {
	b := bytes.Clone(t.body)
	var id string
	for i, fl := range t.ids {
		fresh := f.NewID(fl.prefix)
		copy(b[fl.off:], fresh)
		if i == 0 {
			id = fresh
		}
	}
	var ts [rfc3339Len + 8]byte
	stamp := now.UTC().AppendFormat(ts[:0], time.RFC3339)
	if len(stamp) == rfc3339Len {
		for _, at := range t.times {
			copy(b[at:], stamp)
		}
	}
	return b, id
}

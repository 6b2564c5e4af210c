package load

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
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

// typeShare is one event type's part of an attack: Weight deliveries of Type
// in every sum-of-weights deliveries.
type typeShare struct {
	Type   string
	Weight int
}

// mix is the event types an attack sends, with their shares.
type mix []typeShare

// defaultMix is mostly job events, as REALM's traffic is, with some model
// training events: three in four are job.*, job.completed the most common.
func defaultMix() mix {
	return mix{
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

// errInvalidMix is wrapped when a Mix names no type, a type outside the
// catalogue, or a weight below zero.
var errInvalidMix = errors.New("invalid event mix")

// cycle expands the mix into a sequence in which each type appears Weight
// times, shuffled so that the types interleave.
func (m mix) cycle(rnd *rand.Rand) ([]string, error) {
	var out []string
	for _, s := range m {
		if s.Weight < 0 {
			return nil, fmt.Errorf("load: %w: %s has weight %d", errInvalidMix, s.Type, s.Weight)
		}
		if !isCatalogued(s.Type) {
			return nil, fmt.Errorf("load: %w: %q is not in the catalogue %v", errInvalidMix, s.Type, harness.EventTypes())
		}
		for range s.Weight {
			out = append(out, s.Type)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load: %w: no event type has a weight", errInvalidMix)
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

// eventTargeter returns a vegeta.Targeter whose every Target is a fresh,
// valid REALM event for url, of a type taken in turn from the mix, signed
// with secret at the moment vegeta asks for it, with the headers of a
// REALM v1 delivery (harness.Header*), attempt 1. Every event has a new
// eventId, jobId (and modelId for model events) and the clock's createdAt.
// It is safe for concurrent use by vegeta's workers. eventTargeter heeds
// WithScheme, withMix, withClock, withSeed and withRebuild.
//
// Building and validating an event costs about 20 µs, more than the rest
// of a request on loopback, so by default the factory builds (and
// validates) one event of a type in every defaultRebuild, and the others
// are that event's body with the identifiers and timestamps rewritten in
// place: the same bytes but for fields of the same shape, so as valid as
// the one validated. The first rewrite of each type is validated again
// against the catalogue as a guard. withRebuild(1) builds every event
// afresh.
func eventTargeter(url string, secret harness.Secret, opts ...Option) (vegeta.Targeter, error) {
	return newTargeter(url, secret, newOptions(opts))
}

func newTargeter(url string, secret harness.Secret, o options) (vegeta.Targeter, error) {
	if secret.Reveal() == "" {
		return nil, errors.New("load: the secret is empty: give the targeter the receiver's signing secret")
	}
	if o.rebuild < 1 {
		return nil, fmt.Errorf("load: %w: rebuild every %d events: want 1 or more", errInvalidOption, o.rebuild)
	}
	types, err := o.mix.cycle(o.rand())
	if err != nil {
		return nil, err
	}
	src := &source{factory: o.factory, rebuild: uint64(o.rebuild)}
	// The cycle of slots, one per type shared by its turns: no lookup
	// by name on every request.
	slots := map[string]*slot{}
	cycle := make([]*slot, len(types))
	for i, t := range types {
		if slots[t] == nil {
			slots[t] = &slot{typ: t}
		}
		cycle[i] = slots[t]
	}
	ds, err := newDeliverySigner(url, secret, o.scheme, o.clock)
	if err != nil {
		return nil, err
	}
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		sl := cycle[(n.Add(1)-1)%uint64(len(cycle))]
		// One reading of the clock: createdAt and the signature's time
		// agree.
		now := o.clock.Now()
		body, id, err := src.event(sl, now)
		if err != nil {
			return err
		}
		ds.signFirst(t, body, id, sl.typ, now.Unix())
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
	ds, err := newDeliverySigner(url, secret, sc, clock)
	if err != nil {
		return nil, err
	}
	return ds.sign, nil
}

// deliverySigner is a signer with a cheaper way in for the targeter: the
// first delivery of a fresh event, whose id is still bytes of its body,
// is signed with the id string made in the same allocation as the header
// values (or the scheme's signature).
//
// What a signer costs is paid on every request, and a Target cannot be
// recycled (vegeta owns it once handed back), so each target costs its
// header map (two allocations), one array of its header values and one
// string holding the values that are not constants: everything else is
// built in stack buffers and pooled MAC states.
type deliverySigner interface {
	sign(t *vegeta.Target, body []byte, id, typ string, attempt int)
	// signFirst signs at unix time ts.
	signFirst(t *vegeta.Target, body, id []byte, typ string, ts int64)
}

// newDeliverySigner returns the REALM v1 fast path (sc nil) or the
// signer of the scheme sc.
func newDeliverySigner(url string, secret harness.Secret, sc *signing.Scheme, clock harness.Clock) (deliverySigner, error) {
	if sc != nil {
		return newSchemeSigner(url, secret, sc, clock)
	}
	return &realmSigner{url: url, key: signing.NewKeyed(secret), clock: clock}, nil
}

// realmSigner signs REALM v1 deliveries: the fast path.
type realmSigner struct {
	url   string
	key   *signing.Keyed
	clock harness.Clock
}

// realmValuesLen is room for the id and the signature in one buffer.
const realmValuesLen = 64 + signing.HeaderLen

func (r *realmSigner) sign(t *vegeta.Target, body []byte, id, typ string, attempt int) {
	var buf [realmValuesLen]byte
	sig := string(r.key.AppendHeader(buf[:0], r.clock.Now().Unix(), body))
	r.fill(t, body, id, typ, attemptHeader(attempt), sig)
}

func (r *realmSigner) signFirst(t *vegeta.Target, body, id []byte, typ string, ts int64) {
	var buf [realmValuesLen]byte
	v := string(r.key.AppendHeader(append(buf[:0], id...), ts, body))
	r.fill(t, body, v[:len(id)], typ, "1", v[len(id):])
}

// fill writes the target: the headers of a REALM v1 delivery.
func (r *realmSigner) fill(t *vegeta.Target, body []byte, id, typ, attempt, sig string) {
	t.Method, t.URL, t.Body = http.MethodPost, r.url, body
	// Keys are in canonical form already, so the map is filled directly
	// rather than through Header.Set, and the values share one array.
	v := [...]string{harness.ContentType, harness.UserAgent, id, typ, attempt, sig}
	t.Header = http.Header{
		harness.HeaderContentType: v[0:1:1],
		harness.HeaderUserAgent:   v[1:2:2],
		harness.HeaderID:          v[2:3:3],
		harness.HeaderEvent:       v[3:4:4],
		harness.HeaderAttempt:     v[4:5:5],
		harness.HeaderSignature:   v[5:6:6],
	}
}

// attemptHeader is X-Webhook-Attempt of attempt n, without allocating for
// a first delivery.
func attemptHeader(n int) string {
	if n == 1 {
		return "1"
	}
	return strconv.Itoa(n)
}

// schemeSigner signs in a scheme other than REALM v1's fast path: every
// header of the scheme. The event id also travels in X-Webhook-Id when
// the scheme has no header of its own for it, so that the acknowledged
// events can be sampled for LOAD-03 and retried.
type schemeSigner struct {
	url   string
	key   *signing.SchemeKey
	clock harness.Clock
	// headers are the scheme's headers but the signature's; names the
	// canonical names of the signature header, then of headers, then
	// X-Webhook-Id when none of the scheme's carries the id.
	headers []signing.Header
	names   []string
}

func newSchemeSigner(url string, secret harness.Secret, sc *signing.Scheme, clock harness.Clock) (*schemeSigner, error) {
	key, err := sc.KeyOf(secret)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	s := &schemeSigner{url: url, key: sc.Keyed(key), clock: clock, headers: sc.Headers}
	// Header names in canonical form, once.
	s.names = append(s.names, http.CanonicalHeaderKey(sc.Signature.Header))
	for _, h := range sc.Headers {
		s.names = append(s.names, http.CanonicalHeaderKey(h.Name))
	}
	if sc.IDHeader() == "" && !slices.Contains(s.names, harness.HeaderID) {
		s.names = append(s.names, harness.HeaderID)
	}
	return s, nil
}

// schemeValuesLen is room for a scheme's header values in a stack buffer;
// longer ones spill to the heap.
const schemeValuesLen = 512

func (s *schemeSigner) sign(t *vegeta.Target, body []byte, id, typ string, attempt int) {
	s.signAt(t, body, id, typ, attempt, s.clock.Now().Unix())
}

func (s *schemeSigner) signFirst(t *vegeta.Target, body, id []byte, typ string, ts int64) {
	s.signAt(t, body, string(id), typ, 1, ts)
}

func (s *schemeSigner) signAt(t *vegeta.Target, body []byte, id, typ string, attempt int, ts int64) {
	d := signing.Delivery{ID: id, Type: typ, Attempt: attempt, T: ts, Body: body}
	var buf [schemeValuesLen]byte
	var ends [8]int
	b, e := s.appendValues(buf[:0], ends[:0], d)
	s.fill(t, body, string(b), e, id)
}

// appendValues appends the value of each header of names but an added
// X-Webhook-Id, and their ends.
func (s *schemeSigner) appendValues(b []byte, ends []int, d signing.Delivery) ([]byte, []int) {
	b = s.key.AppendSignature(b, d)
	ends = append(ends, len(b))
	for _, h := range s.headers {
		b = h.AppendValue(b, d)
		ends = append(ends, len(b))
	}
	return b, ends
}

// fill writes the target: Content-Type, User-Agent, and the headers of
// names, whose values are in v up to ends, with id in an added
// X-Webhook-Id.
func (s *schemeSigner) fill(t *vegeta.Target, body []byte, v string, ends []int, id string) {
	t.Method, t.URL, t.Body = http.MethodPost, s.url, body
	vals := make([]string, len(s.names)+2)
	vals[0], vals[1] = harness.ContentType, harness.UserAgent
	h := make(http.Header, len(vals))
	h[harness.HeaderContentType] = vals[0:1:1]
	h[harness.HeaderUserAgent] = vals[1:2:2]
	from := 0
	for i, name := range s.names {
		if i < len(ends) {
			vals[i+2], from = v[from:ends[i]], ends[i]
		} else {
			vals[i+2] = id
		}
		h[name] = vals[i+2 : i+3 : i+3]
	}
	t.Header = h
}

// source hands out event bodies: per type, a factory-built template
// rebuilt every rebuild events, rewritten in between.
type source struct {
	factory *events.Factory
	rebuild uint64
	// stamp is the last second's createdAt, kept: every event of a
	// second has the same.
	stamp atomic.Pointer[stamp]
}

// stamp is the RFC 3339 text of the unix second sec; ok is false when it
// does not have the length of the factory's (a year past 9999).
type stamp struct {
	sec  int64
	text [rfc3339Len]byte
	ok   bool
}

// stampOf returns the stamp of now's second.
func (s *source) stampOf(now time.Time) *stamp {
	sec := now.Unix()
	if st := s.stamp.Load(); st != nil && st.sec == sec {
		return st
	}
	st := &stamp{sec: sec}
	var buf [rfc3339Len + 8]byte
	text := now.UTC().AppendFormat(buf[:0], time.RFC3339)
	st.ok = len(text) == rfc3339Len
	copy(st.text[:], text)
	s.stamp.Store(st)
	return st
}

// slot is one type's template and how many events it has given, and
// whether a rewrite of the type has been validated.
type slot struct {
	typ     string
	n       atomic.Uint64
	tpl     atomic.Pointer[template]
	checked atomic.Bool
}

// event returns a fresh event of the slot's type created now: its body
// and its eventId, a slice of the body when the body is a rewritten
// template.
func (s *source) event(sl *slot, now time.Time) ([]byte, []byte, error) {
	typ := sl.typ
	n := sl.n.Add(1) - 1
	tpl := sl.tpl.Load()
	if n%s.rebuild == 0 || tpl == nil {
		ev, err := s.factory.New(typ)
		if err != nil {
			return nil, nil, fmt.Errorf("load: building a %s event: %w", typ, err)
		}
		if s.rebuild > 1 {
			if tpl, err := newTemplate(ev); err == nil {
				sl.tpl.Store(tpl)
			}
		}
		return ev.Body, []byte(ev.ID), nil
	}
	body, id := tpl.instance(s.stampOf(now))
	if n%s.rebuild == 1 && !sl.checked.Load() {
		// The first rewrite of each type is validated: a catalogue or a
		// factory whose events rewriting would break is caught at once.
		// Once is enough: a rewrite writes the same letters and the same
		// time format in the same fields whatever else a template of the
		// type holds (results, error codes), and validating every
		// template's would cost as much as building it.
		if err := schema.Default().ValidateEvent(body); err != nil {
			return nil, nil, fmt.Errorf("load: a rewritten %s event is invalid: %w", typ, err)
		}
		sl.checked.Store(true)
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

// field is an identifier in a body: where it starts and how long it is.
// Its last events.IDLength characters are the random ones.
type field struct{ off, len int }

// rfc3339Len is the length of a UTC time in RFC 3339 without fractions,
// as the factory writes createdAt and completedAt.
const rfc3339Len = len("2006-01-02T15:04:05Z")

// newTemplate locates the identifiers and timestamps of ev. It refuses an
// event where one of them is not found exactly once, or has another
// shape: such an event is then always built afresh.
func newTemplate(ev harness.Event) (*template, error) {
	if ev.ID == "" {
		return nil, fmt.Errorf("load: a %s event without an eventId cannot be rewritten", ev.Type)
	}
	t := &template{body: ev.Body}
	for _, id := range []string{ev.ID, ev.JobID, ev.ModelID} {
		if id == "" {
			continue
		}
		quoted := `"` + id + `"`
		off := bytes.Index(ev.Body, []byte(quoted))
		_, rest, ok := strings.Cut(id, "_")
		if off < 0 || bytes.Count(ev.Body, []byte(quoted)) != 1 || !ok || len(rest) != events.IDLength {
			return nil, fmt.Errorf("load: %s of %s cannot be rewritten", id, ev.Type)
		}
		t.ids = append(t.ids, field{off: off + 1, len: len(id)})
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

// idAlphabet is the factory's alphabet of id characters (events.NewID):
// lowercase Crockford base32, five random bits a letter.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// instance returns a copy of the body with fresh identifiers and the
// time of st, and its eventId (a slice of the copy). The identifiers keep
// their prefixes and take new random letters of the factory's alphabet,
// written in place: nothing is allocated but the copy. The letters come
// from math/rand/v2's ChaCha8, seeded from the system's entropy, rather
// than from a getrandom call for each event: ids must not collide, not
// be secret.
func (t *template) instance(st *stamp) ([]byte, []byte) {
	b := bytes.Clone(t.body)
	for _, f := range t.ids {
		fillIDLetters(b[f.off+f.len-events.IDLength : f.off+f.len])
	}
	if st.ok {
		for _, at := range t.times {
			copy(b[at:], st.text[:])
		}
	}
	id := t.ids[0]
	return b, b[id.off : id.off+id.len]
}

// fillIDLetters fills dst with random letters of idAlphabet, twelve
// from each random 64 bits.
func fillIDLetters(dst []byte) {
	for i := 0; i < len(dst); {
		r := rand.Uint64()
		for j := 0; j < 12 && i < len(dst); j++ {
			dst[i] = idAlphabet[r&31]
			r >>= 5
			i++
		}
	}
}

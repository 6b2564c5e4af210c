// Package events builds REALM webhook events of the catalogue: valid
// bodies of every catalogue type with fresh ids, realistic data and the
// clock's time, plus the deliberate variants the checks need (an unknown
// future type, extra fields, a lifecycle of one job, overridden fields).
//
// Every event a Factory returns has been validated against the catalogue;
// one that fails is a harness bug and comes back as an error, never as an
// event to send. Mutate is the one way to make an invalid body, for the
// negative checks that need one.
package events

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/schema"
)

// Defaults of generated data.
const (
	// defaultJobType is the jobType of job events unless jobType says
	// otherwise.
	defaultJobType = "image_generation"
	// defaultUnknownType is the type Factory.Unknown uses when given none:
	// plausible, dotted like the real ones, and not in the catalogue.
	defaultUnknownType = "job.archived"
	// IDLength is the number of random characters after an id's prefix:
	// 20 characters of a 32-letter alphabet, 100 bits, so ids never collide
	// in practice.
	IDLength = 20
)

// idAlphabet is lowercase Crockford base32: unambiguous to read in a report,
// and 32 letters so that one random byte gives one letter without bias.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// errUnknownType is wrapped by Factory.New when the type is not in the
// catalogue, and by Factory.Lifecycle when the final type is not terminal.
var errUnknownType = errors.New("unknown event type")

// errInvalidEvent is wrapped when a built event fails its schema: an option
// broke it (a Set to a wrong type, say) or the harness has a bug. Use Mutate
// for payloads meant to be invalid.
var errInvalidEvent = errors.New("built event is invalid")

// Factory builds events. It is safe for concurrent use; the load generator
// calls New from many goroutines.
type Factory struct {
	clock     harness.Clock
	rand      io.Reader
	validator harness.Validator

	// randMu serializes reads from an injected rand, which need not be safe
	// for concurrent use; crypto/rand is, and is read without it.
	randMu   sync.Mutex
	lockRand bool
}

// eventValidator is the richer interface of *schema.Catalogue: it decodes the
// body once for the envelope and the type's schema.
type eventValidator interface {
	ValidateEvent(doc []byte) error
}

// catalogue is how the Factory tells whether a type is in the catalogue when
// its validator knows (so that Unknown never picks a catalogued type).
type catalogue interface {
	Has(name string) bool
}

// NewFactory returns a Factory with the given options: by default the real
// clock, crypto/rand and the embedded schema catalogue.
func NewFactory(opts ...Option) *Factory {
	f := &Factory{}
	for _, o := range opts {
		o(f)
	}
	if f.rand == nil {
		f.rand = rand.Reader
	} else {
		f.lockRand = true
	}
	if f.validator == nil {
		f.validator = schema.Default()
	}
	return f
}

// NewID returns prefix + "_" + IDLength random characters, e.g.
// "evt_8k2m...". It panics if the injected randomness fails (crypto/rand
// never does), since an id without entropy would collide: that is a broken
// withRand, a programmer error.
func (f *Factory) NewID(prefix string) string {
	buf, err := f.entropy(IDLength)
	if err != nil {
		panic(fmt.Sprintf("events: NewID: %v", err))
	}
	return newID(prefix, buf)
}

func newID(prefix string, rnd []byte) string {
	b := make([]byte, 0, len(prefix)+1+IDLength)
	b = append(b, prefix...)
	b = append(b, '_')
	for _, c := range rnd[:IDLength] {
		b = append(b, idAlphabet[c&31])
	}
	return string(b)
}

// entropy reads n random bytes.
func (f *Factory) entropy(n int) ([]byte, error) {
	buf := make([]byte, n)
	if f.lockRand {
		f.randMu.Lock()
		defer f.randMu.Unlock()
	}
	if _, err := io.ReadFull(f.rand, buf); err != nil {
		return nil, fmt.Errorf("read randomness: %w", err)
	}
	return buf, nil
}

// pool hands out the random bytes read for one event in the order the
// builders need them, so a fixed withRand gives identical events.
type pool struct{ buf []byte }

func (p *pool) take(n int) []byte {
	b := p.buf[:n]
	p.buf = p.buf[n:]
	return b
}

// New builds a valid event of a catalogue type (harness.EventTypes) with a
// fresh eventId, a fresh jobId and modelId unless given, createdAt from the
// clock and realistic data. It is validated before it is returned; the error
// wraps errUnknownType or errInvalidEvent.
func (f *Factory) New(eventType string, opts ...EventOption) (harness.Event, error) {
	k, ok := kinds[eventType]
	if !ok {
		return harness.Event{}, fmt.Errorf("events: new %q: %w (known: %v)", eventType, errUnknownType, harness.EventTypes())
	}
	return f.build(eventType, k, opts)
}

// Unknown builds an event of a type the catalogue does not know (default
// defaultUnknownType), valid against the envelope, for the
// forward-compatibility check (ACK-04). Its data has the object named by the
// type's first word and a jobId.
func (f *Factory) Unknown(eventType string, opts ...EventOption) (harness.Event, error) {
	if eventType == "" {
		eventType = defaultUnknownType
	}
	if f.known(eventType) {
		return harness.Event{}, fmt.Errorf("events: unknown %q: the type is in the catalogue; use New", eventType)
	}
	return f.build(eventType, kind{family: familyOf(eventType)}, opts)
}

// Lifecycle builds the life of one job in order: job.queued, job.processing,
// then final (job.completed, job.failed or job.canceled), all with jobID (a
// fresh one when empty) and one jobType, createdAt one second apart and
// ending at the clock's time.
func (f *Factory) Lifecycle(jobID string, final string) ([]harness.Event, error) {
	switch final {
	case harness.JobCompleted, harness.JobFailed, harness.JobCanceled:
	default:
		return nil, fmt.Errorf("events: lifecycle: final type %q: %w: want job.completed, job.failed or job.canceled", final, errUnknownType)
	}
	if jobID == "" {
		jobID = f.NewID("job")
	}
	end := f.clock.Now()
	types := []string{harness.JobQueued, harness.JobProcessing, final}
	out := make([]harness.Event, 0, len(types))
	for i, t := range types {
		at := end.Add(time.Duration(i-len(types)+1) * time.Second)
		ev, err := f.New(t, JobID(jobID), createdAt(at))
		if err != nil {
			return nil, fmt.Errorf("events: lifecycle of %s: %w", jobID, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// known reports whether eventType is in the catalogue: one the Factory can
// build, or one the validator has a schema for.
func (f *Factory) known(eventType string) bool {
	if _, ok := kinds[eventType]; ok {
		return true
	}
	c, ok := f.validator.(catalogue)
	return ok && c.Has(eventType)
}

// build assembles, edits, encodes and validates one event.
func (f *Factory) build(eventType string, k kind, opts []EventOption) (harness.Event, error) {
	ev, err := f.encode(eventType, k, opts)
	if err != nil {
		return harness.Event{}, err
	}
	if err := f.validate(eventType, ev.Body); err != nil {
		return harness.Event{}, fmt.Errorf("events: %s: %w: %w", eventType, errInvalidEvent, err)
	}
	return ev, nil
}

// encode is build without validation; the benchmarks measure it alone.
func (f *Factory) encode(eventType string, k kind, opts []EventOption) (harness.Event, error) {
	var s spec
	for _, o := range opts {
		o(&s)
	}
	if k.results && s.resultsSet && s.results < 1 {
		return harness.Event{}, fmt.Errorf("events: %s: Results(%d): a completed job has at least one result", eventType, s.results)
	}
	rnd, err := f.entropy(k.entropy(&s))
	if err != nil {
		return harness.Event{}, fmt.Errorf("events: %s: %w", eventType, err)
	}
	at := s.createdAt
	if at.IsZero() {
		at = f.clock.Now()
	}
	doc := assemble(eventType, k, &s, &pool{rnd}, at.UTC().Format(time.RFC3339))
	if err := applyEdits(doc, s.edits); err != nil {
		return harness.Event{}, fmt.Errorf("events: %s: %w", eventType, err)
	}
	body, err := appendJSON(make([]byte, 0, 384+k.resultCount(&s)*128), doc)
	if err != nil {
		return harness.Event{}, fmt.Errorf("events: %s: %w", eventType, err)
	}
	return eventOf(doc, body), nil
}

// validate checks a body with the Factory's validator.
func (f *Factory) validate(eventType string, body []byte) error {
	if ev, ok := f.validator.(eventValidator); ok {
		return ev.ValidateEvent(body)
	}
	if err := f.validator.Validate(schema.Envelope, body); err != nil {
		return err
	}
	if f.known(eventType) {
		return f.validator.Validate(eventType, body)
	}
	return nil
}

// eventOf reads the identifiers of a document, as it will be sent (after
// every edit), into a harness.Event.
func eventOf(doc *object, body []byte) harness.Event {
	ev := harness.Event{ID: doc.str("eventId"), Type: doc.str("eventType"), Body: body}
	if v, ok := doc.get("data"); ok {
		if data, ok := v.(*object); ok {
			ev.JobID, ev.ModelID, ev.Status = data.str("jobId"), data.str("modelId"), data.str("status")
		}
	}
	return ev
}

// Mutate applies edits to an existing body and returns the new body WITHOUT
// validating it: it exists to make deliberately broken payloads for negative
// checks (a missing eventId, a status that contradicts the type). Key order
// and numbers are kept; the result is compact JSON. It honours Set, Delete,
// Extra, eventID, JobID, modelID, jobType and createdAt, the last five as
// Sets of their fields; Results needs a Factory and is an error here.
func Mutate(body []byte, opts ...EventOption) ([]byte, error) {
	var s spec
	for _, o := range opts {
		o(&s)
	}
	if s.resultsSet {
		return nil, errors.New("events: mutate: Results needs a Factory; use Factory.New or Set \"data.results\"")
	}
	doc, err := parseDocument(body)
	if err != nil {
		return nil, fmt.Errorf("events: mutate: %w", err)
	}
	var pre []edit
	for _, e := range []struct{ path, val string }{
		{"eventId", s.eventID}, {"data.jobId", s.jobID}, {"data.modelId", s.modelID}, {"data.jobType", s.jobType},
	} {
		if e.val != "" {
			pre = append(pre, edit{path: e.path, value: e.val})
		}
	}
	if !s.createdAt.IsZero() {
		pre = append(pre, edit{path: "createdAt", value: s.createdAt.UTC().Format(time.RFC3339)})
	}
	if s.extra {
		data, _ := doc.get("data")
		addExtra(doc, data)
	}
	if err := applyEdits(doc, slices.Concat(pre, s.edits)); err != nil {
		return nil, fmt.Errorf("events: mutate: %w", err)
	}
	out, err := appendJSON(make([]byte, 0, len(body)+64), doc)
	if err != nil {
		return nil, fmt.Errorf("events: mutate: %w", err)
	}
	return out, nil
}

// applyEdits applies Sets and Deletes in order.
func applyEdits(doc *object, edits []edit) error {
	for _, e := range edits {
		var err error
		if e.delete {
			err = deletePath(doc, e.path)
		} else {
			err = setPath(doc, e.path, e.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

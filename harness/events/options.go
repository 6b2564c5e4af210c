package events

import (
	"io"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Option configures a Factory.
type Option func(*Factory)

// WithClock sets the clock that stamps createdAt (default time.Now).
func WithClock(c harness.Clock) Option {
	return func(f *Factory) { f.clock = c }
}

// withRand sets the source of randomness for ids, seeds and the choice of
// error codes (default crypto/rand). A fixed source gives byte-identical
// events, which tests and golden reports rely on. The Factory serializes
// reads from it, so it need not be safe for concurrent use.
func withRand(r io.Reader) Option {
	return func(f *Factory) { f.rand = r }
}

// withValidator sets the validator every event is checked against before it
// is returned (default schema.Default()). When v also has a ValidateEvent
// method, as *schema.Catalogue does, that is used; otherwise the body is
// checked against "envelope" and then against its own type's schema.
func withValidator(v harness.Validator) Option {
	return func(f *Factory) { f.validator = v }
}

// EventOption shapes one event built by Factory.New, Factory.Unknown or
// edited by Mutate.
type EventOption func(*spec)

// spec is what the EventOptions ask for; zero values mean "generate".
type spec struct {
	eventID, jobID, modelID, jobType string
	createdAt                        time.Time
	results                          int
	resultsSet                       bool
	extra                            bool
	edits                            []edit
}

// edit is one Set or Delete, applied in order after the event is built.
type edit struct {
	path   string
	value  any
	delete bool
}

// eventID sets the eventId instead of a fresh one, e.g. to build a distinct
// body for an id already sent.
func eventID(id string) EventOption {
	return func(s *spec) { s.eventID = id }
}

// JobID sets data.jobId instead of a fresh one, so several events concern
// the same job.
func JobID(id string) EventOption {
	return func(s *spec) { s.jobID = id }
}

// modelID sets data.modelId of model.training.* events instead of a fresh
// one. Job events have no modelId and ignore it.
func modelID(id string) EventOption {
	return func(s *spec) { s.modelID = id }
}

// jobType sets data.jobType of job.* events (default image_generation; a
// video_generation job yields videos rather than images). Model events have
// no jobType and ignore it.
func jobType(t string) EventOption {
	return func(s *spec) { s.jobType = t }
}

// createdAt sets createdAt (and completedAt where the type has one) instead
// of the clock's time. It is written in UTC to the second, RFC 3339.
func createdAt(t time.Time) EventOption {
	return func(s *spec) { s.createdAt = t }
}

// Results sets how many entries data.results of a job.completed event holds
// (default 1); other types ignore it. Use largeResults or resultsForSize for
// large bodies.
func Results(n int) EventOption {
	return func(s *spec) { s.results, s.resultsSet = n, true }
}

// Set sets the value at a dotted path such as "data.jobType" or
// "data.results.0.url", creating missing intermediate objects; a numeric
// segment indexes an existing array. Keys that contain a dot cannot be
// addressed. value is encoded with encoding/json, so a json.RawMessage is
// inserted as is. Sets and Deletes apply in order, after every other option.
func Set(path string, value any) EventOption {
	return func(s *spec) { s.edits = append(s.edits, edit{path: path, value: value}) }
}

// Delete removes the value at a dotted path; an absent path is left alone.
// Deleting an element of an array is not supported: Set the array instead.
func Delete(path string) EventOption {
	return func(s *spec) { s.edits = append(s.edits, edit{path: path, delete: true}) }
}

// Extra adds fields that no schema knows to the envelope and to data, for
// the forward-compatibility check (ACK-05): "livemode" and
// "deliveryContext" after data, "metadata" and "futureField" at the end of
// data. The event stays valid, since the schemas allow extra fields.
func Extra() EventOption {
	return func(s *spec) { s.extra = true }
}

package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/realm-ai/hookcert/harness"
)

// Errors of parseEvent. errMalformed means the body is not a usable event
// (the sender's bug: 400, never 5xx, or REALM retries a poison message);
// errUnknownType and errUnknownField are only returned under the faults that
// make the receiver that strict.
var (
	errMalformed    = errors.New("malformed event")
	errUnknownType  = errors.New("unknown event type")
	errUnknownField = errors.New("unknown field")
)

// event is what the receiver keeps of a delivery: the fields its business
// logic needs, nothing else. Everything else in the body is ignored, which is
// what keeps the receiver forward compatible.
type event struct {
	ID   string
	Type string
	// JobID is data.jobId, "" when absent.
	JobID string
	// Status is the job state the event moves JobID to, "" when it moves
	// none (unknown types).
	Status string
}

// Fields the catalogue defines (schemas/). Only faultStrictFields looks at
// them. The sets are per family, the union over
// the family's types, so that the strict receiver still accepts every valid
// catalogue event and trips on invented fields only.
var (
	envelopeFields = fieldSet("eventId", "eventType", "apiVersion", "createdAt", "data")
	jobFields      = fieldSet("object", "jobId", "jobType", "status", "results", "completedAt", "errorCode", "errorMessage")
	modelFields    = fieldSet("object", "modelId", "jobId", "status", "completedAt", "errorCode", "errorMessage")
)

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// trainingStatus maps the model.training.* types to the state they move
// their data.jobId to.
var trainingStatus = map[string]string{
	harness.ModelTrainingStarted:   statusProcessing,
	harness.ModelTrainingCompleted: statusCompleted,
	harness.ModelTrainingFailed:    statusFailed,
}

// isCatalogued reports whether typ is an event type of the catalogue.
func isCatalogued(typ string) bool {
	for _, t := range harness.EventTypes() {
		if t == typ {
			return true
		}
	}
	return false
}

// parseEvent decodes an authenticated body. It requires what the receiver
// cannot work without (a JSON object with string eventId and eventType and
// an object data) and tolerates everything else: unknown types are
// acknowledged and counted, unknown fields ignored, odd values of optional
// fields treated as absent. strictType and strictFields plant the faults
// that break this tolerance.
func parseEvent(body []byte, strictType, strictFields bool) (event, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return event{}, fmt.Errorf("%w: body is not a JSON object: %w", errMalformed, err)
	}
	var ev event
	if err := requireString(env, "eventId", &ev.ID); err != nil {
		return event{}, err
	}
	if err := requireString(env, "eventType", &ev.Type); err != nil {
		return event{}, err
	}
	rawData := bytes.TrimSpace(env["data"])
	var data map[string]json.RawMessage
	if len(rawData) == 0 || rawData[0] != '{' || json.Unmarshal(rawData, &data) != nil {
		return event{}, fmt.Errorf("%w: data is missing or not an object", errMalformed)
	}

	known := isCatalogued(ev.Type)
	if strictType && !known {
		return event{}, fmt.Errorf("%w %q", errUnknownType, ev.Type)
	}
	if strictFields {
		if err := onlyFields(env, envelopeFields, ""); err != nil {
			return event{}, err
		}
		switch {
		case strings.HasPrefix(ev.Type, "job.") && known:
			if err := onlyFields(data, jobFields, "data."); err != nil {
				return event{}, err
			}
		case strings.HasPrefix(ev.Type, "model.training.") && known:
			if err := onlyFields(data, modelFields, "data."); err != nil {
				return event{}, err
			}
		}
	}

	ev.JobID = optionalString(data, "jobId")
	switch {
	case !known:
		// Acknowledged and counted, but its meaning is unknown: no state.
	case strings.HasPrefix(ev.Type, "job."):
		ev.Status = optionalString(data, "status")
		if ev.Status == "" {
			ev.Status = strings.TrimPrefix(ev.Type, "job.")
		}
	default:
		ev.Status = trainingStatus[ev.Type]
	}
	return ev, nil
}

// requireString sets *dst to the non-empty string field name of obj.
func requireString(obj map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := obj[name]
	if !ok {
		return fmt.Errorf("%w: %s is missing", errMalformed, name)
	}
	if err := json.Unmarshal(raw, dst); err != nil || *dst == "" {
		return fmt.Errorf("%w: %s is not a non-empty string", errMalformed, name)
	}
	return nil
}

// optionalString returns the string field name of obj, or "" when it is
// absent or not a string.
func optionalString(obj map[string]json.RawMessage, name string) string {
	var s string
	if raw, ok := obj[name]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// onlyFields reports the first field of obj that allowed does not hold.
func onlyFields(obj map[string]json.RawMessage, allowed map[string]bool, prefix string) error {
	for k := range obj {
		if !allowed[k] {
			return fmt.Errorf("%w %s%s", errUnknownField, prefix, k)
		}
	}
	return nil
}

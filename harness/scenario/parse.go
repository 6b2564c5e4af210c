package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/realm-ai/hookcert/harness/schema"
)

// SchemaName is the name of the scenario schema in the catalogue of package
// schema (schemas/scenario.schema.json).
const SchemaName = "scenario"

// MaxFileSize bounds a scenario file. The largest built-in one is under
// 2 KiB; anything near the bound is not a scenario.
const MaxFileSize = 256 << 10

// MaxProblems bounds the problems reported for one file: past a screenful,
// the first ones are what helps.
const MaxProblems = 50

// Parse reads one scenario file, YAML or JSON, named name in errors and in
// the scenario's Source. It checks the file against
// schemas/scenario.schema.json and then makes the checks a schema cannot
// make (see the package documentation of Load for the set-level ones):
//   - a send.event or probe.event names an event given a name (as) by an
//     earlier send step, probe.job a job named by an earlier build (job),
//     probe.lifecycles an earlier lifecycles step (as); names are not reused;
//   - durations and sizes parse, and are positive where a zero means nothing;
//   - a build's type is in the catalogue unless unknown is true;
//   - fields that would be silently ignored or contradict each other
//     (replay with signature changes, as on a step that sends several events,
//     expect on an abandoned delivery) are refused;
//   - probe: true has a probe step to go with it.
//
// Any error is a *FileError that lists every problem found with its line,
// column and JSON pointer, except failures of the suite itself (a schema
// missing from the catalogue), which are wrapped plainly.
func Parse(name string, data []byte) (*Scenario, error) {
	s, _, err := parse(name, data)
	return s, err
}

// parse is Parse that also returns the YAML tree, for the set-level checks
// of Load to place their problems.
func parse(name string, data []byte) (*Scenario, *document, error) {
	fail := func(ps []Problem) error {
		ps = sortProblems(ps)
		if len(ps) > MaxProblems {
			more := len(ps) - MaxProblems
			ps = append(ps[:MaxProblems], Problem{Message: fmt.Sprintf("%d more problems not shown; fix these first", more)})
		}
		return &FileError{File: name, Problems: ps}
	}
	if len(data) > MaxFileSize {
		return nil, nil, fail([]Problem{{Message: fmt.Sprintf("the file has %d bytes, more than a scenario can (%d)", len(data), MaxFileSize)}})
	}
	doc, probs := parseYAML(data)
	if len(probs) > 0 {
		return nil, nil, fail(probs)
	}
	v, probs := doc.value()
	if len(probs) > 0 {
		return nil, doc, fail(probs)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, doc, fmt.Errorf("scenario %s: encode as JSON: %w", name, err)
	}
	if err := schema.Default().Validate(SchemaName, raw); err != nil {
		var ve *schema.ValidationError
		if !errors.As(err, &ve) {
			return nil, doc, fmt.Errorf("scenario %s: %w", name, err)
		}
		return nil, doc, fail(explain(doc, v, ve.Causes))
	}
	var s Scenario
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		// The schema describes the model, so this means they disagree.
		return nil, doc, fail([]Problem{{Message: fmt.Sprintf("cannot read the scenario (the schema and the Go model disagree): %v", err)}})
	}
	s.Source = name
	if ps := check(&s, doc); len(ps) > 0 {
		return nil, doc, fail(ps)
	}
	return &s, doc, nil
}

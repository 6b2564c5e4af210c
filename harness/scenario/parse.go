package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/realm-ai/hookcert/harness/schema"
)

// schemaName is the name of the scenario schema in the catalogue of package
// schema (schemas/scenario.schema.json).
const schemaName = "scenario"

// maxFileSize bounds a scenario file. The largest built-in one is under
// 2 KiB; anything near the bound is not a scenario.
const maxFileSize = 256 << 10

// maxProblems bounds the problems reported for one file: past a screenful,
// the first ones are what helps.
const maxProblems = 50

// Parse reads one scenario file, YAML or JSON, named name in errors and in
// the scenario's Source. It checks the file against
// schemas/scenario.schema.json and then makes the checks a schema cannot
// make (see LoadDir for the set-level ones):
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
// Any error is a *fileError that lists every problem found with its line,
// column and JSON pointer, except failures of the suite itself (a schema
// missing from the catalogue), which are wrapped plainly.
func Parse(name string, data []byte) (*Scenario, error) {
	s, _, err := parse(name, data)
	return s, err
}

// DecodeFile reads a YAML (or JSON) file of another kind than a scenario,
// such as a signing scheme, named name in errors, and checks it against
// the catalogue's schema schemaName. It returns the document as JSON, or a
// *fileError listing every problem with its line, column and JSON pointer,
// as Parse does for scenarios.
func DecodeFile(name string, data []byte, schemaName string) ([]byte, error) {
	raw, _, err := decodeFile(name, data, schemaName)
	return raw, err
}

// decodeFile is DecodeFile that also returns the YAML tree.
func decodeFile(name string, data []byte, schemaName string) ([]byte, *document, error) {
	if len(data) > maxFileSize {
		return nil, nil, failFile(name, []problem{{Message: fmt.Sprintf("the file has %d bytes, more than a %s can (%d)", len(data), schemaName, maxFileSize)}})
	}
	doc, probs := parseYAML(data)
	if len(probs) > 0 {
		return nil, nil, failFile(name, probs)
	}
	v, probs := doc.value()
	if len(probs) > 0 {
		return nil, doc, failFile(name, probs)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, doc, fmt.Errorf("%s %s: encode as JSON: %w", schemaName, name, err)
	}
	if err := schema.Default().Validate(schemaName, raw); err != nil {
		var ve *schema.ValidationError
		if !errors.As(err, &ve) {
			return nil, doc, fmt.Errorf("%s %s: %w", schemaName, name, err)
		}
		return nil, doc, failFile(name, explain(doc, v, ve.Causes))
	}
	return raw, doc, nil
}

// failFile is the *fileError of file name with problems ps, the first
// maxProblems of them in order.
func failFile(name string, ps []problem) error {
	ps = sortProblems(ps)
	if len(ps) > maxProblems {
		more := len(ps) - maxProblems
		ps = append(ps[:maxProblems], problem{Message: fmt.Sprintf("%d more problems not shown; fix these first", more)})
	}
	return &fileError{File: name, Problems: ps}
}

// parse is Parse that also returns the YAML tree, for the set-level checks
// of loadFS to place their problems.
func parse(name string, data []byte) (*Scenario, *document, error) {
	fail := func(ps []problem) error { return failFile(name, ps) }
	raw, doc, err := decodeFile(name, data, schemaName)
	if err != nil {
		return nil, doc, err
	}
	var s Scenario
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		// The schema describes the model, so this means they disagree.
		return nil, doc, fail([]problem{{Message: fmt.Sprintf("cannot read the scenario (the schema and the Go model disagree): %v", err)}})
	}
	s.Source = name
	if ps := check(&s, doc); len(ps) > 0 {
		return nil, doc, fail(ps)
	}
	return &s, doc, nil
}

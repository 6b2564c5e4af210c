package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness/schema"
	"github.com/realm-ai/hookcert/schemas"
)

// head is the six lines every test scenario starts with, so that steps
// begin on line 7.
const head = `id: T-01
title: a test scenario
level: MUST
category: test
requirement: the receiver does the thing
seed: "the product says so"
`

// asFileError asserts err is a *fileError for file and returns it.
func asFileError(t *testing.T, err error, file string) *fileError {
	t.Helper()
	var fe *fileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *fileError", err, err)
	}
	if fe.File != file {
		t.Errorf("fileError.File = %q, want %q", fe.File, file)
	}
	return fe
}

// fullFile uses every kind of step and most fields a user's scenario
// can hold; FuzzParse starts from it.
const fullFile = head + `fix: "Do the thing. See README.md#build-a-receiver-that-passes"
probe: true
after: [T-02]
labels: [smoke]
steps:
  - send:
      build: {type: job.completed, job: j1, results: 3, set: {data.jobType: upscale}}
      as: first
      signature: {offset: -10m, rotated: 2}
    expect: {status: not-5xx, within: true}
  - pause: {for: 1.5s}
  - send: {event: first, replay: true, attempt: 2}
  - send:
      build: {}
      each: catalogue
      body: {size: 2KiB}
  - lifecycles: {jobs: 3, shuffle: true, as: batch}
  - probe: {event: first, processed: 1}
  - probe: {job: j1, status: completed}
  - probe: {lifecycles: batch}
  - tls: {check: info}
`

func TestParseAcceptsTheModel(t *testing.T) {
	src := fullFile
	s, err := Parse("full.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s.Source != "full.yaml" || s.ID != "T-01" || !s.Probe || len(s.Steps) != 9 {
		t.Errorf("scenario header not read: %+v", s)
	}
	if s.Fix != "Do the thing. See README.md#build-a-receiver-that-passes" {
		t.Errorf("fix = %q", s.Fix)
	}
	b := s.Steps[0].Send.Build
	if b.Type != "job.completed" || b.Results != 3 || b.Set["data.jobType"] != "upscale" {
		t.Errorf("build = %+v", b)
	}
	if got := s.Steps[0].Send.Signature.Offset; got != "-10m" {
		t.Errorf("offset = %q", got)
	}
	if p := s.Steps[5].Probe; p.Processed == nil || *p.Processed != 1 {
		t.Errorf("probe.processed = %v, want 1", p.Processed)
	}
	if got := s.Steps[1].Pause.For; got != "1.5s" {
		t.Errorf("pause.for = %q (a YAML float must stay the text written)", got)
	}
}

// jsonFile is a scenario written as JSON.
const jsonFile = `{"id": "T-01", "title": "t", "level": "SHOULD", "category": "test",
 "requirement": "r", "seed": "s",
 "steps": [{"tls": {"check": "https"}}]}`

// TestParseJSON: JSON is YAML, so scenario files may be JSON, and their
// problems have lines too.
func TestParseJSON(t *testing.T) {
	good := jsonFile
	if _, err := Parse("good.json", []byte(good)); err != nil {
		t.Fatalf("Parse(valid JSON): %v", err)
	}
	bad := strings.Replace(good, `"check": "https"`, `"check": "https", "verbose": true`, 1)
	fe := asFileError(t, func() error { _, err := Parse("bad.json", []byte(bad)); return err }(), "bad.json")
	want := problem{Line: 3, Column: 39, Pointer: "/steps/0/tls/verbose", Message: `unknown property "verbose"; known here: check`}
	if !slices.Contains(fe.Problems, want) {
		t.Errorf("problems = %+v, want %+v", fe.Problems, want)
	}
}

// TestParseRejects is the catalogue of mistakes a scenario author makes;
// each must be reported with the file, the line of the mistake, the pointer
// and a message that says what to do.
func TestParseRejects(t *testing.T) {
	for _, tc := range brokenFiles {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("broken.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", s)
			}
			fe := asFileError(t, err, "broken.yaml")
			var found bool
			for _, p := range fe.Problems {
				if p.Line == tc.line && p.Pointer == tc.pointer && strings.Contains(p.Message, tc.message) {
					found = true
				}
				if p.Message == "" {
					t.Errorf("problem without a message: %+v", p)
				}
			}
			if !found {
				t.Errorf("no problem at line %d, %q, saying %q; got:\n%v", tc.line, tc.pointer, tc.message, err)
			}
			prefix := fmt.Sprintf("broken.yaml:%d:", tc.line)
			if tc.line == 0 {
				prefix = "broken.yaml: "
			}
			if !strings.Contains(err.Error(), prefix) {
				t.Errorf("error text lacks %q:\n%v", prefix, err)
			}
			if tc.only && len(fe.Problems) != 1 {
				t.Errorf("want exactly this problem, the others are noise; got:\n%v", err)
			}
		})
	}
}

// brokenFiles are shared with FuzzParse as seeds.
var brokenFiles = []struct {
	name, src string
	line      int
	pointer   string
	message   string
	// only: the mistake must be the sole problem reported, because the
	// schema alone would add confusing echoes of it.
	only bool
}{
	{
		name: "YAML parser error has the line of the construct at fault",
		src:  head + "steps:\n  - send: {build: {type: job.completed}\n  - tls: {check: info}\n",
		line: 8, message: "YAML syntax error: did not find expected ',' or '}'",
	},
	{
		name: "YAML scanner error has its line",
		src:  head + "steps:\n  - tls: {check: info}\n    bad: x: y\n",
		line: 9, message: "YAML syntax error: mapping values are not allowed",
	},
	{
		name: "YAML parser error on the last line",
		src:  head + "steps:\n  - tls: {check: info}\n - tls: {check: info}\n",
		line: 9, message: "YAML syntax error: did not find expected key",
	},
	{
		name: "a file cut short without a final newline ends on its last line, not the one after",
		src:  head + "steps:\n  - tls: {",
		line: 8, message: "YAML syntax error: did not find expected node content",
	},
	{
		name: "an empty document at the end of a file is on its last line too",
		src:  "---",
		line: 1, message: "want object",
	},
	{
		name: "a typo deep in a step points at the misspelt key and suggests the right one",
		src:  head + "steps:\n  - send:\n      build: {type: job.completed}\n      signatur: {missing: true}\n",
		line: 10, pointer: "/steps/0/send/signatur", message: `unknown property "signatur" (did you mean "signature"?)`, only: true,
	},
	{
		name: "a typo in a step's action is one problem, not also 'no action'",
		src:  head + "steps:\n  - sned: {build: {type: job.completed}}\n",
		line: 8, pointer: "/steps/0/sned", message: `(did you mean "send"?)`, only: true,
	},
	{
		name: "a missing required field is named",
		src:  strings.Replace(head, "seed: \"the product says so\"\n", "", 1) + "steps:\n  - tls: {check: info}\n",
		line: 1, pointer: "", message: "missing property 'seed'",
	},
	{
		name: "a fix may be left out, but not given empty: it would show an empty hint",
		src:  head + "fix: \"\"\nsteps:\n  - tls: {check: info}\n",
		line: 7, pointer: "/fix", message: "minLength: got 0, want 1", only: true,
	},
	{
		name: "two actions in one step",
		src:  head + "steps:\n  - tls: {check: info}\n  - send: {build: {type: job.completed}}\n    pause: {for: 1s}\n",
		line: 9, pointer: "/steps/1", message: "a step does one thing, but this one has send and pause", only: true,
	},
	{
		name: "a step with no action",
		src:  head + "steps:\n  - expect: {status: 2xx}\n",
		line: 8, pointer: "/steps/0", message: "a step needs one of send, lifecycles, pause, probe, tls",
	},
	{
		name: "expect beside a step that sends nothing",
		src:  head + "steps:\n  - pause: {for: 1s}\n    expect: {status: 2xx}\n",
		line: 9, pointer: "/steps/0/expect", message: "expect applies to the deliveries of a send or lifecycles step, not to a pause step", only: true,
	},
	{
		name: "bad enum lists the allowed values",
		src:  strings.Replace(head, "level: MUST", "level: MAYBE", 1) + "steps:\n  - tls: {check: info}\n",
		line: 3, pointer: "/level", message: "value must be one of 'MUST', 'SHOULD', 'INFO'", only: true,
	},
	{
		name: "bad duration says what a duration looks like, not a regular expression",
		src:  head + "steps:\n  - send:\n      build: {type: job.completed}\n      signature: {offset: 10 minutes}\n",
		line: 10, pointer: "/steps/0/send/signature/offset", message: `"10 minutes" is not a duration such as -10m`, only: true,
	},
	{
		name: "a duration of the right shape that does not parse",
		src:  head + "steps:\n  - pause: {for: 99999999999999h}\n",
		line: 8, pointer: "/steps/0/pause/for", message: "is not a duration", only: true,
	},
	{
		name: "bad size",
		src:  head + "steps:\n  - send:\n      build: {type: job.completed}\n      body: {size: 5MB}\n",
		line: 10, pointer: "/steps/0/send/body/size", message: `"5MB" is not a size`, only: true,
	},
	{
		name: "bad expected status",
		src:  head + "steps:\n  - send: {build: {type: job.completed}}\n    expect: {status: 2XX}\n",
		line: 9, pointer: "/steps/0/expect/status", message: "is not a status", only: true,
	},
	{
		name: "reference to an undefined event",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, as: original}\n  - probe: {event: orignal, processed: 1}\n",
		line: 9, pointer: "/steps/1/probe/event", message: `event "orignal" is not named by an earlier step (name one with as: on a send step); names so far: original`, only: true,
	},
	{
		name: "reference to an event named only later",
		src:  head + "steps:\n  - send: {event: original}\n  - send: {build: {type: job.completed}, as: original}\n",
		line: 8, pointer: "/steps/0/send/event", message: `event "original" is named only later, at line 9`, only: true,
	},
	{
		name: "reference to an undefined job",
		src:  head + "probe: true\nsteps:\n  - send: {build: {type: job.completed, job: late}}\n  - probe: {job: early, status: completed}\n",
		line: 10, pointer: "/steps/1/probe/job", message: `job "early" is not named by an earlier step`, only: true,
	},
	{
		name: "reference to an undefined lifecycles batch",
		src:  head + "probe: true\nsteps:\n  - probe: {lifecycles: batch}\n",
		line: 9, pointer: "/steps/0/probe/lifecycles", message: `lifecycles "batch" is not named by an earlier step`, only: true,
	},
	{
		name: "an event name given twice",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, as: x}\n  - send: {build: {type: job.failed}, as: x}\n",
		line: 9, pointer: "/steps/1/send/as", message: `event name "x" is already given at line 8`, only: true,
	},
	{
		name: "a redelivery of the several events of one step",
		src:  head + "steps:\n  - send: {build: {}, each: catalogue, as: all}\n  - send: {event: all}\n",
		line: 9, pointer: "/steps/1/send/event", message: `"all" names the several events of a step (each or repeat), which only a probe step can ask about`, only: true,
	},
	{
		name: "replay without the event to replay",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, replay: true}\n",
		line: 8, pointer: "/steps/0/send/replay", message: "replay: true resends an earlier delivery: name its event with event", only: true,
	},
	{
		name: "replay cannot change the signature",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, as: e}\n  - send: {event: e, replay: true, signature: {tamper: true}}\n",
		line: 9, pointer: "/steps/1/send/replay", message: "cannot also change its signature or body", only: true,
	},
	{
		name: "send with both event and build",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, as: e}\n  - send: {event: e, build: {type: job.completed}}\n",
		line: 9, pointer: "/steps/1/send", message: "send has both event", only: true,
	},
	{
		name: "build without type and without each",
		src:  head + "steps:\n  - send: {build: {job: j}}\n",
		line: 8, pointer: "/steps/0/send/build", message: "build needs type, an event type such as job.completed", only: true,
	},
	{
		name: "each with a type that it would ignore",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, each: catalogue}\n",
		line: 8, pointer: "/steps/0/send/build/type", message: "would be ignored", only: true,
	},
	{
		name: "a type outside the catalogue needs unknown: true",
		src:  head + "steps:\n  - send: {build: {type: job.archived}}\n",
		line: 8, pointer: "/steps/0/send/build/type", message: "add unknown: true", only: true,
	},
	{
		name: "probe event without processed",
		src:  head + "probe: true\nsteps:\n  - send: {build: {type: job.completed}, as: e}\n  - probe: {event: e}\n",
		line: 10, pointer: "/steps/1/probe/event", message: "event needs processed", only: true,
	},
	{
		name: "body with two replacements",
		src:  head + "steps:\n  - send:\n      build: {type: job.completed}\n      body: {raw: x, size: 1KiB}\n",
		line: 10, pointer: "/steps/0/send/body", message: "a body replacement is exactly one of raw, delete, size, but this one has raw and size", only: true,
	},
	{
		name: "expect on an abandoned delivery can never be met",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, abandon: true}\n    expect: {status: 2xx}\n",
		line: 9, pointer: "/steps/0/expect", message: "an abandoned delivery gets no answer", only: true,
	},
	{
		name: "probe: true without a probe step would skip the check for nothing",
		src:  head + "probe: true\nsteps:\n  - tls: {check: info}\n",
		line: 7, pointer: "/probe", message: "no step asks the probe", only: true,
	},
	{
		name: "a key given twice",
		src:  head + "steps:\n  - tls: {check: info}\ntitle: again\n",
		line: 9, pointer: "/title", message: `key "title" is repeated (first at line 2)`, only: true,
	},
	{
		name: "a second YAML document",
		src:  head + "steps:\n  - tls: {check: info}\n---\n" + head,
		line: 9, message: "a second one starts here",
	},
	{
		name: "an empty file",
		src:  "# nothing yet\n",
		line: 0, message: "the file is empty",
	},
	{
		name: "an alias that contains itself",
		src:  head + "steps: &s\n  - send: {build: {type: job.completed}}\n  - *s\n",
		line: 9, pointer: "/steps/1", message: "alias *s refers to a value that contains it", only: true,
	},
	{
		name: "aliases that expand beyond reason",
		src: head + "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" +
			"x1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n" +
			"x2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]\n" +
			"x3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]\n" +
			"x4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]\n" +
			"x5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]\n",
		line: 11, pointer: "/x4/7", message: "this alias takes the file beyond 100000 values", only: true,
	},
	{
		name: "an infinite number",
		src:  head + "steps:\n  - send: {build: {type: job.completed}, repeat: .inf}\n",
		line: 8, pointer: "/steps/0/send/repeat", message: "is not a finite number", only: true,
	},
}

// TestSchemaMatchesModel keeps schemas/scenario.schema.json and the Go
// model in step: every object of the model is a closed object of the schema
// with exactly its fields, its fields without omitempty are required, and
// scalars have the matching JSON type. A field added to one and not the
// other fails here.
func TestSchemaMatchesModel(t *testing.T) {
	raw, err := fs.ReadFile(schemas.FS, schemaName+".schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	defs, _ := root["$defs"].(map[string]any)
	resolve := func(node map[string]any) map[string]any {
		for i := 0; i < 8; i++ {
			ref, ok := node["$ref"].(string)
			if !ok {
				break
			}
			next, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if !ok {
				t.Fatalf("unresolvable $ref %q", ref)
			}
			node = next
		}
		return node
	}
	var walk func(path string, node map[string]any, typ reflect.Type)
	walk = func(path string, node map[string]any, typ reflect.Type) {
		node = resolve(node)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch typ.Kind() {
		case reflect.Struct:
			if node["type"] != "object" || node["additionalProperties"] != false {
				t.Errorf("%s: want a closed object (type object, additionalProperties false)", path)
			}
			props, _ := node["properties"].(map[string]any)
			var wantRequired []string
			for f := range typ.Fields() {
				name := jsonName(f)
				if name == "" {
					continue
				}
				if !strings.Contains(f.Tag.Get("json"), ",omitempty") {
					wantRequired = append(wantRequired, name)
				}
				sub, ok := props[name].(map[string]any)
				if !ok {
					t.Errorf("%s: schema lacks property %q of %s", path, name, typ.Name())
					continue
				}
				if d, _ := sub["description"].(string); d == "" && resolve(sub)["description"] == nil {
					t.Errorf("%s/%s: no description", path, name)
				}
				walk(path+"/"+name, sub, f.Type)
			}
			for name := range props {
				if _, ok := fieldByName(typ, name); !ok {
					t.Errorf("%s: schema property %q is not a field of %s", path, name, typ.Name())
				}
			}
			required := schemaRequired(node)
			slices.Sort(wantRequired)
			if !slices.Equal(required, wantRequired) {
				t.Errorf("%s: required = %v, want the fields without omitempty %v", path, required, wantRequired)
			}
		case reflect.Slice:
			if node["type"] != "array" {
				t.Errorf("%s: type = %v, want array", path, node["type"])
			}
			items, _ := node["items"].(map[string]any)
			walk(path+"/items", items, typ.Elem())
		case reflect.Map:
			if node["type"] != "object" {
				t.Errorf("%s: type = %v, want object", path, node["type"])
			}
		case reflect.String:
			if node["type"] != "string" {
				t.Errorf("%s: type = %v, want string", path, node["type"])
			}
		case reflect.Int:
			if node["type"] != "integer" || node["minimum"] == nil || node["maximum"] == nil {
				t.Errorf("%s: want an integer with a minimum and a maximum (so it fits an int)", path)
			}
		case reflect.Bool:
			if node["type"] != "boolean" {
				t.Errorf("%s: type = %v, want boolean", path, node["type"])
			}
		default:
			t.Errorf("%s: the test does not know Go kind %s", path, typ.Kind())
		}
	}
	walk("", root, reflect.TypeFor[Scenario]())
	if root["$id"] != "https://schemas.realm.ai/webhooks/v1/scenario.schema.json" || root["description"] == nil {
		t.Errorf("schema header: $id %v, description set %v", root["$id"], root["description"] != nil)
	}
}

// schemaRequired returns the names an object of the schema requires,
// sorted, to compare with the fields of the model.
func schemaRequired(node map[string]any) []string {
	var required []string
	list, _ := node["required"].([]any)
	for _, r := range list {
		required = append(required, fmt.Sprint(r))
	}
	slices.Sort(required)
	return required
}

// TestEveryBuiltinValidates checks the built-in files against the schema
// directly, as `hookcert validate` or an editor would, without the loader.
func TestEveryBuiltinValidates(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range set {
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Default().Validate(schemaName, raw); err != nil {
			t.Errorf("%s re-encoded does not validate: %v", s.Source, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
		why  string
	}{
		{"512B", 512, true, "plain bytes"},
		{"100KiB", 100 << 10, true, "binary kilo"},
		{"5MiB", 5 << 20, true, "ROB-05's size"},
		{"0B", 0, true, "zero parses; the loader refuses it as a body size"},
		{"5MB", 0, false, "decimal units are not binary units: refuse rather than guess"},
		{"5", 0, false, "a unit is required"},
		{"MiB", 0, false, "a number is required"},
		{"-1KiB", 0, false, "sizes are not negative"},
		{"1.5MiB", 0, false, "whole numbers only"},
		{"99999999999999999MiB", 0, false, "overflow is an error, not a wrapped size"},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v (%s)", tc.in, got, err, tc.want, tc.ok, tc.why)
		}
	}
}

func TestAllLabels(t *testing.T) {
	for _, tc := range []struct {
		s    Scenario
		want []string
		why  string
	}{
		{Scenario{Category: "signature", Level: "MUST"}, []string{"signature", "must"}, "category and lowercase level"},
		{Scenario{Category: "retry", Level: "SHOULD", Probe: true}, []string{"retry", "should", "probe"}, "probe marks checks that need a probe URL"},
		{Scenario{Category: "tls", Level: "INFO", Labels: []string{"smoke", "tls"}}, []string{"tls", "info", "smoke"}, "own labels follow, without repeats"},
	} {
		if got := tc.s.AllLabels(); !slices.Equal(got, tc.want) {
			t.Errorf("AllLabels() = %v, want %v (%s)", got, tc.want, tc.why)
		}
	}
}

func TestFileErrorText(t *testing.T) {
	e := &fileError{File: "a.yaml", Problems: []problem{
		{Line: 3, Column: 5, Pointer: "/steps/0", Message: "first"},
		{Line: 4, Message: "only a line"},
		{Message: "no position"},
	}}
	want := "a.yaml:3:5: /steps/0: first\na.yaml:4: only a line\na.yaml: no position"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}

// mergeFile reuses a step with an anchor and a merge key.
const mergeFile = head + `steps:
  - send: &base
      build: {type: job.completed}
      signature: {wrongSecret: true}
    expect: {status: 4xx}
  - send:
      <<: *base
      build: {type: job.failed}
`

// TestParseMergeKeys: authors reuse a step with an anchor and a merge key;
// the merged fields count, the step's own fields win, and a mistake in the
// anchored mapping is reported where it is written.
func TestParseMergeKeys(t *testing.T) {
	src := mergeFile
	s, err := Parse("merge.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	send := s.Steps[1].Send
	if send.Build.Type != "job.failed" || send.Signature == nil || !send.Signature.WrongSecret {
		t.Errorf("merged send = %+v, want build from the step and signature from the anchor", send)
	}

	broken := strings.Replace(src, "signature: {wrongSecret: true}", "signature: {wrongsecret: true}", 1)
	_, err = Parse("merge.yaml", []byte(broken))
	fe := asFileError(t, err, "merge.yaml")
	want := problem{Line: 10, Column: 19, Pointer: "/steps/0/send/signature/wrongsecret", Message: `unknown property "wrongsecret" (did you mean "wrongSecret"?)`}
	if !slices.Contains(fe.Problems, want) {
		t.Errorf("problems:\n%v\nwant %v", err, want)
	}
}

// TestParseLimits: a file far from a scenario gets a screenful of problems
// and a count of the rest, and a huge file is refused before parsing.
func TestParseLimits(t *testing.T) {
	src := head + "steps:\n" + strings.Repeat("  - tlx: {check: info}\n", maxProblems+10)
	_, err := Parse("many.yaml", []byte(src))
	fe := asFileError(t, err, "many.yaml")
	if len(fe.Problems) != maxProblems+1 || fe.Problems[maxProblems].Message != "10 more problems not shown; fix these first" {
		t.Errorf("got %d problems, last %+v; want %d and a count of the rest", len(fe.Problems), fe.Problems[len(fe.Problems)-1], maxProblems+1)
	}

	_, err = Parse("huge.yaml", make([]byte, maxFileSize+1))
	if fe := asFileError(t, err, "huge.yaml"); !strings.Contains(fe.Problems[0].Message, "more than a scenario can") {
		t.Errorf("huge file: %v", err)
	}
}

func TestSlowChecksRunWhenNamed(t *testing.T) {
	slow := &Scenario{ID: "IDEM-07", Labels: []string{SlowLabel}}
	for filter, want := range map[string]bool{
		"":                     false,
		"idempotency":          false,
		"slow":                 true,
		" slow ":               true,
		"idempotency || slow":  true,
		"(slow && must)":       true,
		"IDEM-07":              true,
		"IDEM-06 || IDEM-07":   true,
		"IDEM-070":             false,
		"!slow":                false,
		"!IDEM-07":             false,
		"idempotency && !slow": false,
		"slowly":               false,
		"not-slow":             false,
	} {
		if got := slow.Runs(filter); got != want {
			t.Errorf("IDEM-07 runs under %q: %v, want %v", filter, got, want)
		}
	}
	if !(&Scenario{ID: "IDEM-06"}).Runs("") {
		t.Error("a check that is not slow does not run by default")
	}
}

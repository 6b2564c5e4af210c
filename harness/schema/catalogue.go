// Package schema compiles the embedded REALM webhook catalogue (package
// schemas) with the santhosh-tekuri/jsonschema validator and checks JSON
// documents against it. It is the only package that imports jsonschema, so
// the rest of the harness sees a small API: a Catalogue that validates bytes
// or decoded values by schema name and answers with a *ValidationError that
// names each failing location.
//
// Schemas are loaded from the embedded files only, never from the network or
// the disk, and format assertions are on: a createdAt that is not an RFC 3339
// date-time or a result url that is not an absolute URI is an error, as a
// receiver would expect.
package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/schemas"
)

// File name suffixes of the catalogue convention (see package schemas).
const (
	schemaSuffix  = ".schema.json"
	exampleSuffix = ".example.json"
)

// Envelope is the name of the schema every event must satisfy, whatever its
// type.
const Envelope = "envelope"

// Sentinel errors; test them with errors.Is.
var (
	// errUnknownSchema means no schema of that name is in the catalogue.
	errUnknownSchema = errors.New("unknown schema")
	// errNoExample means the schema exists but has no example file.
	errNoExample = errors.New("schema has no example")
	// errInvalidJSON means the document is not a single well-formed JSON
	// value, so it could not be checked against any schema.
	errInvalidJSON = errors.New("invalid JSON")
)

// Catalogue is the compiled set of schemas. It is immutable once built and
// safe for concurrent use.
type Catalogue struct {
	schemas  map[string]*jsonschema.Schema
	examples map[string][]byte
	names    []string
}

// Catalogue implements harness.Validator.
var _ harness.Validator = (*Catalogue)(nil)

// newEmbedded compiles every *.schema.json of the embedded catalogue.
func newEmbedded() (*Catalogue, error) {
	return newFromFS(schemas.FS)
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalogue
)

// Default returns the catalogue compiled from the embedded schemas, compiling
// it on first use. The schemas are part of the binary and their tests compile
// them, so a failure here is a programmer error and panics.
func Default() *Catalogue {
	defaultOnce.Do(func() {
		c, err := newEmbedded()
		if err != nil {
			panic(fmt.Sprintf("schema: embedded catalogue is broken: %v", err))
		}
		defaultCat = c
	})
	return defaultCat
}

// embeddedOnly is the URL loader of the compiler: every schema is added as a
// resource up front, so any other URL (a typo in a $ref, a remote schema)
// must fail rather than reach the disk or the network.
type embeddedOnly struct{}

// Load implements jsonschema.URLLoader by refusing every URL.
func (embeddedOnly) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema: %s is not in the embedded catalogue (remote and file schemas are never loaded)", url)
}

// newFromFS compiles the catalogue found in fsys; tests use it to compile
// broken catalogues.
func newFromFS(fsys fs.FS) (*Catalogue, error) {
	files, err := fs.Glob(fsys, "*"+schemaSuffix)
	if err != nil {
		return nil, fmt.Errorf("schema: list schemas: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("schema: no *" + schemaSuffix + " files in the catalogue")
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.AssertFormat()
	comp.UseLoader(embeddedOnly{})

	urls := make(map[string]string, len(files))
	for _, file := range files {
		name := strings.TrimSuffix(file, schemaSuffix)
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("schema: read %s: %w", file, err)
		}
		doc, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("schema: %s: %w", file, err)
		}
		// Resources are added under their $id so that relative $refs
		// ("envelope.schema.json#/$defs/jobId") resolve within the catalogue.
		url := "embedded:///" + file
		if obj, ok := doc.(map[string]any); ok {
			if id, ok := obj["$id"].(string); ok && id != "" {
				url = id
			}
		}
		if err := comp.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("schema: add %s: %w", file, err)
		}
		urls[name] = url
	}

	c := &Catalogue{
		schemas:  make(map[string]*jsonschema.Schema, len(urls)),
		examples: make(map[string][]byte),
	}
	for name, url := range urls {
		sch, err := comp.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("schema: compile %s%s: %w", name, schemaSuffix, err)
		}
		c.schemas[name] = sch
		c.names = append(c.names, name)
	}
	slices.Sort(c.names)

	examples, err := fs.Glob(fsys, "*"+exampleSuffix)
	if err != nil {
		return nil, fmt.Errorf("schema: list examples: %w", err)
	}
	for _, file := range examples {
		raw, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("schema: read %s: %w", file, err)
		}
		c.examples[strings.TrimSuffix(file, exampleSuffix)] = raw
	}
	return c, nil
}

// Has reports whether the catalogue holds a schema of that name.
func (c *Catalogue) Has(name string) bool {
	_, ok := c.schemas[name]
	return ok
}

// IsEventType reports whether eventType has its own schema in the catalogue
// (job.completed does; an unknown future type such as job.archived does not).
func (c *Catalogue) IsEventType(eventType string) bool {
	return strings.Contains(eventType, ".") && c.Has(eventType)
}

// example returns a copy of the example document of the named schema. The
// error wraps errUnknownSchema or errNoExample.
func (c *Catalogue) example(name string) ([]byte, error) {
	if !c.Has(name) {
		return nil, c.unknown(name)
	}
	ex, ok := c.examples[name]
	if !ok {
		return nil, fmt.Errorf("schema: example of %s: %w", name, errNoExample)
	}
	return bytes.Clone(ex), nil
}

// Validate checks doc against the named schema. It implements
// harness.Validator. The error wraps errUnknownSchema or errInvalidJSON, or
// is a *ValidationError listing every failing location.
func (c *Catalogue) Validate(name string, doc []byte) error {
	sch, ok := c.schemas[name]
	if !ok {
		return c.unknown(name)
	}
	v, err := decode(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return check(name, sch, v)
}

// validateValue checks an already decoded document against the named schema.
// v must be in the JSON data model: map[string]any, []any, string, bool, nil,
// and numbers as json.Number (what a decoder with UseNumber gives) or any Go
// integer or float type, so a YAML document decoded into any qualifies.
func (c *Catalogue) validateValue(name string, v any) error {
	sch, ok := c.schemas[name]
	if !ok {
		return c.unknown(name)
	}
	return check(name, sch, v)
}

// ValidateEvent checks a webhook body: first against the envelope, then, when
// its eventType has a schema of its own, against that schema. An event of an
// unknown type only has to satisfy the envelope, so that forward-compatible
// payloads (a future job.archived) pass.
func (c *Catalogue) ValidateEvent(doc []byte) error {
	env, ok := c.schemas[Envelope]
	if !ok {
		return c.unknown(Envelope)
	}
	v, err := decode(doc)
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	if err := check(Envelope, env, v); err != nil {
		return err
	}
	// The envelope guarantees an object with a string eventType.
	t, _ := v.(map[string]any)["eventType"].(string)
	if !c.IsEventType(t) {
		return nil
	}
	return check(t, c.schemas[t], v)
}

func (c *Catalogue) unknown(name string) error {
	return fmt.Errorf("schema %q: %w (known: %s)", name, errUnknownSchema, strings.Join(c.names, ", "))
}

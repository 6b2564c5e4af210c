package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/schemas"
)

// owned lists the schemas of the event catalogue and of the probe's answers
// (README "The probe contract"). They must exist and have an example;
// schemas added later by the same convention (scenario, report) may go
// without one.
func owned() []string {
	return append([]string{Envelope, "probe-event", "probe-job"}, harness.EventTypes()...)
}

func catalogue(t testing.TB) *Catalogue {
	t.Helper()
	c, err := newEmbedded()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func example(t testing.TB, c *Catalogue, name string) []byte {
	t.Helper()
	ex, err := c.example(name)
	if err != nil {
		t.Fatalf("Example(%q): %v", name, err)
	}
	return ex
}

func TestCatalogueHoldsEveryOwnedSchema(t *testing.T) {
	c := catalogue(t)
	for _, name := range owned() {
		if !c.Has(name) {
			t.Errorf("catalogue lacks %q; names: %v", name, c.names)
		}
	}
	for _, typ := range harness.EventTypes() {
		if !c.IsEventType(typ) {
			t.Errorf("IsEventType(%q) = false, want true", typ)
		}
	}
	// Schemas that are not event types must never be picked by an
	// eventType, even a malicious one.
	for _, name := range []string{Envelope, "probe-event", "probe-job", "job.archived"} {
		if c.IsEventType(name) {
			t.Errorf("IsEventType(%q) = true, want false", name)
		}
	}
	if !slices.IsSorted(c.names) {
		t.Errorf("names not sorted: %v", c.names)
	}
}

func TestEveryExampleValidates(t *testing.T) {
	c := catalogue(t)
	for _, name := range c.names {
		t.Run(name, func(t *testing.T) {
			ex, err := c.example(name)
			if errors.Is(err, errNoExample) && !slices.Contains(owned(), name) {
				t.Skipf("%s has no example (allowed for schemas outside the event catalogue)", name)
			}
			if err != nil {
				t.Fatalf("Example: %v", err)
			}
			if err := c.Validate(name, ex); err != nil {
				t.Errorf("example does not validate against its schema: %v", err)
			}
			if c.IsEventType(name) || name == Envelope {
				if err := c.ValidateEvent(ex); err != nil {
					t.Errorf("ValidateEvent(example): %v", err)
				}
			}
		})
	}
}

func TestEveryExampleHasASchema(t *testing.T) {
	c := catalogue(t)
	files, err := fs.Glob(schemas.FS, "*"+exampleSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(owned()) {
		t.Fatalf("found %d examples, want at least %d", len(files), len(owned()))
	}
	for _, f := range files {
		if name := strings.TrimSuffix(f, exampleSuffix); !c.Has(name) {
			t.Errorf("%s has no %s%s beside it", f, name, schemaSuffix)
		}
	}
}

// TestSchemaHeaders keeps the convention of package schemas: the $id is what
// relative $refs resolve against, and title/description are what a reader
// of the catalogue sees first.
func TestSchemaHeaders(t *testing.T) {
	for _, name := range owned() {
		raw, err := fs.ReadFile(schemas.FS, name+schemaSuffix)
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Schema      string `json:"$schema"`
			ID          string `json:"$id"`
			Title       string `json:"title"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := "https://json-schema.org/draft/2020-12/schema"; head.Schema != want {
			t.Errorf("%s: $schema = %q, want %q", name, head.Schema, want)
		}
		if want := "https://schemas.realm.ai/webhooks/v1/" + name + schemaSuffix; head.ID != want {
			t.Errorf("%s: $id = %q, want %q", name, head.ID, want)
		}
		if head.Title == "" || head.Description == "" {
			t.Errorf("%s: title and description must be set", name)
		}
	}
}

// TestTestVector pins the body of the REALM v1 signing test vector: it is
// the job.completed example, byte for byte, so the signing test vector is
// also a valid event.
func TestTestVector(t *testing.T) {
	c := catalogue(t)
	const vector = `{"eventId":"evt_webhook_12345","eventType":"job.completed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_img_gen_123","jobType":"image_generation","status":"completed","results":[{"imageId":"img_abc","url":"https://cdn.realm.ai/images/img_abc.png","seed":123456789}],"completedAt":"2024-03-10T15:06:10Z"}}`
	if got := string(example(t, c, harness.JobCompleted)); got != vector {
		t.Errorf("job.completed example differs from the signing test vector's body:\n got %s\nwant %s", got, vector)
	}
	if err := c.ValidateEvent([]byte(vector)); err != nil {
		t.Errorf("test vector: %v", err)
	}
}

// edit decodes doc, lets change alter it and encodes it again.
func edit(t testing.TB, doc []byte, change func(m map[string]any)) []byte {
	t.Helper()
	v, err := decode(doc)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func data(m map[string]any) map[string]any { return m["data"].(map[string]any) }

func result0(m map[string]any) map[string]any {
	return data(m)["results"].([]any)[0].(map[string]any)
}

func TestValidateEventRejects(t *testing.T) {
	c := catalogue(t)
	completed := example(t, c, harness.JobCompleted)
	failed := example(t, c, harness.JobFailed)
	modelFailed := example(t, c, harness.ModelTrainingFailed)
	tests := []struct {
		why    string
		doc    []byte
		schema string // schema the error must name
		loc    string // a location the error must name
		msg    string // text the cause at loc must contain
	}{
		{"a seed that is a string is the wrong type",
			edit(t, completed, func(m map[string]any) { result0(m)["seed"] = "123" }),
			harness.JobCompleted, "/data/results/0/seed", "want integer"},
		{"a fractional seed is not an integer",
			edit(t, completed, func(m map[string]any) { result0(m)["seed"] = json.Number("1.5") }),
			harness.JobCompleted, "/data/results/0/seed", "want integer"},
		{"data must be an object",
			edit(t, completed, func(m map[string]any) { m["data"] = []any{} }),
			Envelope, "/data", "want object"},
		{"completedAt is required on job.completed",
			edit(t, completed, func(m map[string]any) { delete(data(m), "completedAt") }),
			harness.JobCompleted, "/data", "completedAt"},
		{"results are required on job.completed",
			edit(t, completed, func(m map[string]any) { delete(data(m), "results") }),
			harness.JobCompleted, "/data", "results"},
		{"a completed job has at least one result",
			edit(t, completed, func(m map[string]any) { data(m)["results"] = []any{} }),
			harness.JobCompleted, "/data/results", "minItems"},
		{"a result names an image or a video",
			edit(t, completed, func(m map[string]any) { delete(result0(m), "imageId") }),
			harness.JobCompleted, "/data/results/0", "'imageId' | missing property 'videoId'"},
		{"eventId is required by the envelope",
			edit(t, completed, func(m map[string]any) { delete(m, "eventId") }),
			Envelope, "", "eventId"},
		{"eventId must start with evt_",
			edit(t, completed, func(m map[string]any) { m["eventId"] = "event_123" }),
			Envelope, "/eventId", "does not match pattern"},
		{"jobId must start with job_",
			edit(t, completed, func(m map[string]any) { data(m)["jobId"] = "img_gen_123" }),
			harness.JobCompleted, "/data/jobId", "does not match pattern"},
		{"modelId must start with model_",
			edit(t, modelFailed, func(m map[string]any) { data(m)["modelId"] = "mdl_1" }),
			harness.ModelTrainingFailed, "/data/modelId", "does not match pattern"},
		{"createdAt must be RFC 3339 (format assertions are on)",
			edit(t, completed, func(m map[string]any) { m["createdAt"] = "2024-03-10 15:06:15" }),
			Envelope, "/createdAt", "date-time"},
		{"completedAt must be RFC 3339",
			edit(t, completed, func(m map[string]any) { data(m)["completedAt"] = "yesterday" }),
			harness.JobCompleted, "/data/completedAt", "date-time"},
		{"a result url must be an absolute URI",
			edit(t, completed, func(m map[string]any) { result0(m)["url"] = "images/img_abc.png" }),
			harness.JobCompleted, "/data/results/0/url", "uri"},
		{"status must follow the type",
			edit(t, completed, func(m map[string]any) { data(m)["status"] = "processing" }),
			harness.JobCompleted, "/data/status", "value must be 'completed'"},
		{"a model event carries a model status, not a job one",
			edit(t, modelFailed, func(m map[string]any) { data(m)["status"] = "canceled" }),
			harness.ModelTrainingFailed, "/data/status", "'failed'"},
		{"data.object follows the family of the type",
			edit(t, completed, func(m map[string]any) { data(m)["object"] = "model" }),
			harness.JobCompleted, "/data/object", "'job'"},
		{"jobType is one of three",
			edit(t, completed, func(m map[string]any) { data(m)["jobType"] = "audio_generation" }),
			harness.JobCompleted, "/data/jobType", "upscale"},
		{"apiVersion is v1",
			edit(t, completed, func(m map[string]any) { m["apiVersion"] = "v2" }),
			Envelope, "/apiVersion", "'v1'"},
		{"eventType is dotted lowercase words",
			edit(t, completed, func(m map[string]any) { m["eventType"] = "Job Completed" }),
			Envelope, "/eventType", "does not match pattern"},
		{"errorCode and errorMessage are required on job.failed",
			edit(t, failed, func(m map[string]any) { delete(data(m), "errorCode"); delete(data(m), "errorMessage") }),
			harness.JobFailed, "/data", "'errorCode', 'errorMessage'"},
		{"errorCode is required on model.training.failed",
			edit(t, modelFailed, func(m map[string]any) { delete(data(m), "errorCode") }),
			harness.ModelTrainingFailed, "/data", "errorCode"},
		{"a body of one type relabelled as another fails the other's schema",
			edit(t, completed, func(m map[string]any) { m["eventType"] = harness.JobFailed }),
			harness.JobFailed, "/data/status", "'failed'"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			err := c.ValidateEvent(tt.doc)
			requireCause(t, err, tt.schema, tt.loc, tt.msg)
		})
	}
}

// requireCause fails unless err is a *ValidationError of schema with a cause
// at loc whose message contains msg, and unless its Error() names both.
func requireCause(t *testing.T, err error, schema, loc, msg string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want a *ValidationError", err, err)
	}
	if ve.Schema != schema {
		t.Errorf("Schema = %q, want %q (error: %v)", ve.Schema, schema, err)
	}
	found := false
	for _, c := range ve.Causes {
		if c.Location == loc && strings.Contains(c.Message, msg) {
			found = true
		}
	}
	if !found {
		t.Errorf("no cause at %q containing %q; causes: %+v", loc, msg, ve.Causes)
	}
	want := (Cause{Location: loc, Message: ""}).String()
	if s := err.Error(); !strings.HasPrefix(s, schema+": ") || !strings.Contains(s, want) || !strings.Contains(s, msg) {
		t.Errorf("Error() = %q, want it to name %q, %q and %q", s, schema, want, msg)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	c := catalogue(t)
	doc := edit(t, example(t, c, harness.JobCompleted), func(m map[string]any) { data(m)["status"] = "processing" })
	err := c.Validate(harness.JobCompleted, doc)
	if want := `job.completed: /data/status: value must be 'completed'`; err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %s", err, want)
	}

	// Several causes come sorted by location, so messages are stable.
	doc = edit(t, example(t, c, harness.JobCompleted), func(m map[string]any) {
		data(m)["status"] = "processing"
		data(m)["jobId"] = "x"
	})
	err = c.Validate(harness.JobCompleted, doc)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Causes) != 2 || ve.Causes[0].Location != "/data/jobId" || ve.Causes[1].Location != "/data/status" {
		t.Fatalf("error = %#v, want causes at /data/jobId then /data/status", err)
	}
	if !strings.Contains(err.Error(), "; /data/status: ") {
		t.Errorf("Error() = %q, want causes separated by \"; \"", err)
	}
}

func TestValidateEventUnknownTypeNeedsEnvelopeOnly(t *testing.T) {
	c := catalogue(t)
	future := []byte(`{"eventId":"evt_1","eventType":"job.archived","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"anything":["goes"]}}`)
	if err := c.ValidateEvent(future); err != nil {
		t.Errorf("unknown type with a valid envelope: %v", err)
	}
	broken := edit(t, future, func(m map[string]any) { m["createdAt"] = "soon" })
	requireCause(t, c.ValidateEvent(broken), Envelope, "/createdAt", "date-time")
}

func TestExtraFieldsAllowed(t *testing.T) {
	c := catalogue(t)
	for _, typ := range harness.EventTypes() {
		doc := edit(t, example(t, c, typ), func(m map[string]any) {
			m["futureEnvelopeField"] = map[string]any{"x": true}
			data(m)["futureDataField"] = []any{"y"}
		})
		if err := c.ValidateEvent(doc); err != nil {
			t.Errorf("%s with extra fields: %v", typ, err)
		}
	}
}

func TestValidateInvalidJSON(t *testing.T) {
	c := catalogue(t)
	tests := []struct {
		why  string
		doc  string
		want string
	}{
		{"an empty body is not a document", "", "empty document"},
		{"whitespace only is not a document", " \n", "empty document"},
		{"a truncated object ends early", `{"eventId":"evt_1",`, "at byte 19"},
		{"garbage is reported where it starts", `{"eventId":x}`, "at byte 12"},
		{"two documents are not one", `{"a":1} {"b":2}`, "data after the top-level value"},
		{"trailing garbage after a value", `{"a":1}x`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			for _, err := range []error{c.ValidateEvent([]byte(tt.doc)), c.Validate("probe-job", []byte(tt.doc))} {
				if !errors.Is(err, errInvalidJSON) {
					t.Fatalf("error = %v, want ErrInvalidJSON", err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error = %q, want it to contain %q", err, tt.want)
				}
			}
		})
	}
}

func TestUnknownSchema(t *testing.T) {
	c := catalogue(t)
	for what, err := range map[string]error{
		"Validate":      c.Validate("job.exploded", []byte(`{}`)),
		"ValidateValue": c.validateValue("job.exploded", map[string]any{}),
	} {
		if !errors.Is(err, errUnknownSchema) || !strings.Contains(err.Error(), `"job.exploded"`) {
			t.Errorf("%s: error = %v, want ErrUnknownSchema naming the schema", what, err)
		}
	}
	if _, err := c.example("job.exploded"); !errors.Is(err, errUnknownSchema) {
		t.Errorf("Example: error = %v, want ErrUnknownSchema", err)
	}
}

func TestProbeSchemas(t *testing.T) {
	c := catalogue(t)
	tests := []struct {
		why    string
		schema string
		doc    string
		loc    string // "" with msg "" means valid
		msg    string
	}{
		{"processed once", "probe-event", `{"eventId":"evt_1","timesProcessed":1}`, "", ""},
		{"never processed is 0, not absent", "probe-event", `{"eventId":"evt_1","timesProcessed":0}`, "", ""},
		{"a negative count is nonsense", "probe-event", `{"eventId":"evt_1","timesProcessed":-1}`, "/timesProcessed", "minimum"},
		{"a count is an integer", "probe-event", `{"eventId":"evt_1","timesProcessed":1.5}`, "/timesProcessed", "want integer"},
		{"a count is not a string", "probe-event", `{"eventId":"evt_1","timesProcessed":"1"}`, "/timesProcessed", "want integer"},
		{"the count is required", "probe-event", `{"eventId":"evt_1"}`, "", "timesProcessed"},
		{"the event id keeps its prefix", "probe-event", `{"eventId":"1","timesProcessed":1}`, "/eventId", "pattern"},
		{"a job state", "probe-job", `{"jobId":"job_1","status":"canceled"}`, "", ""},
		{"only lifecycle states", "probe-job", `{"jobId":"job_1","status":"done"}`, "/status", "completed"},
		{"the status is required", "probe-job", `{"jobId":"job_1"}`, "", "status"},
		{"the job id keeps its prefix", "probe-job", `{"jobId":"evt_1","status":"queued"}`, "/jobId", "pattern"},
		{"extra fields are the receiver's business", "probe-job", `{"jobId":"job_1","status":"queued","updatedAt":"x"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			err := c.Validate(tt.schema, []byte(tt.doc))
			if tt.loc == "" && tt.msg == "" {
				if err != nil {
					t.Fatalf("valid probe answer rejected: %v", err)
				}
				return
			}
			requireCause(t, err, tt.schema, tt.loc, tt.msg)
		})
	}
}

// TestValidateValue covers documents decoded elsewhere, such as YAML: Go
// integers must count as JSON integers.
func TestValidateValue(t *testing.T) {
	c := catalogue(t)
	if err := c.validateValue("probe-event", map[string]any{"eventId": "evt_1", "timesProcessed": 3}); err != nil {
		t.Errorf("Go int: %v", err)
	}
	if err := c.validateValue("probe-event", map[string]any{"eventId": "evt_1", "timesProcessed": json.Number("3")}); err != nil {
		t.Errorf("json.Number: %v", err)
	}
	err := c.validateValue("probe-event", map[string]any{"eventId": "evt_1", "timesProcessed": 2.5})
	requireCause(t, err, "probe-event", "/timesProcessed", "want integer")
}

func TestDefaultIsSharedAndConcurrencySafe(t *testing.T) {
	if Default() != Default() {
		t.Fatal("Default() compiled twice")
	}
	c := Default()
	good := example(t, c, harness.JobCompleted)
	bad := edit(t, good, func(m map[string]any) { data(m)["status"] = "failed" })
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			if err := c.ValidateEvent(good); err != nil {
				errs <- fmt.Errorf("goroutine %d, good: %w", i, err)
			}
			if err := c.ValidateEvent(bad); err == nil {
				errs <- fmt.Errorf("goroutine %d: bad event accepted", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCompileFromFS checks that the catalogue is compiled from the given
// files alone: a $ref out of the catalogue fails instead of fetching.
func TestCompileFromFS(t *testing.T) {
	const head = `"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"https://schemas.realm.ai/webhooks/v1/`
	tests := []struct {
		why  string
		fsys fstest.MapFS
		want string // "" means it compiles
	}{
		{"a catalogue with a relative $ref compiles", fstest.MapFS{
			"a.schema.json": {Data: []byte(`{` + head + `a.schema.json","$ref":"b.schema.json"}`)},
			"b.schema.json": {Data: []byte(`{` + head + `b.schema.json","type":"object"}`)},
		}, ""},
		{"a remote $ref is never fetched", fstest.MapFS{
			"a.schema.json": {Data: []byte(`{` + head + `a.schema.json","$ref":"https://example.com/x.json"}`)},
		}, "not in the embedded catalogue"},
		{"a $ref to a missing file fails", fstest.MapFS{
			"a.schema.json": {Data: []byte(`{` + head + `a.schema.json","$ref":"missing.schema.json"}`)},
		}, "not in the embedded catalogue"},
		{"a schema that breaks the metaschema fails", fstest.MapFS{
			"a.schema.json": {Data: []byte(`{` + head + `a.schema.json","type":"objekt"}`)},
		}, "compile a.schema.json"},
		{"a schema that is not JSON fails", fstest.MapFS{
			"a.schema.json": {Data: []byte(`{`)},
		}, "a.schema.json: invalid JSON"},
		{"an empty catalogue is an error", fstest.MapFS{}, "no *.schema.json"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			_, err := newFromFS(tt.fsys)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("newFromFS: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func BenchmarkValidateEvent(b *testing.B) {
	c := catalogue(b)
	doc := example(b, c, harness.JobCompleted)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.ValidateEvent(doc); err != nil {
			b.Fatal(err)
		}
	}
}

package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/schema"
)

var fixedNow = time.Date(2024, 3, 10, 15, 6, 15, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

// seeded returns a deterministic, not concurrency-safe source of randomness.
func seeded(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// decodeBody decodes an event body generically for assertions.
func decodeBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

func dataOf(m map[string]any) map[string]any { return m["data"].(map[string]any) }

func mustNew(t *testing.T, f *Factory, typ string, opts ...EventOption) harness.Event {
	t.Helper()
	ev, err := f.New(typ, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", typ, err)
	}
	return ev
}

func TestNewBuildsEveryTypeValid(t *testing.T) {
	cat := schema.Default()
	f := NewFactory(WithClock(fixedClock))
	status := map[string]string{
		harness.JobQueued: "queued", harness.JobProcessing: "processing", harness.JobCompleted: "completed",
		harness.JobFailed: "failed", harness.JobCanceled: "canceled",
		harness.ModelTrainingStarted: "processing", harness.ModelTrainingCompleted: "completed",
		harness.ModelTrainingFailed: "failed",
	}
	if len(status) != len(harness.EventTypes()) {
		t.Fatalf("test covers %d types, catalogue has %d", len(status), len(harness.EventTypes()))
	}
	for _, typ := range harness.EventTypes() {
		t.Run(typ, func(t *testing.T) {
			ev := mustNew(t, f, typ)
			if err := cat.ValidateEvent(ev.Body); err != nil {
				t.Errorf("ValidateEvent: %v", err)
			}
			if err := cat.Validate(typ, ev.Body); err != nil {
				t.Errorf("Validate(%q): %v", typ, err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, ev.Body); err != nil || !bytes.Equal(compact.Bytes(), ev.Body) {
				t.Errorf("body is not compact JSON: %s", ev.Body)
			}
			m := decodeBody(t, ev.Body)
			d := dataOf(m)
			model := strings.HasPrefix(typ, "model.")
			checks := []struct{ what, got, want string }{
				{"Event.ID", ev.ID, m["eventId"].(string)},
				{"Event.Type", ev.Type, typ},
				{"eventType", m["eventType"].(string), typ},
				{"Event.JobID", ev.JobID, d["jobId"].(string)},
				{"Event.Status", ev.Status, status[typ]},
				{"createdAt", m["createdAt"].(string), "2024-03-10T15:06:15Z"},
			}
			if model {
				checks = append(checks, struct{ what, got, want string }{"Event.ModelID", ev.ModelID, d["modelId"].(string)})
			} else if ev.ModelID != "" {
				t.Errorf("job event has ModelID %q", ev.ModelID)
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			for prefix, id := range map[string]string{"evt_": ev.ID, "job_": ev.JobID} {
				if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+IDLength {
					t.Errorf("id %q: want %s followed by %d characters", id, prefix, IDLength)
				}
			}
			if model && !strings.HasPrefix(ev.ModelID, "model_") {
				t.Errorf("ModelID = %q, want model_...", ev.ModelID)
			}
		})
	}
}

func TestNewRejectsTypesOutsideTheCatalogue(t *testing.T) {
	f := NewFactory()
	for _, typ := range []string{"job.archived", "", "envelope", "probe-job"} {
		if _, err := f.New(typ); !errors.Is(err, errUnknownType) {
			t.Errorf("New(%q): error = %v, want ErrUnknownType", typ, err)
		}
	}
}

func TestIDsAreUnique(t *testing.T) {
	const n = 5000
	f := NewFactory()
	seen := make(map[string]bool, 3*n)
	for range n {
		ev := mustNew(t, f, harness.ModelTrainingCompleted)
		for _, id := range []string{ev.ID, ev.JobID, ev.ModelID, f.NewID("evt")} {
			if seen[id] {
				t.Fatalf("id %s generated twice", id)
			}
			seen[id] = true
		}
	}
}

// TestConcurrentUse builds from many goroutines at once, with crypto/rand and
// with an injected source that is not safe for concurrent use on its own;
// -race checks the Factory serializes it.
func TestConcurrentUse(t *testing.T) {
	for name, f := range map[string]*Factory{
		"crypto/rand":     NewFactory(),
		"injected source": NewFactory(withRand(seeded(1))),
	} {
		t.Run(name, func(t *testing.T) {
			const workers, each = 8, 250
			ids := make(chan string, workers*each)
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range each {
						ev, err := f.New(harness.JobCompleted)
						if err != nil {
							t.Error(err)
							return
						}
						ids <- ev.ID
					}
				})
			}
			wg.Wait()
			close(ids)
			seen := map[string]bool{}
			for id := range ids {
				if seen[id] {
					t.Fatalf("id %s generated twice", id)
				}
				seen[id] = true
			}
			if len(seen) != workers*each {
				t.Fatalf("got %d ids, want %d", len(seen), workers*each)
			}
		})
	}
}

func TestOverridesApply(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		why   string
		typ   string
		opts  []EventOption
		check func(t *testing.T, ev harness.Event, m map[string]any)
	}{
		{"EventID fixes the id, e.g. for a redelivery", harness.JobQueued, []EventOption{eventID("evt_fixed_1")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "eventId", m["eventId"], "evt_fixed_1")
				want(t, "Event.ID", ev.ID, "evt_fixed_1")
			}},
		{"JobID ties events to one job", harness.JobFailed, []EventOption{JobID("job_fixed_1")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "data.jobId", dataOf(m)["jobId"], "job_fixed_1")
				want(t, "Event.JobID", ev.JobID, "job_fixed_1")
			}},
		{"ModelID ties training events to one model", harness.ModelTrainingStarted, []EventOption{modelID("model_fixed_1")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "data.modelId", dataOf(m)["modelId"], "model_fixed_1")
				want(t, "Event.ModelID", ev.ModelID, "model_fixed_1")
			}},
		{"a video job yields videos", harness.JobCompleted, []EventOption{jobType("video_generation")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "data.jobType", dataOf(m)["jobType"], "video_generation")
				r := dataOf(m)["results"].([]any)[0].(map[string]any)
				if _, ok := r["videoId"]; !ok || !strings.HasSuffix(r["url"].(string), ".mp4") {
					t.Errorf("result %v: want a videoId and an .mp4 url", r)
				}
			}},
		{"an upscale yields images", harness.JobCompleted, []EventOption{jobType("upscale")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				r := dataOf(m)["results"].([]any)[0].(map[string]any)
				if _, ok := r["imageId"]; !ok {
					t.Errorf("result %v: want an imageId", r)
				}
			}},
		{"CreatedAt stamps createdAt and completedAt in UTC", harness.JobCompleted, []EventOption{createdAt(at)},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "createdAt", m["createdAt"], "2030-01-02T02:04:05Z")
				want(t, "data.completedAt", dataOf(m)["completedAt"], "2030-01-02T02:04:05Z")
			}},
		{"Results sets the number of results", harness.JobCompleted, []EventOption{Results(3)},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				if n := len(dataOf(m)["results"].([]any)); n != 3 {
					t.Errorf("len(results) = %d, want 3", n)
				}
			}},
		{"Set overrides a field", harness.JobQueued, []EventOption{Set("data.jobType", "upscale")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "data.jobType", dataOf(m)["jobType"], "upscale")
			}},
		{"Set creates intermediate objects", harness.JobProcessing, []EventOption{Set("data.progress.percent", 50)},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "data.progress.percent", dataOf(m)["progress"].(map[string]any)["percent"], json.Number("50"))
			}},
		{"Set indexes into arrays", harness.JobCompleted, []EventOption{Set("data.results.0.seed", 42)},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "seed", dataOf(m)["results"].([]any)[0].(map[string]any)["seed"], json.Number("42"))
			}},
		{"Set of eventId shows in Event.ID", harness.JobQueued, []EventOption{Set("eventId", "evt_set")},
			func(t *testing.T, ev harness.Event, m map[string]any) { want(t, "Event.ID", ev.ID, "evt_set") }},
		{"Sets apply after the other options", harness.JobQueued, []EventOption{Set("data.jobId", "job_b"), JobID("job_a")},
			func(t *testing.T, ev harness.Event, m map[string]any) { want(t, "Event.JobID", ev.JobID, "job_b") }},
		{"Delete removes an optional field", harness.ModelTrainingFailed, []EventOption{Delete("data.errorMessage")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				if _, ok := dataOf(m)["errorMessage"]; ok {
					t.Error("errorMessage still present")
				}
			}},
		{"Delete of an absent path changes nothing", harness.JobQueued, []EventOption{Delete("data.nothing.here")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				want(t, "status", dataOf(m)["status"], "queued")
			}},
		{"Set then Delete leaves the field out", harness.JobQueued, []EventOption{Set("data.tmp", true), Delete("data.tmp")},
			func(t *testing.T, ev harness.Event, m map[string]any) {
				if _, ok := dataOf(m)["tmp"]; ok {
					t.Error("tmp still present")
				}
			}},
	}
	f := NewFactory(WithClock(fixedClock))
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			ev := mustNew(t, f, tt.typ, tt.opts...)
			tt.check(t, ev, decodeBody(t, ev.Body))
		})
	}
}

func want(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v (%T), want %v (%T)", what, got, got, want, want)
	}
}

func TestOverridesThatBreakTheEventAreErrors(t *testing.T) {
	tests := []struct {
		why  string
		typ  string
		opts []EventOption
		is   error  // nil: any error
		msg  string // the error must contain it
	}{
		{"a status that contradicts the type", harness.JobCompleted, []EventOption{Set("data.status", "failed")}, errInvalidEvent, "/data/status"},
		{"a required field deleted", harness.JobCompleted, []EventOption{Delete("data.results")}, errInvalidEvent, "results"},
		{"a seed of the wrong type", harness.JobCompleted, []EventOption{Set("data.results.0.seed", "x")}, errInvalidEvent, "/data/results/0/seed"},
		{"an event id without its prefix", harness.JobQueued, []EventOption{eventID("event_1")}, errInvalidEvent, "/eventId"},
		{"a job type outside the enum", harness.JobQueued, []EventOption{jobType("audio_generation")}, errInvalidEvent, "/data/jobType"},
		{"a createdAt that is no date-time", harness.JobQueued, []EventOption{Set("createdAt", "yesterday")}, errInvalidEvent, "/createdAt"},
		{"a completed job without results", harness.JobCompleted, []EventOption{Results(0)}, nil, "at least one result"},
		{"an empty path", harness.JobQueued, []EventOption{Set("", 1)}, nil, "empty path"},
		{"an empty path segment", harness.JobQueued, []EventOption{Set("data..x", 1)}, nil, "empty segment"},
		{"a string in the way of a path", harness.JobQueued, []EventOption{Set("data.status.x", 1)}, nil, `"data.status" holds a string`},
		{"an index out of range", harness.JobCompleted, []EventOption{Set("data.results.5.url", "x")}, nil, "out of range"},
		{"a key into an array", harness.JobCompleted, []EventOption{Set("data.results.first", "x")}, nil, "not an index"},
		{"a value encoding/json cannot encode", harness.JobQueued, []EventOption{Set("data.x", func() {})}, nil, "encode func()"},
	}
	f := NewFactory()
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			_, err := f.New(tt.typ, tt.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	f := NewFactory(WithClock(fixedClock))
	for _, final := range []string{harness.JobCompleted, harness.JobFailed, harness.JobCanceled} {
		t.Run(final, func(t *testing.T) {
			evs, err := f.Lifecycle("job_life_1", final)
			if err != nil {
				t.Fatal(err)
			}
			wantTypes := []string{harness.JobQueued, harness.JobProcessing, final}
			if len(evs) != len(wantTypes) {
				t.Fatalf("got %d events, want %d", len(evs), len(wantTypes))
			}
			var prev time.Time
			ids := map[string]bool{}
			for i, ev := range evs {
				m := decodeBody(t, ev.Body)
				want(t, "type", ev.Type, wantTypes[i])
				want(t, "status", ev.Status, kinds[wantTypes[i]].status)
				want(t, "jobId", ev.JobID, "job_life_1")
				want(t, "jobType", dataOf(m)["jobType"], defaultJobType)
				at, err := time.Parse(time.RFC3339, m["createdAt"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if !at.After(prev) {
					t.Errorf("event %d createdAt %v not after %v", i, at, prev)
				}
				prev = at
				ids[ev.ID] = true
			}
			if !prev.Equal(fixedNow) {
				t.Errorf("final createdAt = %v, want the clock's %v", prev, fixedNow)
			}
			if len(ids) != 3 {
				t.Errorf("event ids not distinct: %v", ids)
			}
		})
	}
	evs, err := f.Lifecycle("", harness.JobCompleted)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].JobID == "" || evs[0].JobID != evs[2].JobID {
		t.Errorf("fresh lifecycle job ids %q, %q: want one fresh id", evs[0].JobID, evs[2].JobID)
	}
	if _, err := f.Lifecycle("job_1", harness.JobProcessing); !errors.Is(err, errUnknownType) {
		t.Errorf("non-terminal final: error = %v, want ErrUnknownType", err)
	}
}

func TestUnknown(t *testing.T) {
	cat := schema.Default()
	f := NewFactory()
	tests := []struct {
		why, typ, wantType, wantObject string
	}{
		{"the default is a plausible future job type", "", defaultUnknownType, "job"},
		{"another family names its object", "invoice.paid", "invoice.paid", "invoice"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			ev, err := f.Unknown(tt.typ, JobID("job_u_1"))
			if err != nil {
				t.Fatal(err)
			}
			want(t, "Type", ev.Type, tt.wantType)
			want(t, "JobID", ev.JobID, "job_u_1")
			if cat.Has(ev.Type) || cat.IsEventType(ev.Type) {
				t.Errorf("%s is in the catalogue", ev.Type)
			}
			if err := cat.Validate(schema.Envelope, ev.Body); err != nil {
				t.Errorf("envelope: %v", err)
			}
			if err := cat.ValidateEvent(ev.Body); err != nil {
				t.Errorf("ValidateEvent: %v", err)
			}
			want(t, "data.object", dataOf(decodeBody(t, ev.Body))["object"], tt.wantObject)
		})
	}
	if _, err := f.Unknown(harness.JobCompleted); err == nil {
		t.Error("Unknown(job.completed) succeeded; it is in the catalogue")
	}
	if _, err := f.Unknown("Not A Type"); !errors.Is(err, errInvalidEvent) {
		t.Errorf("Unknown with a type the envelope rejects: error = %v, want ErrInvalidEvent", err)
	}
}

func TestExtraAddsUnknownFieldsAndStaysValid(t *testing.T) {
	f := NewFactory()
	for _, typ := range harness.EventTypes() {
		ev := mustNew(t, f, typ, Extra())
		m := decodeBody(t, ev.Body)
		for _, k := range []string{"livemode", "deliveryContext"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: envelope lacks extra field %q", typ, k)
			}
		}
		for _, k := range []string{"metadata", "futureField"} {
			if _, ok := dataOf(m)[k]; !ok {
				t.Errorf("%s: data lacks extra field %q", typ, k)
			}
		}
	}
}

// TestDeterministic pins the output for a fixed clock and fixed randomness,
// which golden reports and reproducible failures depend on.
func TestDeterministic(t *testing.T) {
	build := func(seed byte) []string {
		f := NewFactory(WithClock(fixedClock), withRand(seeded(seed)))
		var out []string
		for _, typ := range harness.EventTypes() {
			out = append(out, string(mustNew(t, f, typ, Results(2)).Body))
		}
		evs, err := f.Lifecycle("", harness.JobFailed)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			out = append(out, string(ev.Body))
		}
		return append(out, f.NewID("evt"))
	}
	a, b, c := build(7), build(7), build(8)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("same clock and seed gave different events:\n%s\n---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Error("different seeds gave identical events")
	}

	// All-zero randomness makes every id all zeros and picks the first
	// error code: the exact body shows field order and formatting.
	f := NewFactory(WithClock(fixedClock), withRand(bytes.NewReader(make([]byte, 1<<10))))
	got := string(mustNew(t, f, harness.JobCompleted).Body)
	const wantBody = `{"eventId":"evt_00000000000000000000","eventType":"job.completed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z",` +
		`"data":{"object":"job","jobId":"job_00000000000000000000","jobType":"image_generation","status":"completed",` +
		`"results":[{"imageId":"img_00000000000000000000","url":"https://cdn.realm.ai/images/img_00000000000000000000.png","seed":1000000000}],` +
		`"completedAt":"2024-03-10T15:06:15Z"}}`
	if got != wantBody {
		t.Errorf("body:\n got %s\nwant %s", got, wantBody)
	}
}

func TestLargeBodies(t *testing.T) {
	f := NewFactory()
	for _, n := range []int{1, 2, 10} {
		for _, jt := range []string{"image_generation", "video_generation"} {
			ev := mustNew(t, f, harness.JobCompleted, Results(n), jobType(jt))
			// image_generation and video_generation, img and vid, images
			// and videos, .png and .mp4 are of equal length.
			size := baseCompletedSize + n*resultSize
			if len(ev.Body) != size {
				t.Errorf("%s with %d results: %d bytes, want %d", jt, n, len(ev.Body), size)
			}
		}
	}
	if largeResults != resultsForSize(largeBodySize) {
		t.Errorf("LargeResults = %d, ResultsForSize(LargeBodySize) = %d", largeResults, resultsForSize(largeBodySize))
	}
	ev := mustNew(t, f, harness.JobCompleted, Results(largeResults))
	if len(ev.Body) < largeBodySize || len(ev.Body) >= largeBodySize+resultSize {
		t.Errorf("large body is %d bytes, want [%d, %d)", len(ev.Body), largeBodySize, largeBodySize+resultSize)
	}
	if got := resultsForSize(0); got != 1 {
		t.Errorf("ResultsForSize(0) = %d, want 1", got)
	}
}

func TestNewID(t *testing.T) {
	f := NewFactory()
	for _, prefix := range []string{"evt", "job", "model"} {
		id := f.NewID(prefix)
		rest, ok := strings.CutPrefix(id, prefix+"_")
		if !ok || len(rest) != IDLength || strings.Trim(rest, idAlphabet) != "" {
			t.Errorf("NewID(%q) = %q, want %s_ and %d characters of %q", prefix, id, prefix, IDLength, idAlphabet)
		}
	}
}

func TestFailingRandomness(t *testing.T) {
	boom := errors.New("entropy exhausted")
	f := NewFactory(withRand(iotest.ErrReader(boom)))
	if _, err := f.New(harness.JobQueued); !errors.Is(err, boom) {
		t.Errorf("New: error = %v, want it to wrap %v", err, boom)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewID did not panic on failing randomness")
		}
	}()
	f.NewID("evt")
}

// plainValidator hides ValidateEvent, as a harness.Validator from elsewhere
// would, and records which schemas were asked for.
type plainValidator struct {
	cat   *schema.Catalogue
	mu    sync.Mutex
	asked []string
}

func (v *plainValidator) Validate(name string, doc []byte) error {
	v.mu.Lock()
	v.asked = append(v.asked, name)
	v.mu.Unlock()
	return v.cat.Validate(name, doc)
}

func TestWithPlainValidator(t *testing.T) {
	v := &plainValidator{cat: schema.Default()}
	f := NewFactory(withValidator(v))
	mustNew(t, f, harness.JobCompleted)
	if _, err := f.Unknown(""); err != nil {
		t.Fatal(err)
	}
	if got, wantAsked := strings.Join(v.asked, ","), "envelope,job.completed,envelope"; got != wantAsked {
		t.Errorf("schemas asked = %s, want %s", got, wantAsked)
	}
	if _, err := f.New(harness.JobCompleted, Set("data.status", "queued")); !errors.Is(err, errInvalidEvent) {
		t.Errorf("invalid event: error = %v, want ErrInvalidEvent", err)
	}
}

func BenchmarkNew(b *testing.B) {
	f := NewFactory()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.New(harness.JobCompleted); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewParallel(b *testing.B) {
	f := NewFactory()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.New(harness.JobCompleted); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkNewNoValidation measures building alone, to show what
// validation costs; the exported API always validates.
func BenchmarkNewNoValidation(b *testing.B) {
	f := NewFactory()
	k := kinds[harness.JobCompleted]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.encode(harness.JobCompleted, k, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewLarge(b *testing.B) {
	f := NewFactory()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.New(harness.JobCompleted, Results(largeResults)); err != nil {
			b.Fatal(err)
		}
	}
}

package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness/schema"
)

// vector is the body of the REALM v1 signing test vector.
const vector = `{"eventId":"evt_webhook_12345","eventType":"job.completed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_img_gen_123","jobType":"image_generation","status":"completed","results":[{"imageId":"img_abc","url":"https://cdn.realm.ai/images/img_abc.png","seed":123456789}],"completedAt":"2024-03-10T15:06:10Z"}}`

func TestMutateWithoutEditsKeepsTheBody(t *testing.T) {
	got, err := Mutate([]byte(vector))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != vector {
		t.Errorf("Mutate changed an untouched body:\n got %s\nwant %s", got, vector)
	}
	pretty := "{\n  \"b\": 1.50,\n  \"a\": [true, null, \"x\"]\n}"
	got, err = Mutate([]byte(pretty))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"b":1.50,"a":[true,null,"x"]}`; string(got) != want {
		t.Errorf("Mutate(pretty) = %s, want %s (compact, order and numbers kept)", got, want)
	}
}

func TestMutate(t *testing.T) {
	tests := []struct {
		why  string
		opts []EventOption
		want string // substring of the result
		not  string // must not be in the result
	}{
		{"deleting a required field makes an invalid payload, on purpose",
			[]EventOption{Delete("eventId")}, `{"eventType":"job.completed"`, `"eventId"`},
		{"a status contradicting the type is not refused",
			[]EventOption{Set("data.status", "processing")}, `"status":"processing"`, `"status":"completed"`},
		{"a value of the wrong type is not refused",
			[]EventOption{Set("data.results.0.seed", "not a number")}, `"seed":"not a number"`, ""},
		{"raw JSON goes in as is",
			[]EventOption{Set("data", json.RawMessage(`[1,2]`))}, `"data":[1,2]`, ""},
		{"EventID sets the eventId in place",
			[]EventOption{eventID("evt_other")}, `{"eventId":"evt_other","eventType"`, ""},
		{"JobID and ModelID set data fields",
			[]EventOption{JobID("job_x"), modelID("model_y")}, `"jobId":"job_x"`, `job_img_gen_123`},
		{"JobType sets data.jobType",
			[]EventOption{jobType("upscale")}, `"jobType":"upscale"`, ""},
		{"CreatedAt sets createdAt in UTC",
			[]EventOption{createdAt(time.Date(2020, 1, 1, 1, 0, 0, 0, time.FixedZone("X", 3600)))}, `"createdAt":"2020-01-01T00:00:00Z"`, ""},
		{"Extra adds fields to envelope and data",
			[]EventOption{Extra()}, `"futureField":`, ""},
		{"a Set after Extra can remove what Extra added",
			[]EventOption{Extra(), Delete("livemode")}, `"deliveryContext"`, `"livemode"`},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			got, err := Mutate([]byte(vector), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("result is not JSON: %s", got)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("result lacks %s:\n%s", tt.want, got)
			}
			if tt.not != "" && strings.Contains(string(got), tt.not) {
				t.Errorf("result still has %s:\n%s", tt.not, got)
			}
		})
	}
}

// TestMutateMakesInvalidEvents shows what Mutate is for: the body it returns
// fails the schema, which New would have refused.
func TestMutateMakesInvalidEvents(t *testing.T) {
	got, err := Mutate([]byte(vector), Delete("data.results"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Default().ValidateEvent(got); err == nil {
		t.Errorf("mutated body without results passed the schema: %s", got)
	}
}

func TestMutateRejects(t *testing.T) {
	tests := []struct {
		why  string
		body string
		opts []EventOption
		want string
	}{
		{"not JSON", `{"eventId":`, nil, "mutate"},
		{"not an object", `[1,2]`, nil, "not an object"},
		{"two values", `{}{}`, nil, "after the top-level value"},
		{"empty", ``, nil, "mutate"},
		{"Results needs a factory", vector, []EventOption{Results(2)}, "Results needs a Factory"},
		{"a bad path", vector, []EventOption{Set("eventId.x", 1)}, `"eventId" holds a string`},
		{"deleting an array element", vector, []EventOption{Delete("data.results.0")}, "Set the array instead"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			_, err := Mutate([]byte(tt.body), tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestAppendJSONStrings covers strings a caller may Set: whatever they hold,
// the body stays valid JSON and decodes to the same string.
func TestAppendJSONStrings(t *testing.T) {
	for _, s := range []string{
		"plain", `quote " and backslash \`, "tab\tnewline\n", "nul\x00", "ünïcødé ✓", "<html>&amp;", "\u2028",
	} {
		b, err := appendJSON(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("appendJSON(%q) = %s, decodes to %q, %v", s, b, back, err)
		}
	}
	b, err := appendJSON(nil, "bad \xff utf-8")
	if err != nil || !json.Valid(b) {
		t.Errorf("invalid UTF-8: %s, %v; want valid JSON", b, err)
	}
}

// TestAppendJSONValues checks the direct encoder against encoding/json for
// the value types a caller may Set.
func TestAppendJSONValues(t *testing.T) {
	for _, v := range []any{
		int(-3), int64(1 << 40), true, false, nil, 1.5, json.Number("12345678901234567890"),
		map[string]any{"b": 1, "a": []any{"x"}}, []any{1, "two", nil}, struct {
			A int `json:"a"`
		}{7},
	} {
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if !bytes.Equal(got, want) {
			t.Errorf("appendJSON(%#v) = %s, encoding/json gives %s", v, got, want)
		}
	}
}

// FuzzMutate checks the document parser: any input either is refused or
// comes back, without edits, as JSON that means the same (a repeated key
// keeps its last value, as with encoding/json).
func FuzzMutate(f *testing.F) {
	for _, s := range []string{vector, `{}`, `{"a":[1,{"b":null}],"c":"\u00e9"}`, `{"a":1}x`, `[`, `{"a":1e400}`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := Mutate(body)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Mutate(%q) = %q: not JSON", body, out)
		}
		in, err := decodeNumbers(body)
		if err != nil {
			t.Fatalf("Mutate accepted %q, which encoding/json refuses: %v", body, err)
		}
		back, err := decodeNumbers(out)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, back) {
			t.Fatalf("Mutate(%q) = %q: different meaning", body, out)
		}
	})
}

// decodeNumbers decodes one JSON document keeping numbers as written, as
// Mutate does.
func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the top-level value")
	}
	return v, nil
}

package engine

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/schemas"
)

// notChanges are the send step's fields that change no delivery: what to
// send, how often and when, and the two groups whose own fields are the
// changes.
var notChanges = map[string]string{
	"build":      "what event to send",
	"as":         "names the event for later steps",
	"each":       "how many events: one per catalogue type",
	"repeat":     "how many events: one after the other",
	"background": "when: the next step does not wait",
	"signature":  "holds the signature changes",
	"body":       "holds the body changes",
}

// combining are the signature and body changes that are no alternative to
// the others: they add to whichever one applies.
var combining = map[string]string{
	"signature.offset": "shifts t for whatever signature is written",
}

// registered maps every field the registry names (field or with) to the
// number of entries that name it.
func registered() map[string]int {
	seen := map[string]int{}
	for _, m := range mutations {
		seen[m.field]++
		for _, w := range m.with {
			seen[w]++
		}
	}
	return seen
}

// jsonFields are the JSON names of the fields of struct value v, prefixed.
func jsonFields(v any, prefix string) []string {
	var out []string
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, prefix+name)
	}
	return out
}

// schemaProperties are the property names of the scenario schema's
// definition def, prefixed.
func schemaProperties(t *testing.T, def, prefix string) []string {
	t.Helper()
	raw, err := schemas.FS.ReadFile("scenario.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	d, ok := doc.Defs[def]
	if !ok {
		t.Fatalf("the scenario schema has no $defs/%s", def)
	}
	var out []string
	for p := range d.Properties {
		out = append(out, prefix+p)
	}
	slices.Sort(out)
	return out
}

// TestEveryDeliveryFieldIsOneMutation fails when a field of the scenario
// model that changes a delivery has no entry in the registry, or two: a
// change that describe and apply could again disagree on.
func TestEveryDeliveryFieldIsOneMutation(t *testing.T) {
	seen := registered()
	fields := jsonFields(scenario.Send{}, "")
	fields = append(fields, jsonFields(scenario.Signature{}, "signature.")...)
	fields = append(fields, jsonFields(scenario.Body{}, "body.")...)
	for _, f := range fields {
		switch _, skip := notChanges[f]; {
		case skip && seen[f] > 0:
			t.Errorf("%s is registered, and listed as no change", f)
		case skip:
		case seen[f] == 0:
			t.Errorf("%s changes a delivery but has no mutation: add one to the registry (mutation.go)", f)
		case seen[f] > 1:
			t.Errorf("%s is named by %d mutations; one field, one mutation", f, seen[f])
		}
	}
	for f := range seen {
		if !slices.Contains(fields, f) {
			t.Errorf("the registry names %s, which the scenario model does not have", f)
		}
	}
	for f := range notChanges {
		if !slices.Contains(fields, f) {
			t.Errorf("notChanges names %s, which scenario.Send does not have", f)
		}
	}
}

// TestMutationsMatchTheScenarioSchema fails when the registry names a
// field the scenario schema does not define, or the schema defines a
// signature or body change the registry lacks: the schema is what people
// write scenarios from.
func TestMutationsMatchTheScenarioSchema(t *testing.T) {
	seen := registered()
	send := schemaProperties(t, "send", "")
	sig := schemaProperties(t, "signature", "signature.")
	body := schemaProperties(t, "body", "body.")
	for f := range seen {
		group, _, nested := strings.Cut(f, ".")
		ok := slices.Contains(send, f) ||
			nested && group == "signature" && slices.Contains(sig, f) ||
			nested && group == "body" && slices.Contains(body, f)
		if !ok {
			t.Errorf("the registry names %s, which the scenario schema (schemas/scenario.schema.json) does not define", f)
		}
	}
	for _, f := range slices.Concat(sig, body) {
		if seen[f] == 0 {
			t.Errorf("the scenario schema defines %s, which no mutation applies", f)
		}
	}
	for _, f := range send {
		if _, skip := notChanges[f]; !skip && seen[f] == 0 {
			t.Errorf("the scenario schema defines send.%s, which no mutation applies and notChanges does not list", f)
		}
	}
}

// TestMutationEntriesAreComplete checks what each entry must have: a
// question, a description, and an application unless the send step makes
// the change itself.
func TestMutationEntriesAreComplete(t *testing.T) {
	selfMade := []string{"event", "copies"}
	for _, m := range mutations {
		if m.asked == nil || m.describe == nil {
			t.Errorf("%s: a mutation says whether it is asked for and describes itself", m.field)
		}
		if (m.apply == nil) != slices.Contains(selfMade, m.field) {
			t.Errorf("%s: apply is nil exactly for the changes the send step makes itself (%v)", m.field, selfMade)
		}
	}
}

// TestAlternativesAreRegisteredOnce fails when the precedence lists name
// a field the registry lacks, name one twice, or leave out a signature or
// body change that is no combining one: such a change would apply beside
// another that replaces it.
func TestAlternativesAreRegisteredOnce(t *testing.T) {
	in := map[string]int{}
	for _, alts := range alternatives {
		for _, f := range alts {
			in[f]++
			if mutationFor(f) == nil {
				t.Errorf("alternatives names %s, which has no mutation", f)
			}
		}
	}
	for _, m := range mutations {
		group, _, nested := strings.Cut(m.field, ".")
		_, combines := combining[m.field]
		switch {
		case in[m.field] > 1:
			t.Errorf("%s is in alternatives %d times", m.field, in[m.field])
		case nested && (group == "signature" || group == "body") && !combines && in[m.field] == 0:
			t.Errorf("%s replaces the other %s changes but is not in alternatives", m.field, group)
		case combines && in[m.field] > 0:
			t.Errorf("%s combines with the others, so it is no alternative", m.field)
		}
	}
}

// testRun is a run against nothing, for making attempts without sending.
func testRun(t *testing.T) *run {
	t.Helper()
	secret := harness.Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	sender, err := delivery.NewSender("http://127.0.0.1:1/webhook", secret)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Sender: sender, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return newRun(e, &scenario.Scenario{ID: "TEST-01"}, newLedger())
}

// TestAttemptAppliesAndDescribesTheSameChanges makes attempts of steps
// that ask for several changes, and checks both what was made and what the
// evidence says, so the two cannot drift apart again.
func TestAttemptAppliesAndDescribesTheSameChanges(t *testing.T) {
	r := testRun(t)
	ev, err := r.e.cfg.Factory.New(harness.JobCompleted)
	if err != nil {
		t.Fatal(err)
	}
	prev := &sent{ev: ev, last: harness.Exchange{Attempt: 3, Request: harness.Request{Header: http.Header{"X-Webhook-Signature": {"t=1,v1=ab"}}}}}
	tests := []struct {
		why   string
		send  scenario.Send
		want  string
		check func(a delivery.Attempt) bool
	}{
		{why: "the report names the send-level changes, then the signature's, in the registry's order",
			send: scenario.Send{Event: "e", Method: http.MethodPut, Attempt: 2, Copies: 3, Abandon: true, SplitCharacters: true,
				Signature: &scenario.Signature{WrongSecret: true, Offset: "-10m"}},
			want: "send job.completed (PUT, redelivery, attempt 2, 3 concurrent copies, abandoned after the body, segments cut inside characters, signed with a wrong secret, t shifted by -10m)",
			check: func(a delivery.Attempt) bool {
				return a.Method == http.MethodPut && a.Number == 2 && a.Abandon && a.SplitRunes && len(a.Secrets) == 1 && a.TimeOffset < 0
			}},
		{why: "POST and attempt 1 are the defaults, which the report does not name",
			send: scenario.Send{Method: http.MethodPost, Attempt: 1},
			want: "send job.completed",
			check: func(a delivery.Attempt) bool {
				return a.Method == http.MethodPost && a.Number == 1
			}},
		{why: "rotated comes before tamper: the rotation applies, and only it is named",
			send: scenario.Send{Signature: &scenario.Signature{Tamper: true, Rotated: 2}},
			want: "send job.completed (2 v1 entries of other secrets beside the valid one, the valid one last)",
			check: func(a delivery.Attempt) bool {
				return len(a.Secrets) == 3 && a.Secrets[2] == r.e.cfg.Secret && a.SignedBody == nil
			}},
		{why: "missing comes before every other signature change",
			send: scenario.Send{Signature: &scenario.Signature{Missing: true, WrongSecret: true, Header: new("{v1}")}},
			want: "send job.completed (no signature header)",
			check: func(a delivery.Attempt) bool {
				return a.NoSignature && a.Secrets == nil && a.Signature == nil
			}},
		{why: "a malformed header comes before a literal one, and is named once",
			send: scenario.Send{Signature: &scenario.Signature{Malformed: "garbage", Header: new("x")}},
			want: `send job.completed (garbage signature header "garbage")`,
			check: func(a delivery.Attempt) bool {
				return a.Signature != nil && *a.Signature == "garbage"
			}},
		{why: "a replay keeps the attempt number it was sent with, whatever the step says",
			send: scenario.Send{Event: "e", Replay: true, Attempt: 5},
			want: "send job.completed (identical redelivery, attempt 5)",
			check: func(a delivery.Attempt) bool {
				return a.Number == 3 && a.Signature != nil && *a.Signature == "t=1,v1=ab"
			}},
		{why: "a body change applies before the signature, which the tampering then alters",
			send: scenario.Send{Body: &scenario.Body{Set: map[string]any{"data.b": 2, "data.a": "x"}}, Signature: &scenario.Signature{Tamper: true}},
			want: "send job.completed (body altered after signing, data.a=x, data.b=2)",
			check: func(a delivery.Attempt) bool {
				return strings.Contains(string(a.SignedBody), `"a":"x"`) && strings.Contains(string(a.Body), `"tampered":true`)
			}},
		{why: "size names its refinements",
			send: scenario.Send{Body: &scenario.Body{Size: "2KiB", Chunked: true}},
			want: "send job.completed (2KiB body, chunked, without a Content-Length)",
			check: func(a delivery.Attempt) bool {
				return a.Chunked && len(a.Body) == 2<<10
			}},
	}
	for _, tt := range tests {
		var p *sent
		if tt.send.Event != "" {
			p = prev
		}
		a, what, err := r.attempt(&tt.send, ev, p)
		if err != nil {
			t.Errorf("%s: %v", tt.why, err)
			continue
		}
		if what != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.why, what, tt.want)
		}
		if !tt.check(a) {
			t.Errorf("%s: the attempt is not as described: %+v", tt.why, a)
		}
	}
}

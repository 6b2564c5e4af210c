package engine

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// A mutation is one kind of change a send step makes to the delivery it
// would otherwise make (an event signed correctly, POSTed, attempt 1). It
// says whether a step asks for it, applies itself to the attempt and
// describes itself in the evidence: one value does both, so a report can
// only name the changes that were made.
type mutation struct {
	// field is the send step's field that asks for the change, as the
	// scenario schema spells it below send: "method", "signature.missing".
	field string
	// with are the fields that only refine this change and mean nothing
	// alone (body.multibyte refines body.size); the schema or the decoder
	// ties them to field.
	with []string
	// stage is when the change applies; see stage.
	stage stage
	// asked reports whether step s asks for the change.
	asked func(s *scenario.Send) bool
	// apply makes the change on d.a; nil for a change the send step makes
	// itself (its copies) rather than the attempt.
	apply func(d *draft) error
	// describe names the change for a human, after every change of the
	// step has been applied; "" says nothing.
	describe func(d *draft) string
}

// stage orders how the changes of a step apply, whatever order the
// registry names them in: each stage builds on what the earlier ones made.
type stage int

const (
	// stageRequest sets what no other change reads: method, attempt
	// number, abandonment, segments.
	stageRequest stage = iota
	// stageReplay copies the earlier delivery's headers, over the
	// request's settings: a replay keeps the attempt number it was sent
	// with.
	stageReplay
	// stageBody replaces the body, before anything signs it.
	stageBody
	// stageClock shifts the signing time, before anything signs.
	stageClock
	// stageSign writes the signature over the final body at the final
	// time.
	stageSign
)

// draft is a delivery attempt being made from a send step: the step, the
// event it sends, that event's earlier delivery (for a replay), and the
// attempt its changes build.
type draft struct {
	r    *run
	s    *scenario.Send
	ev   harness.Event
	prev *sent
	a    delivery.Attempt
}

// sig is the step's signature changes; none is the zero value.
func (d *draft) sig() *scenario.Signature { return signatureOf(d.s) }

// body is the step's body changes; none is the zero value.
func (d *draft) body() *scenario.Body { return bodyOf(d.s) }

func signatureOf(s *scenario.Send) *scenario.Signature {
	if s.Signature == nil {
		return &scenario.Signature{}
	}
	return s.Signature
}

func bodyOf(s *scenario.Send) *scenario.Body {
	if s.Body == nil {
		return &scenario.Body{}
	}
	return s.Body
}

// header describes the signature header as sent, its {t} and {v1} and
// every entry filled in.
func (d *draft) header() string {
	if d.a.Signature == nil {
		return ""
	}
	return fmt.Sprintf("signature header %q", *d.a.Signature)
}

// mutations is the registry of the changes a send step can make, in the
// order a report names them: "send job.completed (PUT, redelivery,
// attempt 2, ...)". Every field of scenario.Send, Signature and Body that
// changes a delivery has one entry (mutation_test.go holds the fields that
// do not, and checks the registry against the scenario schema), so a new
// kind of change is one entry here and its property in the schema.
// Which of several alternatives wins is alternatives' business, and when
// each applies is its stage's.
var mutations = []mutation{
	{field: "method", stage: stageRequest,
		asked: func(s *scenario.Send) bool { return s.Method != "" },
		apply: func(d *draft) error { d.a.Method = d.s.Method; return nil },
		describe: func(d *draft) string {
			if d.s.Method == http.MethodPost {
				return ""
			}
			return d.s.Method
		}},
	{field: "event",
		asked:    func(s *scenario.Send) bool { return s.Event != "" && !s.Replay },
		describe: func(*draft) string { return "redelivery" }},
	{field: "replay", with: []string{"newId"}, stage: stageReplay,
		asked: func(s *scenario.Send) bool { return s.Replay },
		apply: func(d *draft) error { return d.replay() },
		describe: func(d *draft) string {
			if d.s.NewID {
				return "identical redelivery with a new id header"
			}
			return "identical redelivery"
		}},
	{field: "attempt", stage: stageRequest,
		asked: func(s *scenario.Send) bool { return s.Attempt > 0 },
		apply: func(d *draft) error { d.a.Number = d.s.Attempt; return nil },
		describe: func(d *draft) string {
			if d.s.Attempt > 1 {
				return "attempt " + strconv.Itoa(d.s.Attempt)
			}
			return ""
		}},
	{field: "copies",
		asked:    func(s *scenario.Send) bool { return s.Copies > 1 },
		describe: func(d *draft) string { return strconv.Itoa(d.s.Copies) + " concurrent copies" }},
	{field: "abandon", stage: stageRequest,
		asked:    func(s *scenario.Send) bool { return s.Abandon },
		apply:    func(d *draft) error { d.a.Abandon = true; return nil },
		describe: func(*draft) string { return "abandoned after the body" }},
	{field: "splitCharacters", stage: stageRequest,
		asked:    func(s *scenario.Send) bool { return s.SplitCharacters },
		apply:    func(d *draft) error { d.a.SplitRunes = true; return nil },
		describe: func(*draft) string { return "segments cut inside characters" }},

	{field: "signature.missing", stage: stageSign,
		asked:    func(s *scenario.Send) bool { return signatureOf(s).Missing },
		apply:    func(d *draft) error { d.a.NoSignature = true; return nil },
		describe: func(*draft) string { return "no signature header" }},
	{field: "signature.wrongSecret", stage: stageSign,
		asked:    func(s *scenario.Send) bool { return signatureOf(s).WrongSecret },
		apply:    func(d *draft) error { d.a.Secrets = []harness.Secret{wrongSecret()}; return nil },
		describe: func(*draft) string { return "signed with a wrong secret" }},
	{field: "signature.malformed", stage: stageSign,
		asked: func(s *scenario.Send) bool { return signatureOf(s).Malformed != "" },
		apply: func(d *draft) error { return d.malformed(d.sig().Malformed) },
		describe: func(d *draft) string {
			if d.a.Signature == nil {
				return ""
			}
			return d.sig().Malformed + " " + d.header()
		}},
	{field: "signature.header", stage: stageSign,
		asked:    func(s *scenario.Send) bool { return signatureOf(s).Header != nil },
		apply:    func(d *draft) error { d.literalHeader(*d.sig().Header); return nil },
		describe: (*draft).header},
	{field: "signature.tamper", stage: stageSign,
		asked:    func(s *scenario.Send) bool { return signatureOf(s).Tamper },
		apply:    (*draft).tamper,
		describe: func(*draft) string { return "body altered after signing" }},
	{field: "signature.rotated", with: []string{"signature.valid"}, stage: stageSign,
		asked: func(s *scenario.Send) bool { return signatureOf(s).Rotated > 0 },
		apply: (*draft).rotate,
		describe: func(d *draft) string {
			sig := d.sig()
			where := map[string]string{"first": "the valid one first", "middle": "the valid one in the middle"}[sig.Valid]
			if where == "" {
				where = "the valid one last"
			}
			return fmt.Sprintf("%d v1 entries of other secrets beside the valid one, %s", sig.Rotated, where)
		}},
	{field: "signature.offset", stage: stageClock,
		asked:    func(s *scenario.Send) bool { return signatureOf(s).Offset != "" },
		apply:    (*draft).shiftClock,
		describe: func(d *draft) string { return "t shifted by " + d.sig().Offset }},
	{field: "signature.unknownEntries", stage: stageSign,
		asked:    func(s *scenario.Send) bool { return signatureOf(s).UnknownEntries },
		apply:    (*draft).unknownEntries,
		describe: (*draft).header},
	{field: "signature.timestamps", stage: stageSign,
		asked:    func(s *scenario.Send) bool { return signatureOf(s).Timestamps != "" },
		apply:    (*draft).timestamps,
		describe: (*draft).header},

	{field: "body.raw", stage: stageBody,
		asked: func(s *scenario.Send) bool { return bodyOf(s).Raw != nil },
		apply: func(d *draft) error { d.a.Body = []byte(*d.body().Raw); return nil },
		describe: func(d *draft) string {
			if *d.body().Raw == "" {
				return "empty body"
			}
			return "malformed JSON body"
		}},
	{field: "body.delete", stage: stageBody,
		asked:    func(s *scenario.Send) bool { return len(bodyOf(s).Delete) > 0 },
		apply:    (*draft).deleteFields,
		describe: func(d *draft) string { return "without " + strings.Join(d.body().Delete, ", ") }},
	{field: "body.size", with: []string{"body.multibyte", "body.chunked"}, stage: stageBody,
		asked: func(s *scenario.Send) bool { return bodyOf(s).Size != "" },
		apply: (*draft).padBody,
		describe: func(d *draft) string {
			b := d.body()
			switch {
			case b.Multibyte:
				return b.Size + " body of multi-byte UTF-8 text"
			case b.Chunked:
				return b.Size + " body, chunked, without a Content-Length"
			}
			return b.Size + " body"
		}},
	{field: "body.format", stage: stageBody,
		asked:    func(s *scenario.Send) bool { return bodyOf(s).Format != "" },
		apply:    (*draft).reformatBody,
		describe: func(d *draft) string { return d.body().Format + " JSON" }},
	{field: "body.set", stage: stageBody,
		asked: func(s *scenario.Send) bool { return len(bodyOf(s).Set) > 0 },
		apply: (*draft).setFields,
		describe: func(d *draft) string {
			set := d.body().Set
			keys := slices.Sorted(maps.Keys(set))
			for i, k := range keys {
				keys[i] = fmt.Sprintf("%s=%v", k, set[k])
			}
			return strings.Join(keys, ", ")
		}},
}

// alternatives lists, by precedence, the changes that replace one another:
// a delivery has one signature header and one body. A step that asks for
// several alternatives of one kind gets the first it asks for, the others
// not at all. The schema lets a body have one change only, but signature
// changes combine as the schema allows, and then this order decides; it is
// part of what a scenario means, so it is fixed here rather than by the
// registry's order (which is the report's).
var alternatives = [][]string{
	{"signature.missing", "signature.wrongSecret", "signature.rotated", "signature.tamper",
		"signature.malformed", "signature.unknownEntries", "signature.timestamps", "signature.header"},
	{"body.raw", "body.delete", "body.size", "body.format", "body.set"},
}

// changes returns the changes step s makes, in the registry's order: those
// it asks for, less the alternatives that an earlier one replaces.
func changes(s *scenario.Send) []*mutation {
	replaced := map[string]bool{}
	for _, alts := range alternatives {
		won := false
		for _, f := range alts {
			if won {
				replaced[f] = true
			} else {
				won = mutationFor(f).asked(s)
			}
		}
	}
	var out []*mutation
	for i := range mutations {
		m := &mutations[i]
		if !replaced[m.field] && m.asked(s) {
			out = append(out, m)
		}
	}
	return out
}

// mutationFor is the registry's entry for field, or nil.
func mutationFor(field string) *mutation {
	for i := range mutations {
		if mutations[i].field == field {
			return &mutations[i]
		}
	}
	return nil
}

// attempt turns a send step of event ev into a delivery attempt with its
// changes, stage by stage, and names it for a human.
func (r *run) attempt(s *scenario.Send, ev harness.Event, prev *sent) (delivery.Attempt, string, error) {
	d := &draft{r: r, s: s, ev: ev, prev: prev, a: r.e.cfg.Sender.Attempt(ev)}
	ms := changes(s)
	for st := stageRequest; st <= stageSign; st++ {
		for _, m := range ms {
			if m.stage != st || m.apply == nil {
				continue
			}
			if err := m.apply(d); err != nil {
				return d.a, "", err
			}
		}
	}
	return d.a, d.describe(ms), nil
}

// describe names the send of d for a human by the changes ms it made:
// "send job.completed (attempt 2, signed with a wrong secret)".
func (d *draft) describe(ms []*mutation) string {
	var parts []string
	for _, m := range ms {
		if text := m.describe(d); text != "" {
			parts = append(parts, text)
		}
	}
	what := "send " + d.ev.Type
	if len(parts) > 0 {
		what += " (" + strings.Join(parts, ", ") + ")"
	}
	return what
}

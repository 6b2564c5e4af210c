package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/realm-ai/hookcert/harness/schema"
)

// explain turns the schema's causes into problems at lines and columns,
// rewording the messages a validator words for schema authors
// ("'oneOf' failed, subschemas 0, 2 matched", "additional properties 'x'
// not allowed", a regular expression) into what a scenario author needs to
// read. A cause that has no better wording is kept as it is.
func explain(doc *document, v any, causes []schema.Cause) []problem {
	var out []problem
	unknownAt := map[string]bool{}
	var shaped []string
	kept := map[string][]schema.Cause{}
	for _, c := range causes {
		switch {
		case strings.HasPrefix(c.Message, "additional properties"):
			if ps := unknownFields(doc, c.Location); len(ps) > 0 {
				out = append(out, ps...)
				unknownAt[c.Location] = true
				continue
			}
		case isStructural(c.Message) && shapeRuleAt(c.Location) != nil:
			if _, ok := kept[c.Location]; !ok {
				shaped = append(shaped, c.Location)
			}
			kept[c.Location] = append(kept[c.Location], c)
			continue
		case strings.Contains(c.Message, "does not match pattern"):
			if msg := patternHint(v, c.Location); msg != "" {
				c.Message = msg
			}
		}
		line, col := doc.position(c.Location)
		out = append(out, problem{Line: line, Column: col, Pointer: c.Location, Message: c.Message})
	}
	for _, loc := range shaped {
		obj, _ := at(v, loc).(map[string]any)
		ps := shapeRuleAt(loc)(doc, obj, loc, unknownAt[loc])
		if len(ps) == 0 && !unknownAt[loc] {
			// The rule sees nothing wrong the schema does: say it the
			// schema's way rather than not at all.
			for _, c := range kept[loc] {
				line, col := doc.position(loc)
				ps = append(ps, problem{Line: line, Column: col, Pointer: loc, Message: c.Message})
			}
		}
		out = append(out, ps...)
	}
	return out
}

// isStructural reports whether a schema message is about which fields go
// together, the kind the shape rules reword.
func isStructural(msg string) bool {
	for _, p := range []string{"'oneOf' failed", "'anyOf' failed", "matches no alternative", "missing propert", "properties "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// shapeRule checks which fields of the object at loc go together, giving
// the problems in a scenario author's words. unknown says that the object
// also has a misspelt field, which is then the likelier explanation of a
// missing one.
type shapeRule func(doc *document, obj map[string]any, loc string, unknown bool) []problem

// shapeRules are keyed by the pointer pattern they apply to, "*" standing
// for an array index.
var shapeRules = map[string]shapeRule{
	"/steps/*":            stepShape,
	"/steps/*/send":       sendShape,
	"/steps/*/send/body":  oneOfShape("a body replacement", "raw (a text), delete (field paths) or size (a padded size)", "raw", "delete", "size"),
	"/steps/*/pause":      oneOfShape("a pause", "for (a duration) or retry (an attempt number)", "for", "retry"),
	"/steps/*/probe":      probeShape,
	"/steps/*/send/build": buildShape,
}

// shapeRuleAt returns the shape rule for a location, or nil.
func shapeRuleAt(loc string) shapeRule {
	toks := tokens(loc)
	for i, t := range toks {
		if _, err := strconv.Atoi(t); err == nil {
			toks[i] = "*"
		}
	}
	if len(toks) == 0 {
		return nil
	}
	return shapeRules["/"+strings.Join(toks, "/")]
}

// present lists which of names obj has, in the order of names.
func present(obj map[string]any, names ...string) []string {
	var out []string
	for _, n := range names {
		if _, ok := obj[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// and joins names as "a", "a and b", "a, b and c".
func and(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func problemAt(doc *document, ptr, format string, args ...any) problem {
	line, col := doc.position(ptr)
	return problem{Line: line, Column: col, Pointer: ptr, Message: fmt.Sprintf(format, args...)}
}

// actions are the fields of a step of which it has exactly one.
var actions = []string{"send", "lifecycles", "pause", "probe", "tls"}

func stepShape(doc *document, obj map[string]any, loc string, unknown bool) []problem {
	has := present(obj, actions...)
	var out []problem
	switch {
	case len(has) == 0 && !unknown:
		out = append(out, problemAt(doc, loc, "a step needs one of %s", strings.Join(actions, ", ")))
	case len(has) > 1:
		out = append(out, problemAt(doc, loc, "a step does one thing, but this one has %s: make them separate steps", and(has)))
	}
	if _, ok := obj["expect"]; ok && len(has) == 1 && has[0] != "send" && has[0] != "lifecycles" {
		out = append(out, problemAt(doc, loc+"/expect", "expect applies to the deliveries of a send or lifecycles step, not to a %s step", has[0]))
	}
	return out
}

func sendShape(doc *document, obj map[string]any, loc string, unknown bool) []problem {
	var out []problem
	_, event := obj["event"]
	_, build := obj["build"]
	_, each := obj["each"]
	switch {
	case event && build:
		out = append(out, problemAt(doc, loc, "send has both event (redeliver an earlier event) and build (a new event): keep one"))
	case !event && !build && each:
		out = append(out, problemAt(doc, loc, "each: catalogue needs build, the event to build for every type (build: {} for the defaults)"))
	case !event && !build && !unknown:
		out = append(out, problemAt(doc, loc, "send needs event (the name of an earlier event, to redeliver it) or build (a new event)"))
	}
	if event && each {
		out = append(out, problemAt(doc, loc+"/each", "each: catalogue builds new events, so it cannot go with event; use build"))
	}
	if replay, _ := obj["replay"].(bool); replay && !event {
		out = append(out, problemAt(doc, loc+"/replay", "replay: true resends an earlier delivery: name its event with event"))
	}
	return out
}

func buildShape(doc *document, obj map[string]any, loc string, _ bool) []problem {
	if _, ok := obj["type"]; !ok {
		return []problem{problemAt(doc, loc, "build needs type, an event type such as job.completed (or each: catalogue on the send step, to build every type)")}
	}
	return nil
}

func probeShape(doc *document, obj map[string]any, loc string, unknown bool) []problem {
	has := present(obj, "event", "job", "lifecycles")
	var out []problem
	switch {
	case len(has) == 0 && !unknown:
		out = append(out, problemAt(doc, loc, "probe needs event (with processed), job (with status) or lifecycles"))
	case len(has) > 1:
		out = append(out, problemAt(doc, loc, "a probe step asks about one thing, but this one has %s: make them separate probe steps", and(has)))
	}
	pairs := []struct{ field, needs, why string }{
		{"event", "processed", "how many times the receiver must have processed the event (0 for never)"},
		{"processed", "event", "the name of the event to count"},
		{"job", "status", "the state the job must be in (queued, processing, completed, failed or canceled)"},
		{"status", "job", "the name of the job to check"},
	}
	for _, p := range pairs {
		_, has := obj[p.field]
		_, needs := obj[p.needs]
		if has && !needs {
			out = append(out, problemAt(doc, loc+"/"+p.field, "%s needs %s: %s", p.field, p.needs, p.why))
		}
	}
	return out
}

// oneOfShape is the rule of an object that has exactly one of fields.
func oneOfShape(what, choices string, fields ...string) shapeRule {
	return func(doc *document, obj map[string]any, loc string, unknown bool) []problem {
		has := present(obj, fields...)
		switch {
		case len(has) == 0 && !unknown:
			return []problem{problemAt(doc, loc, "%s needs one of %s", what, choices)}
		case len(has) > 1:
			return []problem{problemAt(doc, loc, "%s is exactly one of %s, but this one has %s", what, strings.Join(fields, ", "), and(has))}
		}
		return nil
	}
}

// patternHints say, by field name, what a value that fails its pattern
// should look like; the regular expression itself helps no one.
var patternHints = map[string]string{
	"id":         "is not a check ID such as SIG-02 (uppercase letters, a dash, at least two digits)",
	"after":      "is not a check ID such as SIG-02 (uppercase letters, a dash, at least two digits)",
	"category":   "is not one lowercase word such as signature",
	"labels":     "is not a label: letters, digits, '_', '.' or '-', starting with a letter or digit",
	"as":         "is not a name: a letter, then letters, digits, '_' or '-'",
	"event":      "is not a name: a letter, then letters, digits, '_' or '-'",
	"job":        "is not a name: a letter, then letters, digits, '_' or '-'",
	"lifecycles": "is not a name: a letter, then letters, digits, '_' or '-'",
	"delete":     "is not a dotted field path such as data.jobId",
	"type":       "is not an event type: dotted lowercase words such as job.completed",
	"offset":     "is not a duration such as -10m, 30s or 500ms",
	"for":        "is not a duration such as 500ms, 1s or 1m30s",
	"size":       "is not a size: a whole number and B, KiB or MiB, such as 5MiB",
	"status":     "is not a status: a class (2xx), a code (413) or the negation of either (not-5xx)",
}

// patternHint words a pattern failure at loc by the field it is in, or
// returns "" when it has no better wording.
func patternHint(v any, loc string) string {
	s, ok := at(v, loc).(string)
	if !ok {
		return ""
	}
	toks := tokens(loc)
	for i := len(toks) - 1; i >= 0; i-- {
		if _, err := strconv.Atoi(toks[i]); err == nil {
			continue
		}
		if hint, ok := patternHints[toks[i]]; ok {
			return strconv.Quote(s) + " " + hint
		}
		return ""
	}
	return ""
}

// at returns the value at a JSON pointer in the JSON data model, or nil.
func at(v any, ptr string) any {
	for _, tok := range tokens(ptr) {
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// unknownFields gives one problem per misspelt or unknown field of the
// object at loc, at the line of the field, suggesting the field meant when
// one is close. It returns nil when loc is not one of the model's objects.
func unknownFields(doc *document, loc string) []problem {
	t := typeAt(loc)
	if t == nil {
		return nil
	}
	known := fieldNames(t)
	var out []problem
	for _, key := range doc.keys(loc) {
		if slices.Contains(known, key) {
			continue
		}
		ptr := loc + "/" + escape(key)
		line, col := doc.keyPosition(ptr)
		msg := fmt.Sprintf("unknown property %q", key)
		if near := closest(key, known); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		} else {
			msg += "; known here: " + strings.Join(known, ", ")
		}
		out = append(out, problem{Line: line, Column: col, Pointer: ptr, Message: msg})
	}
	return out
}

// typeAt returns the struct type of the model at a JSON pointer, or nil
// when the pointer leads elsewhere (a free-form map, a scalar).
func typeAt(ptr string) reflect.Type {
	t := reflect.TypeFor[Scenario]()
	for _, tok := range tokens(ptr) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Slice:
			t = t.Elem()
		case reflect.Struct:
			f, ok := fieldByName(t, tok)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// jsonName returns the JSON name of a struct field, "" when it has none.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// fieldNames lists the JSON names of a struct's fields, in order.
func fieldNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if n := jsonName(f); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if jsonName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// closest returns the known name nearest to key when it is near enough to
// be a typo (a couple of edits, or the same but for case and separators),
// else "".
func closest(key string, known []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	best, bestDist := "", 3
	for _, k := range known {
		d := distance(norm(key), norm(k))
		if d < bestDist && d < max(len(k), 2) {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

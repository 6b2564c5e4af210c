package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/schema"
)

// maxBodySize bounds body.size: the suite pads bodies in memory, and more
// than this tests nothing that 5 MiB does not.
const maxBodySize = 64 << 20

// namespace is one kind of name steps give and use: events (send.as), jobs
// (build.job) or lifecycles batches (lifecycles.as).
type namespace struct {
	kind string
	// define says how to give a name of this kind.
	define string
	// first holds, for every name the file defines, the pointer of its
	// first definition, so a use before it can say where it comes.
	first map[string]string
	// known holds the names defined by the steps checked so far.
	known map[string]bool
}

func newNamespace(kind, define string) *namespace {
	return &namespace{kind: kind, define: define, first: map[string]string{}, known: map[string]bool{}}
}

// use checks a use of name at ptr by a step after all those whose names
// are known.
func (ns *namespace) use(doc *document, ptr, name string) []problem {
	if ns.known[name] {
		return nil
	}
	if def, ok := ns.first[name]; ok {
		line, _ := doc.position(def)
		return []problem{problemAt(doc, ptr, "%s %q is named only later, at line %d; a step can use only names given by the steps before it", ns.kind, name, line)}
	}
	msg := fmt.Sprintf("%s %q is not named by an earlier step (%s)", ns.kind, name, ns.define)
	if len(ns.known) > 0 {
		msg += "; names so far: " + strings.Join(slices.Sorted(maps.Keys(ns.known)), ", ")
	}
	return []problem{problemAt(doc, ptr, "%s", msg)}
}

// check makes the checks of one scenario that the schema cannot make. The
// scenario has passed the schema, so the fields that go together do.
func check(s *Scenario, doc *document) []problem {
	events := newNamespace("event", "name one with as: on a send step")
	jobs := newNamespace("job", "name one with job: in a build")
	batches := newNamespace("lifecycles", "name one with as: on a lifecycles step")
	var out []problem

	// several are the names given to a step that sends several events
	// (each, repeat): a probe step asks about all of them.
	several := map[string]bool{}
	// First pass: where each name is first given, so that a use before it
	// can say so, and names given twice.
	for i, st := range s.Steps {
		p := "/steps/" + strconv.Itoa(i)
		if st.Send != nil && st.Send.As != "" {
			out = append(out, define(doc, events, p+"/send/as", st.Send.As)...)
			if st.Send.Each != "" || st.Send.Repeat > 1 {
				several[st.Send.As] = true
			}
		}
		if st.Send != nil && st.Send.Build != nil && st.Send.Build.Job != "" {
			// Builds share a job by naming it again: that is no redefinition.
			if _, ok := jobs.first[st.Send.Build.Job]; !ok {
				jobs.first[st.Send.Build.Job] = p + "/send/build/job"
			}
		}
		if st.Lifecycles != nil {
			out = append(out, define(doc, batches, p+"/lifecycles/as", st.Lifecycles.As)...)
		}
	}

	probes := 0
	for i, st := range s.Steps {
		p := "/steps/" + strconv.Itoa(i)
		switch {
		case st.Ledger != nil && !s.Final:
			out = append(out, problemAt(doc, p+"/ledger", "a ledger step judges the whole run, so it runs only in a final check: add final: true"))
		case st.Ledger == nil && s.Final:
			out = append(out, problemAt(doc, p, "a final check judges the whole run after every other check: it has ledger steps only"))
		case st.Ledger != nil && st.Ledger.Processed:
			probes++
		case st.Send != nil:
			out = append(out, checkSend(doc, p, st, events)...)
			if several[st.Send.Event] {
				out = append(out, problemAt(doc, p+"/send/event", "%q names the several events of a step (each or repeat), which only a probe step can ask about; name one event to redeliver it", st.Send.Event))
			}
			if st.Send.As != "" {
				events.known[st.Send.As] = true
			}
			if st.Send.Build != nil && st.Send.Build.Job != "" {
				jobs.known[st.Send.Build.Job] = true
			}
		case st.Lifecycles != nil:
			batches.known[st.Lifecycles.As] = true
		case st.Pause != nil && st.Pause.For != "":
			d, err := time.ParseDuration(st.Pause.For)
			switch {
			case err != nil:
				out = append(out, problemAt(doc, p+"/pause/for", "%q is not a duration: %v", st.Pause.For, err))
			case d <= 0:
				out = append(out, problemAt(doc, p+"/pause/for", "a pause of %s waits for nothing; remove the step or give a duration above 0", st.Pause.For))
			}
		case st.Probe != nil:
			probes++
			pr := st.Probe
			switch {
			case pr.Event != "":
				out = append(out, events.use(doc, p+"/probe/event", pr.Event)...)
			case pr.Job != "":
				out = append(out, jobs.use(doc, p+"/probe/job", pr.Job)...)
			case pr.Lifecycles != "":
				out = append(out, batches.use(doc, p+"/probe/lifecycles", pr.Lifecycles)...)
			}
		}
	}
	if s.Probe && probes == 0 {
		out = append(out, problemAt(doc, "/probe", "probe: true, but no step asks the probe: without a probe URL the check would be skipped for nothing; add a probe step or remove probe: true"))
	}
	return out
}

// define records the name given at ptr, refusing a name given before.
func define(doc *document, ns *namespace, ptr, name string) []problem {
	if first, ok := ns.first[name]; ok {
		line, _ := doc.position(first)
		return []problem{problemAt(doc, ptr, "%s name %q is already given at line %d; pick another", ns.kind, name, line)}
	}
	ns.first[name] = ptr
	return nil
}

// checkSend checks a send step at p.
func checkSend(doc *document, p string, st Step, events *namespace) []problem {
	send := st.Send
	sp := p + "/send"
	var out []problem
	if send.Event != "" {
		out = append(out, events.use(doc, sp+"/event", send.Event)...)
	}
	if b := send.Build; b != nil {
		out = append(out, checkBuild(doc, sp, send.Each != "", b)...)
	}
	for _, c := range sendChecks {
		if msg := c.check(st); msg != "" {
			ptr := sp + "/" + c.field
			if c.field == "expect" {
				ptr = p + "/expect"
			}
			out = append(out, problemAt(doc, ptr, "%s", msg))
		}
	}
	return out
}

// sendChecks are the checks of a send step's changes that the schema
// cannot make, each on the field (a pointer below send, or the step's
// expect) its problem points at. A new kind of change with such a rule
// adds a row.
var sendChecks = []struct {
	field string
	// check returns the problem of step st, or "".
	check func(st Step) string
}{
	{"replay", func(st Step) string {
		if st.Send.Replay && (st.Send.Signature != nil || st.Send.Body != nil) {
			return "replay resends the earlier delivery byte for byte, so it cannot also change its signature or body; drop replay to send a re-signed copy"
		}
		return ""
	}},
	{"expect", func(st Step) string {
		if st.Send.Abandon && st.Expect != nil {
			return "an abandoned delivery gets no answer, so there is nothing to expect; remove expect or abandon"
		}
		return ""
	}},
	{"signature/valid", func(st Step) string {
		if sig := st.Send.Signature; sig != nil && sig.Valid != "" && sig.Rotated == 0 {
			return "valid places the valid signature among rotated ones: add rotated: N"
		}
		return ""
	}},
	{"signature/valid", func(st Step) string {
		if sig := st.Send.Signature; sig != nil && sig.Valid == "middle" && sig.Rotated < 2 {
			return "a valid signature in the middle needs at least two others around it: rotated: 2"
		}
		return ""
	}},
	{"signature/offset", func(st Step) string {
		if sig := st.Send.Signature; sig != nil && sig.Offset != "" {
			if _, err := time.ParseDuration(sig.Offset); err != nil {
				return fmt.Sprintf("%q is not a duration: %v", sig.Offset, err)
			}
		}
		return ""
	}},
	{"body/size", func(st Step) string {
		body := st.Send.Body
		if body == nil || body.Size == "" {
			return ""
		}
		switch n, err := ParseSize(body.Size); {
		case err != nil:
			return err.Error()
		case n == 0:
			return "a body padded to 0 bytes is no body; use raw: \"\" for an empty one"
		case n > maxBodySize:
			return body.Size + " is more than the suite sends (64MiB)"
		}
		return ""
	}},
}

// checkBuild checks the build of a send step at sp.
func checkBuild(doc *document, sp string, each bool, b *Build) []problem {
	bp := sp + "/build"
	var out []problem
	if each && b.Type != "" {
		out = append(out, problemAt(doc, bp+"/type", "each: catalogue builds every type of the catalogue, so type %s would be ignored; remove it", b.Type))
	}
	if each && b.Unknown {
		out = append(out, problemAt(doc, bp+"/unknown", "each: catalogue builds the catalogue's types only, so unknown would be ignored; remove it"))
	}
	if b.Type != "" && !each {
		inCatalogue := schema.Default().IsEventType(b.Type)
		switch {
		case !b.Unknown && !inCatalogue:
			out = append(out, problemAt(doc, bp+"/type", "%s is not an event type of the catalogue (%s); add unknown: true to send a type from the future",
				b.Type, strings.Join(harness.EventTypes(), ", ")))
		case b.Unknown && inCatalogue:
			out = append(out, problemAt(doc, bp+"/unknown", "%s is in the catalogue; remove unknown: true", b.Type))
		}
	}
	if b.Results > 0 && (each || b.Type != harness.JobCompleted) {
		out = append(out, problemAt(doc, bp+"/results", "results are those of a job.completed event; other types have none"))
	}
	return out
}

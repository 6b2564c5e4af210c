package schema

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ValidationError says why a well-formed JSON document does not satisfy a
// schema: one Cause per failing location, leaf reasons only, so the message
// reads like a review comment rather than a dump of the validator's tree.
type ValidationError struct {
	// Schema is the name of the schema that rejected the document.
	Schema string
	// Causes lists each failing location with its reason, sorted by
	// location.
	Causes []Cause
}

// Cause is one reason a document fails a schema.
type Cause struct {
	// Location is the JSON pointer (RFC 6901) of the failing value; "" is the
	// whole document.
	Location string
	// Message says what is wrong there, e.g. "value must be 'completed'".
	Message string
}

// String renders the cause as "location: message", with "(root)" for the
// whole document.
func (c Cause) String() string {
	loc := c.Location
	if loc == "" {
		loc = "(root)"
	}
	return loc + ": " + c.Message
}

// Error renders the error on one line, e.g.
// "job.completed: /data/status: value must be 'completed'", causes separated
// by "; ".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Schema)
	b.WriteString(": ")
	for i, c := range e.Causes {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// printer renders the validator's messages; English is all the suite speaks.
var printer = message.NewPrinter(language.English)

// check validates v and converts the validator's error tree.
func check(name string, sch *jsonschema.Schema, v any) error {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("%s: %w", name, err)
	}
	out := &ValidationError{Schema: name}
	leaves(ve, &out.Causes)
	slices.SortFunc(out.Causes, func(a, b Cause) int {
		return cmp.Or(cmp.Compare(a.Location, b.Location), cmp.Compare(a.Message, b.Message))
	})
	out.Causes = slices.Compact(out.Causes)
	return out
}

// leaves appends the leaf causes of e. Alternatives (anyOf, oneOf) are kept
// as one cause at their location listing each alternative's reason, because
// their leaves read as if every alternative were required.
func leaves(e *jsonschema.ValidationError, out *[]Cause) {
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		if len(e.Causes) > 0 {
			var alts []Cause
			for _, c := range e.Causes {
				leaves(c, &alts)
			}
			loc := pointer(e.InstanceLocation)
			msgs := make([]string, len(alts))
			for i, a := range alts {
				msgs[i] = a.Message
				if a.Location != loc {
					msgs[i] = a.String()
				}
			}
			*out = append(*out, Cause{
				Location: loc,
				Message:  "matches no alternative: " + strings.Join(msgs, " | "),
			})
			return
		}
	}
	if len(e.Causes) == 0 {
		*out = append(*out, Cause{
			Location: pointer(e.InstanceLocation),
			Message:  e.ErrorKind.LocalizedString(printer),
		})
		return
	}
	for _, c := range e.Causes {
		leaves(c, out)
	}
}

// pointer renders instance location tokens as an RFC 6901 JSON pointer.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}

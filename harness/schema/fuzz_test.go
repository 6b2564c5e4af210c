package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzValidate checks arbitrary documents against each schema of the
// catalogue (a byte picks it), as hookcert validate, the sender and the
// probe client do with payloads, files and answers, seeded with every
// schema's example and malformed JSON. Properties: an error wraps
// errInvalidJSON for what is not one JSON document, or is a
// *ValidationError of that schema whose causes each have a message and a
// JSON pointer; a document accepted is one JSON value, and it is accepted
// again once re-encoded (numbers as written, keys sorted).
func FuzzValidate(f *testing.F) {
	c := Default()
	for i, name := range c.names {
		if ex, err := c.example(name); err == nil {
			f.Add(uint8(i), ex)
		}
		for _, s := range []string{``, `{}`, `null`, `{"a":1}{}`, `{"a":1e400}`, `{"a":"\ud800"}`, `[`, "\xff"} {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, doc []byte) {
		name := c.names[int(which)%len(c.names)]
		err := c.Validate(name, doc)
		if err != nil {
			var ve *ValidationError
			switch {
			case errors.Is(err, errInvalidJSON):
			case errors.As(err, &ve):
				if ve.Schema != name || len(ve.Causes) == 0 {
					t.Fatalf("%s: a validation error without causes: %v", name, err)
				}
				for _, cs := range ve.Causes {
					if cs.Message == "" || cs.Location != "" && !strings.HasPrefix(cs.Location, "/") {
						t.Fatalf("%s: malformed cause %+v", name, cs)
					}
				}
			default:
				t.Fatalf("%s: error %v is neither invalid JSON nor a validation error", name, err)
			}
			return
		}
		if !json.Valid(doc) {
			t.Fatalf("%s accepted %q, which is not JSON", name, doc)
		}
		v, err := decode(doc)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: an accepted document does not re-encode: %v", name, err)
		}
		if err := c.Validate(name, raw); err != nil {
			t.Fatalf("%s accepted %q but not its re-encoding %q: %v", name, doc, raw, err)
		}
	})
}

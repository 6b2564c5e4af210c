package scenario

import (
	"encoding/json"
	"errors"
	"io/fs"
	"testing"

	"github.com/realm-ai/hookcert/harness/schema"
	"github.com/realm-ai/hookcert/scenarios"
)

// FuzzParse feeds the parser arbitrary files, seeded with the built-in
// scenarios and the broken files of TestParseRejects. Properties: Parse
// never panics; a failure is a *fileError whose problems all have a
// message; a success re-encodes to JSON that the schema accepts and that
// parses again to the same scenario.
func FuzzParse(f *testing.F) {
	files, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := fs.ReadFile(scenarios.FS, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range brokenFiles {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var fe *fileError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *fileError: %v", err)
			}
			for _, p := range fe.Problems {
				if p.Message == "" || p.Line < 0 || p.Column < 0 {
					t.Fatalf("malformed problem %+v", p)
				}
			}
			return
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if err := schema.Default().Validate(schemaName, raw); err != nil {
			t.Fatalf("accepted scenario re-encodes to invalid JSON: %v\n%s", err, raw)
		}
		again, err := Parse("fuzz.json", raw)
		if err != nil {
			t.Fatalf("accepted scenario does not parse again: %v\n%s", err, raw)
		}
		raw2, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != string(raw2) {
			t.Fatalf("round trip changed the scenario:\n%s\n%s", raw, raw2)
		}
	})
}

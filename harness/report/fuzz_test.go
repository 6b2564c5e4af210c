package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness/report"
)

// runReports are report.json files that hookcert wrote: the sample, a
// conformance run of five checks against the reference receiver with
// skip-verify planted (failures, evidence, re-send commands) and a two
// second load with flaky planted (a load section with retries).
var runReports = []string{"sample.json", "conformance-run.json", "load-run.json"}

// FuzzReadReport reads arbitrary report.json files, as hookcert report,
// status and summary do, seeded with runReports and edge cases.
// Properties: a refusal says the file is not a report.json; a report read
// has an exit status hookcert status can exit with (0, 1 or 2), encodes to
// JSON that reads back to the same report, renders as HTML, well-formed
// JUnit XML and Markdown without an error, and merges with itself into a
// report that encodes and renders too.
func FuzzReadReport(f *testing.F) {
	for _, name := range runReports {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"suite":"hookcert","overall":"COMPLIANT"}`,
		`{"suite":"hookcert","overall":"COMPLIANT","exitCode":7}`,
		`{"suite":"hookcert","overall":"NOT CERTIFIED","exitCode":2,"complete":false,"results":null,"counts":null}`,
		`{"suite":"x","overall":"?","results":[{"id":"","verdict":"","evidence":[{"response":{"status":-1}}]}]}`,
		`{"suite":"x","overall":"PARTIAL","load":{"requests":-1,"histogram":[],"overTime":[{}],"latencies":{"p99":"-1s"}}}`,
		`{"suite":"x","overall":"PARTIAL","load":{"capacity":{},"retries":{"byAttempt":[{}]},"processed":{}}}`,
		`{"suite":"x","overall":"PARTIAL","started":"0000-01-01T00:00:00+01:00","duration":"-2562047h47m16.854775808s"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.Decode("fuzz/report.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "report: fuzz/report.json is not a report.json: ") {
				t.Fatalf("the refusal does not say the file is not a report: %v", err)
			}
			return
		}
		if r.ExitCode < 0 || r.ExitCode > 2 {
			t.Fatalf("read a report whose exit status is %d", r.ExitCode)
		}
		raw := checkRoundTrip(t, r)
		checkRenders(t, r)
		// As hookcert report does with each report it reads.
		r.Rebase("fuzz", "merged")
		merged, err := report.Merge(r, r)
		if err != nil {
			t.Fatalf("a report does not merge with itself: %v\n%s", err, raw)
		}
		checkRoundTrip(t, merged)
		checkRenders(t, merged)
	})
}

// checkRoundTrip asserts that r encodes to JSON that reads back to the same
// report, and returns that JSON.
func checkRoundTrip(t *testing.T, r *report.Report) []byte {
	t.Helper()
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("a report read does not encode: %v", err)
	}
	again, err := report.Decode("again.json", raw)
	if err != nil {
		t.Fatalf("a report read does not read back: %v\n%s", err, raw)
	}
	raw2, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, raw2) {
		t.Fatalf("round trip changed the report:\n%s\n%s", raw, raw2)
	}
	return raw
}

// checkRenders asserts that r renders as HTML, well-formed JUnit XML and
// Markdown.
func checkRenders(t *testing.T, r *report.Report) {
	t.Helper()
	if _, err := r.HTML(); err != nil {
		t.Fatalf("HTML: %v", err)
	}
	junit, err := r.JUnitXML()
	if err != nil {
		t.Fatalf("JUnit: %v", err)
	}
	dec := xml.NewDecoder(bytes.NewReader(junit))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("junit.xml is not well-formed XML: %v\n%s", err, junit)
		}
	}
	if md := r.Markdown("index.html"); !strings.HasSuffix(md, "\n") {
		t.Fatalf("the Markdown summary does not end its last line:\n%q", md)
	}
}

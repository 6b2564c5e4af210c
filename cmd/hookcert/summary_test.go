package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// TestSummaryPrintsMarkdown: summary prints the Markdown of a report and
// exits 0 whatever the verdict, for a directory and for a report.json,
// naming the HTML report beside it unless --html names another.
func TestSummaryPrintsMarkdown(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "reports")
	r := report.New("https://receiver.example.com/hooks", report.Settings{})
	r.Finish([]harness.Result{
		{ID: "SIG-01", Title: "Signed", Level: harness.Must, Category: "signature", Verdict: harness.Pass},
		{ID: "SIG-02", Title: "Tampered", Level: harness.Must, Category: "signature", Verdict: harness.Fail,
			Expected: "step 1, send a tampered body: a 4xx response", Observed: "step 1, send a tampered body: 202 Accepted | <b>ok</b>",
			Fix: "verify the signature over the raw body"},
	}, true, nil)
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	const pointer = "The full report, with the evidence of every check: "
	for _, tc := range []struct {
		why     string
		args    []string
		heading string
		rows    []string
		last    string
	}{
		{"a failing run's directory", []string{"summary", dir},
			"## ✗ NOT COMPLIANT: `https://receiver.example.com/hooks` (exit 1)",
			[]string{"| SIG-02 | MUST | Tampered | step 1, send a tampered body: a 4xx response | step 1, send a tampered body: 202 Accepted \\| \\<b\\>ok\\</b\\> | verify the signature over the raw body |"},
			pointer + "`" + filepath.Join(dir, report.HTMLFile) + "`"},
		{"a report.json, and --html naming the artifact", []string{"summary", "--html", "https://ci.example.com/artifacts/index.html", filepath.Join(dir, report.JSONFile)},
			"## ✗ NOT COMPLIANT: `https://receiver.example.com/hooks` (exit 1)", nil,
			pointer + "<https://ci.example.com/artifacts/index.html>"},
		{"the sample, a conformance and load run", []string{"summary", sampleReport},
			"## ✗ NOT COMPLIANT: `https://staging.example.com/hooks/realm` (exit 1)",
			[]string{"| rate | 50/s for 20s |", "| IDEM-02 | MUST | An identical redelivery is processed once |"},
			pointer + "`" + filepath.Join(filepath.Dir(sampleReport), report.HTMLFile) + "`"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			res := hookcert(t, "", nil, tc.args...)
			if res.code != 0 || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want exit 0 and nothing on stderr", res.code, res.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
			if lines[0] != tc.heading {
				t.Errorf("first line %q, want %q", lines[0], tc.heading)
			}
			for _, want := range tc.rows {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("the Markdown lacks %q:\n%s", want, res.stdout)
				}
			}
			if last := lines[len(lines)-1]; last != tc.last {
				t.Errorf("last line %q, want %q", last, tc.last)
			}
		})
	}
}

// TestSummaryRefusesWhatIsNotAReport: without a report to render,
// summary exits 2 saying why, and prints no Markdown a CI job would
// append to its summary.
func TestSummaryRefusesWhatIsNotAReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(vectorBody), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		why  string
		args []string
		want string
	}{
		{"a directory without a report: the run did not start", []string{"summary", filepath.Join(dir, "none")}, "no report at " + filepath.Join(dir, "none", report.JSONFile)},
		{"a file that is not JSON", []string{"summary", garbage}, "is not a report.json"},
		{"JSON that is not a report", []string{"summary", event}, "is not a report.json"},
		{"two reports: summary renders one", []string{"summary", dir, garbage}, "name one report directory"},
		{"an unknown flag", []string{"summary", "--out", dir}, "flag provided but not defined"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			res := hookcert(t, "", nil, tc.args...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 saying %q", res.code, res.stderr, tc.want)
			}
			if res.stdout != "" {
				t.Errorf("Markdown printed anyway: %q", res.stdout)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleReport is harness/report's fixed report: eleven checks of every
// verdict, four of them LOAD-*, and a load section.
const sampleReport = "../../harness/report/testdata/sample.json"

// splitSample writes the sample as the two runs it could have been
// merged from: conformance.json (no load) and load.json (LOAD-* and the
// load section), and returns their paths.
func splitSample(t *testing.T) (conf, load string) {
	t.Helper()
	b, err := os.ReadFile(sampleReport)
	if err != nil {
		t.Fatal(err)
	}
	var c, l map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(b, &l)
	var cr, lr []any
	for _, r := range c["results"].([]any) {
		if r.(map[string]any)["category"] == "load" {
			lr = append(lr, r)
		} else {
			cr = append(cr, r)
		}
	}
	c["results"], l["results"] = cr, lr
	delete(c, "load")
	dir := t.TempDir()
	conf, load = filepath.Join(dir, "conformance.json"), filepath.Join(dir, "load.json")
	for name, doc := range map[string]map[string]any{conf: c, load: l} {
		out, _ := json.Marshal(doc)
		if err := os.WriteFile(name, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return conf, load
}

func junitCases(t *testing.T, path string) (cases int, names []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	for _, s := range doc.Suites {
		names = append(names, s.Name)
		cases += len(s.Cases)
	}
	return cases, names
}

func TestReportRerendersAReport(t *testing.T) {
	out := t.TempDir()
	res := hookcert(t, "", nil, "report", "--from", sampleReport, "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0 once the files are written:\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"11 checks: 3 FAIL, 1 WARN, 1 SKIP, 4 PASS, 2 INFO", "verdict: NOT COMPLIANT (exit 1)", filepath.Join(out, "index.html")} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil || !strings.Contains(string(html), ">NOT COMPLIANT</h1>") {
		t.Fatalf("index.html was not rendered with the verdict: %v", err)
	}
	if cases, _ := junitCases(t, filepath.Join(out, "junit.xml")); cases != 11 {
		t.Errorf("junit.xml has %d test cases, want one per check (11)", cases)
	}
	if got := hookcert(t, "", nil, "status", out).code; got != 1 {
		t.Errorf("hookcert status on the re-rendered report exits %d, want 1", got)
	}
}

func TestReportMergesConformanceAndLoad(t *testing.T) {
	conf, load := splitSample(t)
	out := t.TempDir()
	// A directory works as --from too, as it does for status.
	if err := os.Rename(load, filepath.Join(filepath.Dir(load), "report.json")); err != nil {
		t.Fatal(err)
	}
	res := hookcert(t, "", nil, "report", "--from", conf, "--from", filepath.Dir(load), "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "11 checks: 3 FAIL, 1 WARN, 1 SKIP, 4 PASS, 2 INFO") {
		t.Errorf("the merged summary does not count both runs:\n%s", res.stdout)
	}
	cases, suites := junitCases(t, filepath.Join(out, "junit.xml"))
	if cases != 11 || !strings.Contains(strings.Join(suites, " "), "load") || !strings.Contains(strings.Join(suites, " "), "signature") {
		t.Errorf("merged junit.xml: %d cases in suites %v, want 11 in the conformance categories and load", cases, suites)
	}
	html, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(html), `id="load-histogram"`) {
		t.Error("the merged page has no load section")
	}
}

func TestReportRefusesWhatIsNotAReport(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "event.json")
	if err := os.WriteFile(other, []byte(vectorBody), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		why  string
		args []string
		want string
	}{
		{"no --from names nothing to render", []string{"report"}, "--from"},
		{"a missing file", []string{"report", "--from", filepath.Join(dir, "none.json")}, "no report at"},
		{"a file that is not JSON", []string{"report", "--from", garbage}, "is not a report.json"},
		{"JSON that is not a report", []string{"report", "--from", other}, "is not a report.json"},
		{"a positional argument instead of --from", []string{"report", sampleReport}, "--from"},
		{"an empty --out", []string{"report", "--from", sampleReport, "--out", ""}, "--out"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := tc.args
			if !strings.Contains(strings.Join(args, " "), "--out") {
				args = append(args, "--out", out)
			}
			res := hookcert(t, "", nil, args...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 saying %q", res.code, res.stderr, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, "index.html")); err == nil {
				t.Error("a report was written anyway")
			}
		})
	}
}

// TestReportMergesEveryReportUnderOnePath merges the directories under
// one path, as the README's Kubernetes merge does without a shell glob:
// each subdirectory holding a report.json is taken once, the output
// directory among them excepted, so a second merge gives the same
// report; --status exits with the merged verdict.
func TestReportMergesEveryReportUnderOnePath(t *testing.T) {
	conf, load := splitSample(t)
	root := t.TempDir()
	for name, src := range map[string]string{"gen-0": conf, "gen-1": load} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name, "report.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A directory without a report is passed over.
	if err := os.MkdirAll(filepath.Join(root, "lost+found"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "merged")
	for i := range 2 {
		res := hookcert(t, "", nil, "report", "--from", root, "--out", out)
		if res.code != 0 || !strings.Contains(res.stdout, "11 checks: 3 FAIL, 1 WARN, 1 SKIP, 4 PASS, 2 INFO") {
			t.Fatalf("merge %d: exit %d, want 0 and both reports' 11 checks once:\n%s%s", i+1, res.code, res.stdout, res.stderr)
		}
	}
	if res := hookcert(t, "", nil, "report", "--from", root, "--out", out, "--status"); res.code != 1 {
		t.Fatalf("--status: exit %d, want 1 (NOT COMPLIANT)\n%s", res.code, res.stderr)
	}
	if res := hookcert(t, "", nil, "report", "--from", filepath.Join(root, "lost+found"), "--out", out); res.code != 2 || !strings.Contains(res.stderr, "no report") {
		t.Fatalf("a directory with no report anywhere: exit %d, stderr %q; want 2 saying so", res.code, res.stderr)
	}
}

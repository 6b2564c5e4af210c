package junit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/suites/junit"
)

// update regenerates the golden file: go test ./suites/junit -update
var update = flag.Bool("update", false, "rewrite testdata/sample.golden.xml")

// sample is harness/report's fixed report: one check of every verdict and
// a load section.
func sample(t *testing.T) *report.Report {
	t.Helper()
	r, err := report.Read("../../harness/report/testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func write(t *testing.T, r *report.Report) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), report.JUnitFile)
	if err := junit.Write(r, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGolden(t *testing.T) {
	got, err := os.ReadFile(write(t, sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/sample.golden.xml"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < min(len(gl), len(wl)); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("junit.xml differs from the golden file at line %d:\n got: %.300s\nwant: %.300s\n(go test -update rewrites it if intended)", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("junit.xml has %d lines, the golden file %d (go test -update rewrites it if intended)", len(gl), len(wl))
	}
}

func TestSuitesMapChecksToSpecs(t *testing.T) {
	r := sample(t)
	suites := junit.Suites(r)
	var names []string
	for _, s := range suites {
		names = append(names, s.SuiteDescription)
	}
	if got, want := strings.Join(names, " "), "signature idempotency ordering retry robustness tls load"; got != want {
		t.Errorf("suites %q, want one per category in report order %q", got, want)
	}
	states := map[harness.Verdict]types.SpecState{
		harness.Pass: types.SpecStatePassed, harness.Warn: types.SpecStatePassed, harness.InfoVerdict: types.SpecStatePassed,
		harness.Fail: types.SpecStateFailed, harness.Skip: types.SpecStateSkipped,
	}
	n := 0
	for _, s := range suites {
		for _, sp := range s.SpecReports {
			n++
			id, _, _ := strings.Cut(sp.LeafNodeText, ": ")
			res := r.Result(id)
			if res == nil || sp.LeafNodeText != res.ID+": "+res.Title || res.Category != s.SuiteDescription {
				t.Errorf("spec %q in suite %s does not match a check of that category", sp.LeafNodeText, s.SuiteDescription)
				continue
			}
			if sp.State != states[res.Verdict] {
				t.Errorf("%s (%s) became %s, want %s", res.ID, res.Verdict, sp.State, states[res.Verdict])
			}
			if sp.LeafNodeType != types.NodeTypeIt || len(sp.Labels()) > 0 {
				t.Errorf("%s: a plain It without labels, so the name is only %q", res.ID, sp.LeafNodeText)
			}
		}
	}
	if n != len(r.Results) {
		t.Errorf("%d specs for %d checks", n, len(r.Results))
	}
}

// consumed is what testdata/junit_counts.py read from a junit.xml.
type consumed struct {
	Declared struct{ Tests, Failures, Errors, Disabled int }
	Tests    int
	Failures int
	Errors   int
	Skipped  int
	Passed   int
	Suites   []struct {
		Name                             string
		Tests, Failures, Skipped, Errors int
		Cases                            []struct {
			Name, Classname, Status, Outcome, Message, Body string
			SystemOut                                       string `json:"systemOut"`
		}
	}
}

// consume reads a junit.xml with an independent consumer: Python's
// standard XML parser, none of our Go code.
func consume(t *testing.T, path string) consumed {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		missingTool(t, "python3 is not installed: the independent JUnit consumer needs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/junit_counts.py", path)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("the Python consumer could not read %s: %v\n%s", path, err, errb.String())
	}
	var c consumed
	if err := json.Unmarshal(out.Bytes(), &c); err != nil {
		t.Fatalf("the Python consumer printed %q: %v", out.String(), err)
	}
	return c
}

// xmllint validates a junit.xml against testdata/junit.xsd.
func xmllint(t *testing.T, path string) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		missingTool(t, "xmllint is not installed (apt-get install libxml2-utils; .ci/run installs it)")
	}
	out, err := exec.Command(bin, "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput()
	if err != nil {
		t.Fatalf("junit.xml does not validate against testdata/junit.xsd: %v\n%s", err, out)
	}
}

var summaryRE = regexp.MustCompile(`(?m)^(\d+) checks: (\d+) FAIL, (\d+) WARN, (\d+) SKIP, (\d+) PASS, (\d+) INFO$`)

// sameCounts checks that a consumer of junit.xml counts what the console
// summary prints: every check a test case, FAIL as failures, SKIP as
// skipped, PASS, WARN and INFO as passed; a run's own error as one error.
func sameCounts(t *testing.T, r *report.Report, c consumed) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(r.Summary())
	if m == nil {
		t.Fatalf("no count line in the summary:\n%s", r.Summary())
	}
	n := make([]int, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.Atoi(m[i])
	}
	checks, fail, warn, skip, pass, info := n[1], n[2], n[3], n[4], n[5], n[6]
	runErrors := 0
	if r.Error != "" {
		runErrors = 1
	}
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"test cases", c.Tests, checks + runErrors},
		{"failures", c.Failures, fail},
		{"skipped", c.Skipped, skip},
		{"passed", c.Passed, pass + warn + info},
		{"errors", c.Errors, runErrors},
		{"declared tests", c.Declared.Tests, c.Tests},
		{"declared failures", c.Declared.Failures, c.Failures},
		{"declared errors", c.Declared.Errors, c.Errors},
	} {
		if c.got != c.want {
			t.Errorf("%s: the consumer counts %d, the console summary says %d", c.what, c.got, c.want)
		}
	}
}

func TestSampleIsReadByAnIndependentConsumer(t *testing.T) {
	r := sample(t)
	path := write(t, r)
	xmllint(t, path)
	c := consume(t, path)
	sameCounts(t, r, c)
	seen := 0
	for _, s := range c.Suites {
		for _, tc := range s.Cases {
			seen++
			id, _, _ := strings.Cut(tc.Name, ": ")
			res := r.Result(id)
			if res == nil {
				t.Errorf("test case %q is not a check", tc.Name)
				continue
			}
			if tc.Name != res.ID+": "+res.Title || tc.Classname != res.Category || s.Name != res.Category {
				t.Errorf("test case %q (class %s, suite %s), want %q in suite %s", tc.Name, tc.Classname, s.Name, res.ID+": "+res.Title, res.Category)
			}
			switch res.Verdict {
			case harness.Fail:
				for _, want := range []string{"expected:", "observed:", strings.Split(res.Observed, "\n")[0]} {
					if !strings.Contains(tc.Message, want) {
						t.Errorf("%s: the failure message lacks %q", res.ID, want)
					}
				}
				if len(res.Evidence) > 0 && (!strings.Contains(tc.Body, "Evidence of "+res.ID) || !strings.Contains(tc.Body, res.Evidence[0].Request.URL)) {
					t.Errorf("%s: the failure body lacks the evidence:\n%s", res.ID, tc.Body)
				}
			case harness.Skip:
				if tc.Outcome != "skipped" || !strings.Contains(tc.Message, res.Reason) {
					t.Errorf("%s: %s %q, want skipped with its reason", res.ID, tc.Outcome, tc.Message)
				}
			case harness.Warn:
				if tc.Outcome != "passed" || !strings.Contains(tc.SystemOut, "warning") || !strings.Contains(tc.SystemOut, res.Observed) {
					t.Errorf("%s: %s, want passed with the warning and the observation in system-out", res.ID, tc.Outcome)
				}
			default:
				if tc.Outcome != "passed" {
					t.Errorf("%s (%s): %s, want passed", res.ID, res.Verdict, tc.Outcome)
				}
				if len(res.Evidence) > 0 && !strings.Contains(tc.SystemOut, "evidence (") {
					t.Errorf("%s: system-out lacks the evidence", res.ID)
				}
			}
		}
	}
	if seen != len(r.Results) {
		t.Errorf("the consumer read %d test cases for %d checks", seen, len(r.Results))
	}
}

func TestRunThatCouldNotBeMade(t *testing.T) {
	r := report.New("https://unreachable.example/hook", report.Settings{})
	r.Finish(nil, false, errors.New("the run could not be made: the target is unreachable"))
	path := write(t, r)
	xmllint(t, path)
	c := consume(t, path)
	sameCounts(t, r, c)
	if len(c.Suites) != 1 || len(c.Suites[0].Cases) != 1 {
		t.Fatalf("want one suite with one test case saying why, got %+v", c.Suites)
	}
	tc := c.Suites[0].Cases[0]
	if tc.Name != "hookcert: the run could not be made" || tc.Outcome != "error" || !strings.Contains(tc.Message, "unreachable") {
		t.Errorf("test case %q %s %q, want an error saying the target is unreachable", tc.Name, tc.Outcome, tc.Message)
	}
}

func TestEmptySelection(t *testing.T) {
	// LABELS that select nothing: a valid junit.xml with no test case.
	r := report.New("https://example.com/hook", report.Settings{Labels: "nothing"})
	r.Finish(nil, true, nil)
	path := write(t, r)
	xmllint(t, path)
	if c := consume(t, path); c.Tests != 0 {
		t.Errorf("%d test cases for no checks", c.Tests)
	}
}

func TestWriteLeavesNothingBehind(t *testing.T) {
	path := write(t, sample(t))
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %v, want junit.xml only", names)
	}
	if err := junit.Write(sample(t), filepath.Join(path, "cannot", report.JUnitFile)); err == nil {
		t.Error("writing below a file succeeded")
	}
}

// TestNoSecretInAnyReportFile certifies the reference receiver with a
// known secret and probe token, correct and with the faults that touch signatures, and
// once against a target that cannot be reached, writes every report file
// the way the conformance suite and `hookcert report` do, and checks that
// no file holds the secret or the token, or any 12-character piece of
// them. Each run's
// junit.xml is also validated and read by the independent consumer.
func TestNoSecretInAnyReportFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the catalogue against the reference receiver several times")
	}
	const (
		secret = harness.Secret("whsec_5ecret_that_must_never_leak_0123456789abcdef")
		token  = harness.Secret("probe_token_that_must_never_leak_too_42")
	)
	for _, tc := range []struct {
		why    string
		faults []receiver.Fault
		url    string
	}{
		{"a compliant receiver", nil, ""},
		{"a receiver that echoes the expected signature", []receiver.Fault{receiver.FaultLeakSignature}, ""},
		{"a receiver that verifies nothing", []receiver.Fault{receiver.FaultSkipVerify}, ""},
		{"a receiver that processes duplicates", []receiver.Fault{receiver.FaultDoubleProcess}, ""},
		{"a target that cannot be reached", nil, "http://127.0.0.1:1/webhook"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			dir := t.TempDir()
			s, err := certify.Prepare(ctx, certify.Options{URL: tc.url, Secret: secret, ProbeToken: token, Faults: tc.faults, ReportDir: dir})
			var results []harness.Result
			if err == nil {
				results = s.Run(ctx, s.Scenarios)
			}
			if ferr := s.Finish(results, err == nil, err); ferr != nil {
				t.Fatal(ferr)
			}
			s.Close()
			jx := filepath.Join(dir, report.JUnitFile)
			if err := junit.Write(s.Report, jx); err != nil {
				t.Fatal(err)
			}
			// Rendered again from report.json, as `hookcert report` does.
			again, err := report.Read(filepath.Join(dir, report.JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := again.Write(filepath.Join(dir, "again")); err != nil {
				t.Fatal(err)
			}
			if err := junit.Write(again, filepath.Join(dir, "again", report.JUnitFile)); err != nil {
				t.Fatal(err)
			}
			assertNoSecret(t, dir, secret.Reveal())
			assertNoSecret(t, dir, token.Reveal())
			xmllint(t, jx)
			sameCounts(t, s.Report, consume(t, jx))
		})
	}
}

func assertNoSecret(t *testing.T, dir, secret string) {
	t.Helper()
	const piece = 12
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i := 0; i+piece <= len(secret); i++ {
			if bytes.Contains(b, []byte(secret[i:i+piece])) {
				t.Errorf("%s holds %q, a piece of the secret", path, secret[i:i+piece])
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 6 {
		t.Errorf("only %d report files were written; want report.json, index.html and junit.xml twice", files)
	}
}

// missingTool skips a test whose external tool is not installed, or fails
// it where .ci/run installed the tools and says so with
// HOOKCERT_REQUIRE_TOOLS=1, so CI cannot go green on a skipped check.
func missingTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("HOOKCERT_REQUIRE_TOOLS") != "" {
		t.Fatal(msg + " (HOOKCERT_REQUIRE_TOOLS is set)")
	}
	t.Skip(msg)
}

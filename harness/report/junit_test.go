package report_test

// Tests of junit.xml, as Write writes it. They are in the external test
// package because TestNoSecretInAnyReportFile makes real runs through
// harness/certify and harness/receiver, which import this package.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
)

// writeJUnit writes the report's files into a new directory, as every
// caller does, and returns the path of its junit.xml.
func writeJUnit(t *testing.T, r *report.Report) string {
	t.Helper()
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, report.JUnitFile)
}

// TestJUnitGolden compares the sample's junit.xml byte for byte with
// testdata/sample.golden.xml (go test ./harness/report -update rewrites it).
func TestJUnitGolden(t *testing.T) {
	got, err := os.ReadFile(writeJUnit(t, sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.golden.xml", got)
}

// parsed is a junit.xml as encoding/xml reads it back, for the checks of
// the mapping; the independent consumer below reads it without Go.
type parsed struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Disabled int      `xml:"disabled,attr"`
	Errors   int      `xml:"errors,attr"`
	Failures int      `xml:"failures,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name       string    `xml:"name,attr"`
		Package    string    `xml:"package,attr"`
		Tests      int       `xml:"tests,attr"`
		Disabled   int       `xml:"disabled,attr"`
		Skipped    int       `xml:"skipped,attr"`
		Errors     int       `xml:"errors,attr"`
		Failures   int       `xml:"failures,attr"`
		Time       string    `xml:"time,attr"`
		Timestamp  string    `xml:"timestamp,attr"`
		Properties *struct{} `xml:"properties"`
		Cases      []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Status    string `xml:"status,attr"`
			Time      string `xml:"time,attr"`
			Skipped   *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Error     *problem `xml:"error"`
			Failure   *problem `xml:"failure"`
			SystemOut string   `xml:"system-out"`
			Props     []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

func parse(t *testing.T, path string) parsed {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p parsed
	if err := xml.Unmarshal(b, &p); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	return p
}

// decimalRE is a time as CI viewers read it: plain seconds to the
// millisecond, never 6.21e-06.
var decimalRE = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,3})?$`)

// millis reads a time attribute, failing on anything but a plain decimal.
func millis(t *testing.T, what, s string) int64 {
	t.Helper()
	if !decimalRE.MatchString(s) {
		t.Fatalf("%s: time %q is not plain seconds to the millisecond", what, s)
	}
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "000")[:3], 10, 64)
	return w*1000 + f
}

// TestJUnitMapsChecksToTestCases checks the mapping on the sample: one
// suite per category in report order, one test case per check named
// "ID: title" alone (no node type, no labels), each verdict's status and
// element, the verdict and level as properties, and totals and times that
// add up.
func TestJUnitMapsChecksToTestCases(t *testing.T) {
	r := sample(t)
	p := parse(t, writeJUnit(t, r))
	var names []string
	for _, s := range p.Suites {
		names = append(names, s.Name)
	}
	if got, want := strings.Join(names, " "), "signature idempotency ordering retry robustness tls load"; got != want {
		t.Errorf("suites %q, want one per category in report order %q", got, want)
	}
	states := map[harness.Verdict]string{
		harness.Pass: "passed", harness.Warn: "passed", harness.InfoVerdict: "passed",
		harness.Fail: "failed", harness.Skip: "skipped",
	}
	stamp := r.Started.UTC().Format("2006-01-02T15:04:05")
	n := 0
	var tests, disabled, failures, errs int
	var total int64
	for _, s := range p.Suites {
		if s.Package != r.Target || s.Timestamp != stamp || s.Disabled != 0 {
			t.Errorf("suite %s: package %q, timestamp %q, disabled %d; want %q, %q, 0", s.Name, s.Package, s.Timestamp, s.Disabled, r.Target, stamp)
		}
		if s.Properties != nil {
			t.Errorf("suite %s has properties: Ginkgo's suite configuration is no longer written", s.Name)
		}
		var failed, skipped, errored int
		var sum int64
		for _, c := range s.Cases {
			n++
			sum += millis(t, c.Name, c.Time)
			id, _, _ := strings.Cut(c.Name, ": ")
			res := r.Result(id)
			if res == nil || c.Name != res.ID+": "+res.Title || res.Category != s.Name || c.Classname != s.Name {
				t.Errorf("test case %q (class %s) in suite %s does not match a check of that category", c.Name, c.Classname, s.Name)
				continue
			}
			if c.Status != states[res.Verdict] {
				t.Errorf("%s (%s) became %s, want %s", res.ID, res.Verdict, c.Status, states[res.Verdict])
			}
			if got, want := millis(t, c.Name, c.Time), res.Duration.Round(time.Millisecond).Milliseconds(); got != want {
				t.Errorf("%s: time %s, want its duration %s to the millisecond", res.ID, c.Time, res.Duration)
			}
			if c.Failure != nil {
				failed++
			}
			if c.Skipped != nil {
				skipped++
			}
			if c.Error != nil {
				errored++
			}
			wantFailure, wantSkipped := res.Verdict == harness.Fail, res.Verdict == harness.Skip
			if (c.Failure != nil) != wantFailure || (c.Skipped != nil) != wantSkipped || c.Error != nil {
				t.Errorf("%s (%s): failure %v, skipped %v, error %v", res.ID, res.Verdict, c.Failure != nil, c.Skipped != nil, c.Error != nil)
			}
			if c.Failure != nil && (c.Failure.Type != "failed" || c.Failure.Message != report.Failure(*res) || !strings.HasPrefix(c.Failure.Body, c.Failure.Message)) {
				t.Errorf("%s: failure type %q, message %q; want type failed, the check's failure message, and a body that starts with it", res.ID, c.Failure.Type, c.Failure.Message)
			}
			if c.Skipped != nil && c.Skipped.Message != "skipped - "+res.Reason {
				t.Errorf("%s: skipped %q, want %q", res.ID, c.Skipped.Message, "skipped - "+res.Reason)
			}
			props := map[string]string{}
			for _, pr := range c.Props {
				props[pr.Name] = pr.Value
			}
			if want := map[string]string{"verdict": strconv.Quote(string(res.Verdict)), "level": strconv.Quote(string(res.Level))}; len(props) != 2 || props["verdict"] != want["verdict"] || props["level"] != want["level"] {
				t.Errorf("%s: properties %v, want %v", res.ID, props, want)
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != failed || s.Skipped != skipped || s.Errors != errored {
			t.Errorf("suite %s declares %d tests, %d failures, %d skipped, %d errors; it holds %d, %d, %d, %d",
				s.Name, s.Tests, s.Failures, s.Skipped, s.Errors, len(s.Cases), failed, skipped, errored)
		}
		if got := millis(t, s.Name, s.Time); got != sum {
			t.Errorf("suite %s: time %s, want the sum of its test cases' (%d ms)", s.Name, s.Time, sum)
		}
		tests += s.Tests
		disabled += s.Disabled + s.Skipped
		failures += s.Failures
		errs += s.Errors
		total += sum
	}
	if n != len(r.Results) {
		t.Errorf("%d test cases for %d checks", n, len(r.Results))
	}
	if p.Tests != tests || p.Disabled != disabled || p.Failures != failures || p.Errors != errs || millis(t, "testsuites", p.Time) != total {
		t.Errorf("testsuites declares %d tests, %d disabled, %d failures, %d errors, time %s; the suites add up to %d, %d, %d, %d, %d ms",
			p.Tests, p.Disabled, p.Failures, p.Errors, p.Time, tests, disabled, failures, errs, total)
	}
}

// TestJUnitSaysHowToFix: a failure's message, which a CI viewer shows
// first, ends with how to fix it, its README reference written as the
// GitHub URL that viewers make a link; a warning passes with it in
// system-out; a passing or skipped check has nothing to fix and says none.
func TestJUnitSaysHowToFix(t *testing.T) {
	r := sample(t)
	p := parse(t, writeJUnit(t, r))
	for _, s := range p.Suites {
		for _, c := range s.Cases {
			id, _, _ := strings.Cut(c.Name, ": ")
			res := r.Result(id)
			if res == nil || res.Fix == "" {
				continue
			}
			want := "fix: " + strings.Replace(res.Fix, "README.md#", readmeURL+"#", 1) + "\n"
			switch res.Verdict {
			case harness.Fail:
				if c.Failure == nil || !strings.HasSuffix(c.Failure.Message, want) || !strings.Contains(c.Failure.Body, want) {
					t.Errorf("%s: the failure does not end with %q: %+v", id, want, c.Failure)
				}
			case harness.Warn:
				if !strings.Contains(c.SystemOut, want) {
					t.Errorf("%s: the warning's system-out lacks %q:\n%s", id, want, c.SystemOut)
				}
			default:
				if strings.Contains(c.SystemOut, "fix:") {
					t.Errorf("%s (%s) says how to fix it, with nothing to fix:\n%s", id, res.Verdict, c.SystemOut)
				}
			}
		}
	}
}

// TestJUnitTimesArePlainDecimals writes checks that took microseconds,
// which encoding/xml would write as 6.21e-06, and more than a day.
func TestJUnitTimesArePlainDecimals(t *testing.T) {
	r := report.New("https://example.com/hook", report.Settings{})
	durations := []time.Duration{6210 * time.Nanosecond, 499 * time.Microsecond, 500 * time.Microsecond, 1_010_400 * time.Microsecond, 26 * time.Hour, -time.Second}
	var results []harness.Result
	for i, d := range durations {
		results = append(results, harness.Result{ID: "T-0" + strconv.Itoa(i+1), Title: "t", Category: "signature", Verdict: harness.Pass, Level: harness.Must, Duration: d})
	}
	r.Finish(results, true, nil)
	path := writeJUnit(t, r)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0", "0", "0.001", "1.01", "93600", "0"}
	var got []string
	for _, m := range regexp.MustCompile(`<testcase [^>]*time="([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, want) {
		t.Errorf("test case times %q, want %q", got, want)
	}
	if m := regexp.MustCompile(`<testsuites [^>]*time="([^"]*)"`).FindStringSubmatch(string(b)); m == nil || m[1] != "93601.011" {
		t.Errorf("testsuites time %v, want 93601.011", m)
	}
	xmllint(t, path)
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

var summaryRE = regexp.MustCompile(`(?m)^(\d+) checks: (\d+) FAIL, (?:(\d+) AFFECTED, )?(\d+) WARN, (\d+) SKIP, (\d+) PASS, (\d+) INFO$`)

// sameCounts checks that a consumer of junit.xml counts what the console
// summary prints: every check a test case, FAIL as failures, SKIP and
// AFFECTED as skipped, PASS, WARN and INFO as passed; a run's own error as
// one error.
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
	checks, fail, affected, warn, skip, pass, info := n[1], n[2], n[3], n[4], n[5], n[6], n[7]
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
		{"skipped", c.Skipped, skip + affected},
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

func TestJUnitSampleIsReadByAnIndependentConsumer(t *testing.T) {
	r := sample(t)
	path := writeJUnit(t, r)
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

func TestJUnitRunThatCouldNotBeMade(t *testing.T) {
	r := report.New("https://unreachable.example/hook", report.Settings{})
	r.Finish(nil, false, errors.New("the run could not be made: the target is unreachable"))
	path := writeJUnit(t, r)
	xmllint(t, path)
	c := consume(t, path)
	sameCounts(t, r, c)
	if len(c.Suites) != 1 || len(c.Suites[0].Cases) != 1 || c.Suites[0].Name != "hookcert" {
		t.Fatalf("want one suite hookcert with one test case saying why, got %+v", c.Suites)
	}
	tc := c.Suites[0].Cases[0]
	if tc.Name != "hookcert: the run could not be made" || tc.Classname != "hookcert" || tc.Status != "interrupted" || tc.Outcome != "error" || !strings.Contains(tc.Message, "unreachable") || !strings.Contains(tc.Body, "unreachable") {
		t.Errorf("test case %q (class %s, status %s) %s %q, want an error saying the target is unreachable", tc.Name, tc.Classname, tc.Status, tc.Outcome, tc.Message)
	}
	if !strings.Contains(tc.SystemOut, "NOT CERTIFIED (exit 2)") {
		t.Errorf("system-out %q, want the verdict and exit status", tc.SystemOut)
	}
}

// TestJUnitRunThatStopped: a run cut short keeps the checks that ran and
// adds the run's error after the categories, with special characters
// escaped.
func TestJUnitRunThatStopped(t *testing.T) {
	r := sample(t)
	r.Complete = false
	r.Error = `stopped <early> & "badly"`
	r.Conclude()
	path := writeJUnit(t, r)
	xmllint(t, path)
	c := consume(t, path)
	sameCounts(t, r, c)
	last := c.Suites[len(c.Suites)-1]
	if len(c.Suites) != 8 || last.Name != "hookcert" || len(last.Cases) != 1 {
		t.Fatalf("want the 7 categories and then the suite hookcert, got %d suites ending with %q", len(c.Suites), last.Name)
	}
	if tc := last.Cases[0]; tc.Name != "hookcert: the run stopped before every check ran" || tc.Outcome != "error" || tc.Message != r.Error {
		t.Errorf("test case %q %s %q, want an error with the run's error", tc.Name, tc.Outcome, tc.Message)
	}
}

func TestJUnitEmptySelection(t *testing.T) {
	// LABELS that select nothing: a valid junit.xml with no test case.
	r := report.New("https://example.com/hook", report.Settings{Labels: "nothing"})
	r.Finish(nil, true, nil)
	path := writeJUnit(t, r)
	xmllint(t, path)
	if c := consume(t, path); c.Tests != 0 || len(c.Suites) != 0 {
		t.Errorf("%d test cases in %d suites for no checks", c.Tests, len(c.Suites))
	}
}

// TestWriteWritesJUnitAndLeavesNothingBehind: Write writes junit.xml with
// the other files, replaces an older one, and leaves no temporary file,
// even when it cannot write.
func TestWriteWritesJUnitAndLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	if err := sample(t).Write(dir); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	if got, want := list(), []string{report.HTMLFile, report.JUnitFile, report.JSONFile}; !slices.Equal(got, want) {
		t.Errorf("the directory holds %v, want %v", got, want)
	}
	unreachable := report.New("https://unreachable.example/hook", report.Settings{})
	unreachable.Finish(nil, false, errors.New("the target is unreachable"))
	if err := unreachable.Write(dir); err != nil {
		t.Fatal(err)
	}
	if c := consume(t, filepath.Join(dir, report.JUnitFile)); c.Tests != 1 || c.Errors != 1 {
		t.Errorf("junit.xml was not replaced: %d test cases, %d errors, want the unreachable run's one error", c.Tests, c.Errors)
	}

	// junit.xml cannot be replaced when a directory with something in it
	// stands in its place.
	if err := os.Remove(filepath.Join(dir, report.JUnitFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, report.JUnitFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := sample(t).Write(dir)
	if err == nil || !strings.HasPrefix(err.Error(), "report: ") {
		t.Errorf("writing junit.xml over a directory: %v, want an error starting report:", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	file := filepath.Join(dir, report.JSONFile)
	if err := sample(t).Write(filepath.Join(file, "cannot")); err == nil {
		t.Error("writing below a file succeeded")
	}
}

// TestNoSecretInAnyReportFile certifies the reference receiver with a
// known secret and probe token, correct and with the faults that touch
// signatures, and once against a target that cannot be reached, writes
// every report file the way the conformance suite and `hookcert report`
// do, and checks that no file holds the secret or the token, or any
// 12-character piece of them. Each run's junit.xml is also validated and
// read by the independent consumer.
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
		// The planted-fault proof (harness/certify) checks every fault's
		// three report files for its generated secret; these rows add a
		// probe token, a re-rendering from report.json and the JUnit
		// consumers, for a receiver that echoes what it should not and
		// for a run that could not be made.
		{"a compliant receiver", nil, ""},
		{"a receiver that echoes the expected signature", []receiver.Fault{receiver.Fault("leak-signature")}, ""},
		{"a target that cannot be reached", nil, "http://127.0.0.1:1/webhook"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			dir := t.TempDir()
			// A whole run writes report.json, index.html and junit.xml, also
			// when it cannot be made.
			s, err := certify.Conformance(ctx, certify.Settings{URL: tc.url, Secret: secret, ProbeToken: token, Faults: tc.faults, ReportDir: dir, Timing: harness.CompressedTiming()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			writeAgain(t, dir)
			assertNoSecret(t, dir, secret.Reveal())
			assertNoSecret(t, dir, token.Reveal())
			for _, jx := range []string{filepath.Join(dir, report.JUnitFile), filepath.Join(dir, "again", report.JUnitFile)} {
				xmllint(t, jx)
				sameCounts(t, s.Report, consume(t, jx))
			}
		})
	}
}

// writeAgain renders the report written in dir again from its
// report.json, as `hookcert report` does, into dir/again, where
// assertNoSecret looks too.
func writeAgain(t *testing.T, dir string) {
	t.Helper()
	again, err := report.Read(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Write(filepath.Join(dir, "again")); err != nil {
		t.Fatal(err)
	}
}

func assertNoSecret(t *testing.T, dir, secret string) {
	t.Helper()
	const piece = 12
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files = append(files, path)
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
	for _, d := range []string{dir, filepath.Join(dir, "again")} {
		for _, f := range []string{report.JSONFile, report.HTMLFile, report.JUnitFile} {
			if !slices.Contains(files, filepath.Join(d, f)) {
				t.Errorf("%s was not written; want report.json, index.html and junit.xml twice, got %v", filepath.Join(d, f), files)
			}
		}
	}
}

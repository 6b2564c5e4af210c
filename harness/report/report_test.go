package report_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/schema"
)

func TestFinish(t *testing.T) {
	pass := harness.Result{ID: "SIG-01", Verdict: harness.Pass}
	fail := harness.Result{ID: "SIG-02", Verdict: harness.Fail}
	skip := harness.Result{ID: "SIG-03", Verdict: harness.Skip}
	na := harness.Result{ID: "SIG-06", Verdict: harness.NotApplicable, Reason: "the github scheme has no timestamp"}
	for _, tc := range []struct {
		why      string
		results  []harness.Result
		complete bool
		err      error
		overall  harness.Overall
		exit     int
	}{
		{"every check passed", []harness.Result{pass}, true, nil, harness.Compliant, 0},
		{"a skipped check is partial but still exits 0", []harness.Result{pass, skip}, true, nil, harness.Partial, 0},
		{"a check the scheme cannot express is neither a failure nor partial", []harness.Result{pass, na}, true, nil, harness.Compliant, 0},
		{"a failed check fails the run", []harness.Result{pass, fail}, true, nil, harness.NotCompliant, 1},
		{"an interrupted run cannot certify", []harness.Result{pass}, false, nil, harness.NotCertified, 2},
		{"a run that could not be made is not certified", nil, false, errors.New("unreachable"), harness.NotCertified, 2},
		{"a failure found before the error stands: not compliant", []harness.Result{fail}, false, errors.New("interrupted"), harness.NotCompliant, 1},
	} {
		t.Run(tc.why, func(t *testing.T) {
			r := report.New("https://example.com", report.Settings{})
			r.Finish(tc.results, tc.complete, tc.err)
			if r.Overall != tc.overall || r.ExitCode != tc.exit {
				t.Errorf("overall %s exit %d, want %s exit %d", r.Overall, r.ExitCode, tc.overall, tc.exit)
			}
			if r.ExitCode == 2 && r.Error == "" {
				t.Errorf("exit 2 without saying why")
			}
			// Judging the written report again (merge, re-render) gives
			// the same verdict.
			again := *r
			again.Conclude()
			if again.Overall != r.Overall || again.ExitCode != r.ExitCode {
				t.Errorf("judged again: %s exit %d, first %s exit %d", again.Overall, again.ExitCode, r.Overall, r.ExitCode)
			}
			if r.Results == nil {
				t.Error("results are null in report.json; want an empty list")
			}
		})
	}
}

func TestTargetNeverHoldsCredentials(t *testing.T) {
	r := report.New("https://alice:hunter2@staging.example.com/hooks", report.Settings{})
	if strings.Contains(r.Target, "hunter2") {
		t.Fatalf("target %q holds the password", r.Target)
	}
	if report.Redact("not a url at all") != "not a url at all" {
		t.Fatal("Redact changed text that is not a URL with credentials")
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		why  string
		path string
		want string
	}{
		{"a missing file means the run never started", filepath.Join(dir, "none.json"), "no report"},
		{"garbage is not a report", write("garbage.json", "<html>"), "is not a report.json"},
		{"JSON of something else is not a report", write("other.json", `{"eventId":"evt_1"}`), "no suite or overall verdict"},
		{"hookcert status exits with the exit status read, so it is 0, 1 or 2", write("exit.json", `{"suite":"hookcert","overall":"COMPLIANT","exitCode":7}`), "exitCode 7 is not 0, 1 or 2"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			_, err := report.Read(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := report.Read(filepath.Join(dir, "none.json")); !errors.Is(err, report.ErrNoReport) {
		t.Errorf("a missing file: %v, want ErrNoReport so status can say the run did not start", err)
	}
}

func TestWriteRoundTrips(t *testing.T) {
	r := sample(t)
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := report.Read(filepath.Join(dir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Error("report.json does not read back to the same report")
	}
	if _, err := os.Stat(filepath.Join(dir, report.HTMLFile)); err != nil {
		t.Error("Write did not write index.html")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestReportMatchesItsSchema(t *testing.T) {
	cat := schema.Default()
	if !cat.Has("report") {
		t.Fatal("schemas/report.schema.json is not in the catalogue")
	}
	dir := t.TempDir()
	unreachable := report.New("", report.Settings{})
	unreachable.Finish(nil, false, errors.New("the target is unreachable"))
	for _, tc := range []struct {
		why string
		r   *report.Report
	}{
		{"the sample has every verdict, every kind of exchange and a load section", sample(t)},
		{"a load section with retry figures and a capacity search", withRetries(t)},
		{"an exchange says how its body was written", withUpload(t)},
		{"a run that could not be made has no settings and no results", unreachable},
	} {
		t.Run(tc.why, func(t *testing.T) {
			if err := tc.r.Write(dir); err != nil {
				t.Fatal(err)
			}
			doc, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := cat.Validate("report", doc); err != nil {
				t.Fatalf("report.json does not match its schema: %v", err)
			}
		})
	}
	t.Run("the schema rejects what is not a report", func(t *testing.T) {
		r := sample(t)
		r.Results[0].Verdict = "MAYBE"
		doc, _ := json.Marshal(r)
		if err := cat.Validate("report", doc); err == nil {
			t.Error("a verdict MAYBE validates")
		}
		var m map[string]any
		_ = json.Unmarshal(doc, &m)
		m["surprise"] = true
		delete(m, "overall")
		doc, _ = json.Marshal(m)
		if err := cat.Validate("report", doc); err == nil {
			t.Error("a report without overall and with an unknown field validates")
		}
	})
}

func TestGroups(t *testing.T) {
	r := &report.Report{Results: []harness.Result{
		{ID: "MY-01", Category: "custom"},
		{ID: "SIG-10", Category: "signature"},
		{ID: "LOAD-01", Category: "load"},
		{ID: "SIG-02", Category: "signature"},
		{ID: "ACK-01", Category: "acknowledgement"},
	}}
	var got []string
	for _, g := range r.Groups() {
		for _, res := range g.Results {
			got = append(got, g.Category+"/"+res.ID)
		}
	}
	want := []string{"signature/SIG-02", "signature/SIG-10", "acknowledgement/ACK-01", "load/LOAD-01", "custom/MY-01"}
	if !slices.Equal(got, want) {
		t.Errorf("groups %v, want %v: catalogue order, then the user's categories; IDs by number", got, want)
	}
}

func TestWhy(t *testing.T) {
	for _, tc := range []struct {
		why      string
		expected string
		observed string
		want     []report.Step
	}{
		{"the observed step is paired with what was expected of it",
			"step 1, send: a 2xx response\nstep 2, probe event evt_1: timesProcessed 1",
			"step 2, probe event evt_1: timesProcessed 2",
			[]report.Step{{What: "step 2, probe event evt_1", Expected: "timesProcessed 1", Observed: "timesProcessed 2"}}},
		{"text with colons stays whole",
			"step 1, send: not a 5xx response",
			"step 1, send: no response after 5s: context deadline exceeded",
			[]report.Step{{What: "step 1, send", Expected: "not a 5xx response", Observed: "no response after 5s: context deadline exceeded"}}},
		{"free text is kept as it is",
			"", "p99 1.4s\nover the deadline",
			[]report.Step{{Observed: "p99 1.4s\nover the deadline"}}},
	} {
		t.Run(tc.why, func(t *testing.T) {
			got := report.Why(harness.Result{Expected: tc.expected, Observed: tc.observed})
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestProfile(t *testing.T) {
	r := sample(t)
	if got := r.Profile(); got != "conformance + load; default catalogue" {
		t.Errorf("sample profile %q", got)
	}
	r.Settings.Labels = "signature"
	r.Settings.Reference = true
	r.Settings.Faults = []string{"double-process"}
	if got := r.Profile(); !strings.Contains(got, "LABELS='signature'") || !strings.Contains(got, "planted fault double-process") {
		t.Errorf("profile %q does not name the label filter and the planted fault", got)
	}
}

// split cuts the sample into the conformance run and the load run it
// could have been merged from.
func split(t *testing.T) (conf, load *report.Report) {
	t.Helper()
	conf, load = sample(t), sample(t)
	conf.Load = nil
	conf.Results = slices.DeleteFunc(conf.Results, func(r harness.Result) bool { return r.Category == "load" })
	load.Results = slices.DeleteFunc(load.Results, func(r harness.Result) bool { return r.Category != "load" })
	load.Started = conf.Started.Add(time.Minute)
	return conf, load
}

func TestMergeConformanceAndLoad(t *testing.T) {
	conf, load := split(t)
	confJSON, _ := json.Marshal(conf)
	m, err := report.Merge(conf, load)
	if err != nil {
		t.Fatal(err)
	}
	s := sample(t)
	if len(m.Results) != len(s.Results) || m.Load == nil {
		t.Fatalf("merged %d results (load %v), want %d and the load section", len(m.Results), m.Load != nil, len(s.Results))
	}
	for _, v := range harness.Verdicts() {
		if m.Counts[v] != s.Counts[v] {
			t.Errorf("%s: %d, want %d", v, m.Counts[v], s.Counts[v])
		}
	}
	if m.Overall != harness.NotCompliant || m.ExitCode != 1 {
		t.Errorf("merged verdict %s exit %d, want NOT COMPLIANT exit 1 (LOAD-02 failed)", m.Overall, m.ExitCode)
	}
	if !m.Started.Equal(conf.Started) || time.Duration(m.Duration) != time.Minute+time.Duration(load.Duration) {
		t.Errorf("merged run started %s and took %s, want the earliest start and up to the latest end", m.Started, m.Duration)
	}
	after, _ := json.Marshal(conf)
	if string(after) != string(confJSON) {
		t.Error("Merge modified its input")
	}
}

func TestMergeJudgesAfresh(t *testing.T) {
	conf, load := split(t)
	for i := range conf.Results {
		conf.Results[i].Verdict = harness.Pass
	}
	conf.Overall, conf.Counts = harness.Summarize(conf.Results)
	conf.ExitCode = 0
	m, err := report.Merge(conf, load)
	if err != nil {
		t.Fatal(err)
	}
	if m.Overall != harness.NotCompliant || m.ExitCode != 1 {
		t.Errorf("a compliant conformance run merged with a failed load run: %s exit %d, want NOT COMPLIANT exit 1", m.Overall, m.ExitCode)
	}
	broken := report.New("https://example.com", report.Settings{})
	broken.Finish(nil, false, errors.New("the probe is not usable"))
	m, err = report.Merge(conf, broken)
	if err != nil {
		t.Fatal(err)
	}
	if m.ExitCode != 2 || !strings.Contains(m.Error, "probe is not usable") || m.Complete {
		t.Errorf("merged with a run that could not be made: exit %d error %q complete %v, want exit 2 with its error", m.ExitCode, m.Error, m.Complete)
	}
}

func TestMergeLaterResultWins(t *testing.T) {
	a := report.New("https://example.com", report.Settings{})
	a.Finish([]harness.Result{{ID: "SIG-01", Verdict: harness.Fail}}, true, nil)
	b := report.New("https://example.com", report.Settings{})
	b.Finish([]harness.Result{{ID: "SIG-01", Verdict: harness.Pass}}, true, nil)
	m, err := report.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Results) != 1 || m.Results[0].Verdict != harness.Pass || m.Overall != harness.Compliant {
		t.Errorf("got %+v, want the later SIG-01 only", m.Results)
	}
	if !slices.ContainsFunc(m.Notes, func(n string) bool { return strings.Contains(n, "SIG-01") }) {
		t.Error("no note says SIG-01 was replaced")
	}
	if _, err := report.Merge(); !errors.Is(err, report.ErrNothingToMerge) {
		t.Errorf("Merge(): %v, want ErrNothingToMerge", err)
	}
}

func TestMergeLoadSections(t *testing.T) {
	_, a := split(t)
	_, b := split(t)
	b.Load.Attackers = []string{"attacker-2"}
	b.Load.ResultsFiles = []string{"load-attacker-2.gob"}
	b.Load.Success, b.Load.OK = 1, 1000
	b.Load.StatusCodes = map[string]int{"202": 1000}
	b.Load.Errors = nil
	b.Load.Latencies.P99 = harness.Duration(900 * time.Millisecond)
	b.Load.Latencies.Min = harness.Duration(time.Millisecond)
	b.Results = nil
	a.Load.Protocols, b.Load.Protocols = []string{"HTTP/1.1"}, []string{"HTTP/2.0", "HTTP/1.1"}
	m, err := report.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Load
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"attackers are listed together", strings.Join(l.Attackers, ","), "attacker-1,attacker-2"},
		{"results files are listed together", strings.Join(l.ResultsFiles, ","), "load-attacker-1.gob,load-attacker-2.gob"},
		{"requests add up", l.Requests, 2000},
		{"rates add up", l.Rate, 100.0},
		{"2xx answers add up", l.StatusCodes["202"], 1995},
		{"2xx counts add up", l.OK, 1995},
		{"the success share is weighted by requests", l.Success, 0.9975},
		{"p99 keeps the slower run", time.Duration(l.Latencies.P99), 900 * time.Millisecond},
		{"min is exact", time.Duration(l.Latencies.Min), time.Millisecond},
		{"histogram buckets with the same bound add up", l.Histogram[0].Count, 240},
		{"time slices with the same offset add up", l.OverTime[0].Requests, 100},
		{"probe accounts add up", l.Processed.Checked, 400},
		{"the HTTP versions of either part are named once", strings.Join(l.Protocols, ","), "HTTP/1.1,HTTP/2.0"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if len(a.Load.Attackers) != 1 {
		t.Error("merging load sections modified an input")
	}
}

func TestRebase(t *testing.T) {
	r := sample(t)
	r.Rebase("runs/load", "reports")
	if got := r.Load.ResultsFiles[0]; got != "../runs/load/load-attacker-1.gob" {
		t.Errorf("results file %q, want it relative to the new report directory", got)
	}
}

func TestSummaryCountsEveryVerdict(t *testing.T) {
	s := sample(t).Summary()
	for _, want := range []string{"11 checks: 3 FAIL, 1 WARN, 1 SKIP, 4 PASS, 2 INFO", "FAIL IDEM-02", "WARN SIG-06", "verdict: NOT COMPLIANT (exit 1)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

// TestAVerdictOfSelectedChecksSaysSo: a run whose checks LABELS selected
// gives a verdict for those checks only, and its console verdict line and
// Markdown heading say so; a run of the default catalogue says nothing
// more.
func TestAVerdictOfSelectedChecksSaysSo(t *testing.T) {
	r := sample(t)
	if s, md := r.Summary(), r.Markdown(""); strings.Contains(s, "selected by") || strings.Contains(md, "selected by LABELS") {
		t.Errorf("no labels, and the verdict speaks of a selection:\n%s\n%s", s, md)
	}
	r.Settings.Labels = "signature || tls"
	const want = ", for the 11 checks selected by LABELS='signature || tls' only"
	if s := r.Summary(); !strings.Contains(s, "verdict: NOT COMPLIANT (exit 1)"+want+"\n") {
		t.Errorf("the verdict line does not say it speaks for the selected checks only:\n%s", s)
	}
	if md := r.Markdown(""); !strings.Contains(strings.SplitN(md, "\n", 2)[0], "selected by LABELS") {
		t.Errorf("the Markdown heading does not say it speaks for the selected checks only:\n%s", md)
	}
}

// TestSummaryPromisesCurlOnlyForRequests: the summary points to the HTML
// report for a failure's evidence, and offers curl commands only when a
// failed or warned check holds a request; one judged on the run as a
// whole may hold none.
func TestSummaryPromisesCurlOnlyForRequests(t *testing.T) {
	const curl = "a curl command that re-sends"
	r := sample(t)
	if s := r.Summary(); !strings.Contains(s, curl) {
		t.Errorf("failures with requests, and the summary offers no curl command:\n%s", s)
	}
	for i := range r.Results {
		r.Results[i].Evidence = nil
	}
	s := r.Summary()
	if strings.Contains(s, curl) || !strings.Contains(s, "each failure's evidence is in the HTML report") {
		t.Errorf("failures without a request: the summary should point to the evidence, no curl command:\n%s", s)
	}
	for i := range r.Results {
		if v := r.Results[i].Verdict; v == harness.Fail || v == harness.Warn {
			r.Results[i].Verdict = harness.Pass
		}
	}
	r.Conclude()
	if s := r.Summary(); strings.Contains(s, "evidence") {
		t.Errorf("nothing failed, and the summary points to evidence:\n%s", s)
	}
}

// TestMergeWithMeasuresOnce: given the raw results, the merged figures are
// the measure's, taken once over every generator's files; only the plan
// comes from the parts. A measure that fails makes no report.
func TestMergeWithMeasuresOnce(t *testing.T) {
	_, a := split(t)
	_, b := split(t)
	b.Load.Attackers, b.Load.ResultsFiles = []string{"attacker-2"}, []string{"load-attacker-2.gob"}
	b.Results = nil
	a.Load.Protocols, b.Load.Protocols = []string{"HTTP/2.0"}, []string{"HTTP/1.1"}
	var calls [][]string
	measured := report.Load{Requests: 1234, Latencies: report.Latencies{P99: harness.Duration(7 * time.Millisecond)}}
	measure := func(files []string, senderTimeout, ackDeadline time.Duration) (*report.Load, error) {
		calls = append(calls, files)
		l := measured
		return &l, nil
	}
	m, err := report.MergeWith(measure, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || strings.Join(calls[0], ",") != "load-attacker-1.gob,load-attacker-2.gob" {
		t.Fatalf("measure called with %v, want once with both files", calls)
	}
	l := m.Load
	if l.Requests != 1234 || l.Latencies.P99 != measured.Latencies.P99 {
		t.Errorf("merged figures %d requests, p99 %s: want the measure's", l.Requests, l.Latencies.P99)
	}
	if l.Rate != a.Load.Rate+b.Load.Rate || strings.Join(l.Attackers, ",") != "attacker-1,attacker-2" || strings.Join(l.Protocols, ",") != "HTTP/2.0,HTTP/1.1" {
		t.Errorf("plan: rate %.0f by %v in %v, want the parts' rates added, both attackers and both HTTP versions", l.Rate, l.Attackers, l.Protocols)
	}
	broken := func([]string, time.Duration, time.Duration) (*report.Load, error) { return nil, errors.New("gone") }
	if m, err := report.MergeWith(broken, a, b); err == nil || m != nil {
		t.Errorf("a measure that fails: %v, %v; want its error and no report", m, err)
	}
}

// TestNotApplicableIsShownEverywhere: an N/A check is in the console
// summary, the HTML with its reason, JUnit as skipped with the reason, and
// report.json, which still matches its schema.
func TestNotApplicableIsShownEverywhere(t *testing.T) {
	r := report.New("https://example.com/webhook", report.Settings{})
	r.Finish([]harness.Result{
		{ID: "SIG-01", Title: "signed", Level: harness.Must, Category: "signature", Verdict: harness.Pass},
		{ID: "SIG-06", Title: "stale", Level: harness.Should, Category: "signature", Verdict: harness.NotApplicable, Reason: "the github scheme has no timestamp"},
	}, true, nil)
	if r.Overall != harness.Compliant || r.Counts[harness.NotApplicable] != 1 {
		t.Fatalf("overall %s, counts %v", r.Overall, r.Counts)
	}
	if sum := r.Summary(); !strings.Contains(sum, "1 N/A") {
		t.Errorf("the summary does not count the N/A check:\n%s", sum)
	}
	_, html, junit, js := writeFiles(t, r)
	for what, want := range map[string]bool{
		"the HTML shows the reason":            strings.Contains(string(html), "Not applicable because") && strings.Contains(string(html), "has no timestamp"),
		"JUnit skips it with the reason":       strings.Contains(string(junit), `<skipped message="not applicable - the github scheme has no timestamp">`),
		"report.json holds the verdict":        strings.Contains(string(js), `"verdict": "N/A"`),
		"report.json still matches its schema": schema.Default().Validate("report", js) == nil,
	} {
		if !want {
			t.Errorf("%s: it does not", what)
		}
	}
}

// TestAffectedIsShownEverywhere: a run with an outage has one failure,
// ACK-12, and the checks it took from judgment AFFECTED, counted apart
// and shown as such: in the console summary and the Markdown (named
// beside where the outage is reported, not in the failures), the HTML
// (matrix chip, a section of their own, the check's detail with its
// evidence), JUnit (skipped, with the pointer, one test case per check)
// and report.json, which still matches its schema.
func TestAffectedIsShownEverywhere(t *testing.T) {
	const pointer = "affected by the outage reported by ACK-12 from 1.204 s to 3.180 s into the run: an exchange of this check met it"
	evidence := []harness.Exchange{{Attempt: 1, Request: harness.Request{Method: "POST", URL: "https://example.com/webhook"}, Failure: harness.FailureRefused, Err: "connection refused: nothing is listening"}}
	r := report.New("https://example.com/webhook", report.Settings{})
	r.Finish([]harness.Result{
		{ID: "SIG-01", Title: "signed", Level: harness.Must, Category: "signature", Verdict: harness.Pass},
		{ID: "SIG-02", Title: "unsigned", Level: harness.Must, Category: "signature", Verdict: harness.Affected, Reason: pointer,
			Observed: pointer + "\nstep 1, send job.completed: no response: connection refused", Fix: "Refuse it. See README.md#build-a-receiver-that-passes", Evidence: evidence},
		{ID: "ACK-12", Title: "available", Level: harness.Must, Category: "acknowledgement", Verdict: harness.Fail,
			Observed: "step 1, every delivery of the run: 3 of the run's 40 deliveries found no receiver\n1 other checks met the outage and are AFFECTED, not judged: SIG-02"},
	}, true, nil)
	if r.Overall != harness.NotCompliant || r.ExitCode != 1 || r.Counts[harness.Affected] != 1 || r.Counts[harness.Fail] != 1 {
		t.Fatalf("overall %s exit %d, counts %v; want NOT COMPLIANT, one FAIL and one AFFECTED", r.Overall, r.ExitCode, r.Counts)
	}
	sum := r.Summary()
	md := r.Markdown("index.html")
	dir, html, junit, js := writeFiles(t, r)
	for what, want := range map[string]bool{
		"the summary counts it after FAIL": strings.Contains(sum, "3 checks: 1 FAIL, 1 AFFECTED, 0 WARN"),
		"the summary names it by the outage's check, and not as a failure": strings.Contains(sum, "1 check AFFECTED by an outage of the receiver") &&
			strings.Contains(sum, ": SIG-02") && !strings.Contains(sum, "FAIL SIG-02") && strings.Contains(sum, "FAIL ACK-12"),
		"the Markdown counts it and names it apart from the failures": strings.Contains(md, "1 AFFECTED") && strings.Contains(md, "**AFFECTED:**") &&
			!strings.Contains(md, "| SIG-02 |"),
		"the HTML counts it":                       strings.Contains(string(html), "1 affected by an outage"),
		"the HTML colours its chip":                strings.Contains(string(html), `class="chip v-AFFECTED" href="#SIG-02"`),
		"the HTML shows the checks apart":          strings.Contains(string(html), `<section id="affected"`),
		"the HTML details it with its evidence":    strings.Contains(string(html), `data-verdict="AFFECTED"`) && strings.Contains(string(html), "nothing is listening"),
		"the HTML shows no fix for it":             !strings.Contains(string(html), "Refuse it."),
		"JUnit skips it with the pointer":          strings.Contains(string(junit), `<skipped message="`+pointer),
		"JUnit keeps one test case per check":      strings.Count(string(junit), "<testcase ") == 3,
		"JUnit fails ACK-12 only":                  strings.Count(string(junit), "<failure ") == 1,
		"report.json holds the verdict":            strings.Contains(string(js), `"verdict": "AFFECTED"`) && strings.Contains(string(js), `"AFFECTED": 1`),
		"report.json still matches its schema":     schema.Default().Validate("report", js) == nil,
		"the CSS gives the verdict its own colour": strings.Contains(string(html), ".v-AFFECTED.chip"),
	} {
		if !want {
			t.Errorf("%s: it does not", what)
		}
	}
	path := filepath.Join(dir, report.JUnitFile)
	xmllint(t, path)
	sameCounts(t, r, consume(t, path))
}

// TestEveryVerdictIsShownInOneOrder: a run with one check of each verdict
// shows every one, with its symbol, in the HTML's matrix and detail, and
// counts them in the order harness.Verdicts gives, in the console and the
// HTML's legend alike (where only the measurements come before the
// passes, as the detail lists them): a verdict added to harness shows
// here or fails here.
func TestEveryVerdictIsShownInOneOrder(t *testing.T) {
	var rs []harness.Result
	for i, v := range harness.Verdicts() {
		rs = append(rs, harness.Result{ID: fmt.Sprintf("SIG-%02d", i+1), Title: "t", Level: harness.Must, Category: "signature", Verdict: v, Reason: "why"})
	}
	r := report.New("https://example.com/webhook", report.Settings{})
	r.Finish(rs, true, nil)
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	sum := r.Summary()
	last, lastHTML := -1, -1
	for _, v := range harness.Verdicts() {
		chip := fmt.Sprintf(`class="chip v-%s"`, v)
		if !strings.Contains(string(html), chip) || !strings.Contains(string(html), fmt.Sprintf(`data-verdict="%s"`, v)) ||
			!strings.Contains(string(html), fmt.Sprintf(`<h3 class="vh v-%s"><span class="sym">`, v)) {
			t.Errorf("%s: the HTML shows no chip, detail or heading of it", v)
		}
		i := strings.Index(sum, fmt.Sprintf("1 %s", v))
		if i < last {
			t.Errorf("%s: the console counts it out of the order of harness.Verdicts:\n%s", v, sum)
		}
		last = i
		j := strings.Index(string(html), `<span class="chip v-`+string(v)+`"`)
		if v == harness.InfoVerdict {
			continue
		}
		if j < lastHTML {
			t.Errorf("%s: the HTML legend counts it out of the order of harness.Verdicts", v)
		}
		lastHTML = j
	}
}

// writeFiles writes r into a directory of its own and returns it with
// its three files: index.html, junit.xml and report.json.
func writeFiles(t *testing.T, r *report.Report) (dir string, html, junit, js []byte) {
	t.Helper()
	dir = t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return dir, read(report.HTMLFile), read(report.JUnitFile), read(report.JSONFile)
}

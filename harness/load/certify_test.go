package load

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/schema"
)

// prepare readies a run against the bundled reference receiver (over
// HTTPS, with its probe) with the given faults planted.
func prepare(t *testing.T, o certify.Options) *certify.Session {
	t.Helper()
	if o.ReportDir == "" {
		o.ReportDir = t.TempDir()
	}
	s, err := certify.Prepare(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// writeReport writes the outcome's report.json, as the suite and the CLI
// do, and checks it against schemas/report.schema.json.
func writeReport(t *testing.T, s *certify.Session, out *Outcome) {
	t.Helper()
	s.Report.Load = out.Load
	if err := s.Finish(out.Results, out.Complete, nil); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(s.ReportDir, report.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Default().Validate("report", doc); err != nil {
		t.Fatalf("report.json does not match its schema: %v", err)
	}
}

func short(rate int, d time.Duration) Settings {
	set := DefaultSettings()
	set.Rate, set.Duration = rate, d
	set.Verify.Settle = time.Second
	return set
}

func verdicts(out *Outcome) map[string]harness.Result {
	m := map[string]harness.Result{}
	for _, r := range out.Results {
		m[r.ID] = r
	}
	return m
}

// TestCertifyAgainstTheReferenceReceiver runs short load tests against the
// reference receiver, correct and with the faults the load checks exist
// for (DESIGN section 8): each check must fail for its fault and only
// for it.
func TestCertifyAgainstTheReferenceReceiver(t *testing.T) {
	cases := []struct {
		name   string
		faults []receiver.Fault
		rate   int
		d      time.Duration
		want   map[string]harness.Verdict
	}{
		{"a correct receiver passes", nil, 100, 2 * time.Second,
			map[string]harness.Verdict{Load01: harness.Pass, Load02: harness.Pass, Load03: harness.Pass, Load04: harness.InfoVerdict}},
		// Every answer takes 1.5 s.
		{"slow-ack fails LOAD-01", []receiver.Fault{receiver.FaultSlowAck}, 20, 1500 * time.Millisecond,
			map[string]harness.Verdict{Load01: harness.Fail, Load02: harness.Pass, Load03: harness.Pass, Load04: harness.InfoVerdict}},
		// 400/s against a 400-slot queue served at 80/s loses events.
		{"drop-under-load warns LOAD-03", []receiver.Fault{receiver.FaultDropUnderLoad}, 400, 2 * time.Second,
			map[string]harness.Verdict{Load01: harness.Pass, Load02: harness.Pass, Load03: harness.Warn, Load04: harness.InfoVerdict}},
		// Every answer is a 307, which vegeta would count as a success.
		{"redirect fails LOAD-02", []receiver.Fault{receiver.FaultRedirect}, 50, time.Second,
			map[string]harness.Verdict{Load01: harness.Pass, Load02: harness.Fail, Load03: harness.Skip, Load04: harness.InfoVerdict}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Plain HTTP and one at a time: latency is what is judged, and
			// TLS handshakes under the race detector on a busy machine
			// would be measured as the receiver's. The suite runs over
			// HTTPS.
			s := prepare(t, certify.Options{Faults: c.faults, PlainHTTP: true})
			out, err := Certify(context.Background(), s, short(c.rate, c.d))
			if err != nil {
				t.Fatal(err)
			}
			writeReport(t, s, out)
			got := verdicts(out)
			for id, want := range c.want {
				if got[id].Verdict != want {
					t.Errorf("%s %s, want %s: %s", id, got[id].Verdict, want, got[id].Observed)
				}
			}
			l := out.Load
			acked := c.want[Load03] != harness.Skip
			if !out.Complete || l.Requests < c.rate*int(c.d/time.Second)*9/10 || acked && (l.Processed == nil || l.Processed.Checked == 0) {
				t.Fatalf("complete %v, %d requests, processed %+v", out.Complete, l.Requests, l.Processed)
			}
			n := 0
			if err := eachInFile(filepath.Join(s.ReportDir, l.ResultsFiles[0]), func(*vegeta.Result) { n++ }); err != nil || n != l.Requests {
				t.Fatalf("the results file holds %d results (%v), want %d", n, err, l.Requests)
			}
			if c.faults == nil {
				return
			}
			if c.faults[0] == receiver.FaultDropUnderLoad {
				if l.Processed.Missing == 0 || len(got[Load03].Evidence) == 0 {
					t.Fatalf("LOAD-03 warned without missing events or evidence: %+v", l.Processed)
				}
				if r := Evaluate(l, true)[2]; r.Verdict != harness.Fail {
					t.Fatalf("under STRICT LOAD-03 is %s, want FAIL", r.Verdict)
				}
			}
		})
	}
}

func TestCertifyWithoutProbeSkipsLoad03(t *testing.T) {
	srv, err := receiver.Start("", receiver.Config{Secrets: []harness.Secret{testSecret}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := prepare(t, certify.Options{URL: srv.WebhookURL, Secret: testSecret})
	out, err := Certify(context.Background(), s, short(50, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if r := verdicts(out)[Load03]; r.Verdict != harness.Skip || !strings.Contains(r.Reason, "PROBE_URL") {
		t.Fatalf("LOAD-03 %s (%s), want SKIP for want of a probe", r.Verdict, r.Reason)
	}
}

func TestCertifySamplesLargeRuns(t *testing.T) {
	s := prepare(t, certify.Options{})
	set := short(100, time.Second)
	set.SampleSize = 30
	out, err := Certify(context.Background(), s, set)
	if err != nil {
		t.Fatal(err)
	}
	p, r := out.Load.Processed, verdicts(out)[Load03]
	if p.Checked != 30 || !p.Sampled || p.Once != 30 || r.Verdict != harness.Pass || !strings.Contains(r.Observed, "sample of 30") {
		t.Fatalf("processed %+v, LOAD-03 %s: %s", p, r.Verdict, r.Observed)
	}
}

// TestCertifyInterrupted: Ctrl-C during the attack still gives the
// figures so far, an incomplete run, and LOAD-03 unjudged.
func TestCertifyInterrupted(t *testing.T) {
	s := prepare(t, certify.Options{PlainHTTP: true})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out, err := Certify(ctx, s, short(50, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if out.Complete || out.Load.Requests == 0 || out.Load.Requests > 50 || verdicts(out)[Load03].Verdict != harness.Skip {
		t.Fatalf("complete %v, %d requests, LOAD-03 %s: want an incomplete run of about 25 deliveries", out.Complete, out.Load.Requests, verdicts(out)[Load03].Verdict)
	}
	writeReport(t, s, out)
	if s.Report.ExitCode != report.ExitCannotRun {
		t.Fatalf("an interrupted run exits %d, want %d", s.Report.ExitCode, report.ExitCannotRun)
	}
}

func TestCertifyRefusesUnsafeSettings(t *testing.T) {
	s := prepare(t, certify.Options{})
	set := short(5000, time.Second)
	out, err := Certify(context.Background(), s, set)
	if !errors.Is(err, certify.ErrCannotRun) || !errors.Is(err, ErrUnsafe) || out != nil {
		t.Fatalf("outcome %v, error %v: want a run that cannot be made (exit 2) for an unsafe rate", out, err)
	}
	if _, err := os.Stat(filepath.Join(s.ReportDir, ResultsFile(set.Attacker))); !os.IsNotExist(err) {
		t.Fatal("a results file was written for a refused run")
	}
}

func TestLimitsAreCheckedAfterFlags(t *testing.T) {
	// RATE=2000 from the environment, then --max-rate 5000 on the command
	// line: parsing must not refuse what the flag will allow.
	s, err := SettingsFromEnv(func(k string) string { return map[string]string{EnvRate: "2000"}[k] })
	if err != nil {
		t.Fatalf("parsing refused RATE=2000 before any flag could raise the limit: %v", err)
	}
	if s.check() == nil {
		t.Fatal("RATE=2000 passed the default limit of 1000/s")
	}
	s.Limits.MaxRate = 5000
	if err := s.check(); err != nil {
		t.Fatalf("RATE=2000 under MAX_RATE 5000: %v", err)
	}
}

func TestSettingsFromEnv(t *testing.T) {
	cases := []struct {
		why  string
		env  map[string]string
		ok   func(Settings) bool
		fail string
	}{
		{"defaults are make load's", nil, func(s Settings) bool {
			return s.Rate == 50 && s.Duration == 20*time.Second && s.Limits == DefaultLimits() && s.Attacker == DefaultAttacker
		}, ""},
		{"RATE and DURATION", map[string]string{EnvRate: "200", EnvDuration: "1m"}, func(s Settings) bool {
			return s.Rate == 200 && s.Duration == time.Minute
		}, ""},
		{"RATE may say /s", map[string]string{EnvRate: "200/s"}, func(s Settings) bool { return s.Rate == 200 }, ""},
		{"a rate over the limit needs an override", map[string]string{EnvRate: "2000"}, nil, "MAX_RATE"},
		{"MAX_RATE is the override", map[string]string{EnvRate: "2000", EnvMaxRate: "5000"}, func(s Settings) bool { return s.Limits.MaxRate == 5000 }, ""},
		{"FORCE lifts both limits", map[string]string{EnvRate: "2000", EnvDuration: "1h", EnvForce: "1"}, func(s Settings) bool { return s.Limits == ForcedLimits() }, ""},
		{"FORCE does not lift what MAX_* set", map[string]string{EnvForce: "1", EnvMaxDuration: "10m"}, func(s Settings) bool {
			return s.Limits.MaxDuration == 10*time.Minute && s.Limits.MaxRate == ForcedMaxRate
		}, ""},
		{"a duration over the limit needs an override", map[string]string{EnvDuration: "6m"}, nil, "MAX_DURATION"},
		{"a duration must be a duration", map[string]string{EnvDuration: "20"}, nil, "DURATION"},
		{"FORCE is a flag", map[string]string{EnvForce: "please"}, nil, "FORCE"},
		{"FORCE reads like STRICT", map[string]string{EnvForce: "yes", EnvRate: "2000"}, func(s Settings) bool { return s.Limits == ForcedLimits() }, ""},
		{"an attacker name names a file", map[string]string{EnvAttacker: "../x"}, nil, "ATTACKER"},
		{"an attacker name per generator", map[string]string{EnvAttacker: "gen-3"}, func(s Settings) bool { return s.Attacker == "gen-3" }, ""},
	}
	for _, c := range cases {
		s, err := SettingsFromEnv(func(k string) string { return c.env[k] })
		if err == nil {
			// What Certify checks before it attacks, once flags applied.
			err = s.check()
		}
		switch {
		case c.fail != "" && (err == nil || !errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), c.fail)):
			t.Errorf("%s: error %v, want one naming %s", c.why, err, c.fail)
		case c.fail == "" && (err != nil || !c.ok(s)):
			t.Errorf("%s: %+v, %v", c.why, s, err)
		}
	}
}

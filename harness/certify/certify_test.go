package certify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/scenario"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		why  string
		env  map[string]string
		want string // part of the error, "" for none
	}{
		{"nothing set is the reference receiver with defaults", nil, ""},
		{"a deadline that is not a duration", map[string]string{certify.Env(certify.Setting("ACK_DEADLINE")): "fast"}, "ACK_DEADLINE"},
		{"a negative deadline", map[string]string{certify.Env(certify.Setting("ACK_DEADLINE")): "-1s"}, "ACK_DEADLINE"},
		{"STRICT must be a yes or no", map[string]string{certify.Env(certify.Setting("STRICT")): "maybe"}, "STRICT"},
		{"an unknown fault names the valid ones", map[string]string{certify.Env(certify.Setting("FAULTS")): "double-process,nope"}, "skip-verify"},
	}
	for _, tc := range tests {
		t.Run(tc.why, func(t *testing.T) {
			o, err := certify.FromEnv(func(k string) string { return tc.env[k] })
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, certify.ErrCannotRun)):
				t.Fatalf("error %v, want one wrapping ErrCannotRun that mentions %q", err, tc.want)
			}
			if tc.want == "" && o.URL != "" {
				t.Fatalf("URL %q, want empty", o.URL)
			}
		})
	}
	o, err := certify.FromEnv(func(k string) string {
		return map[string]string{certify.Env(certify.Setting("STRICT")): "1", certify.Env(certify.Setting("FAULTS")): "double-process, slow-ack", harness.SecretEnv: "s3cret"}[k]
	})
	if err != nil || !o.Strict || len(o.Faults) != 2 || o.Secret.Reveal() != "s3cret" {
		t.Fatalf("FromEnv = %+v, %v", o, err)
	}
}

func TestPrepareRefusesRunsThatCannotBeMade(t *testing.T) {
	const sec harness.Secret = "whsec_prepare_test"
	// A receiver whose probe answers 500 to everything.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer broken.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	ref, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{sec}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()

	tests := []struct {
		why  string
		opts certify.Settings
		want string
	}{
		{"an empty secret", certify.Settings{URL: ref.WebhookURL}, "the secret is empty: give it with SECRET"},
		{"an unreachable target", certify.Settings{URL: "http://127.0.0.1:1/webhook", Secret: sec}, "unreachable"},
		{"not a URL", certify.Settings{URL: "staging.example.com/hooks", Secret: sec}, "not an http:// or https:// URL"},
		{"a probe that answers 500", certify.Settings{URL: ref.WebhookURL, Secret: sec, ProbeURL: broken.URL}, "probe"},
		{"a probe that answers 404 to everything (a wrong PROBE_URL)", certify.Settings{URL: ref.WebhookURL, Secret: sec, ProbeURL: notFound.URL + "/_probe"}, "is it the probe of this receiver? If the receiver processes later than that, raise SETTLE"},
		{"a secret the receiver does not verify with", certify.Settings{URL: ref.WebhookURL, Secret: "whsec_pasted_wrong"}, "SECRET: the receiver refused a correctly signed delivery with 401"},
		{"a secret the receiver does not verify with, with a probe", certify.Settings{URL: ref.WebhookURL, Secret: "whsec_pasted_wrong", ProbeURL: ref.ProbeURL}, "SECRET: the receiver refused"},
		{"a webhook URL whose path is not the receiver's (404)", certify.Settings{URL: strings.Replace(ref.WebhookURL, "/webhook", "/hooks", 1), Secret: sec}, "URL: the receiver answered 404 to a correctly signed POST"},
		{"a webhook URL that names the probe (405 to a POST)", certify.Settings{URL: ref.ProbeURL + "/events/evt_x", Secret: sec}, "URL: the receiver answered 405"},
		{"a probe that is not there", certify.Settings{URL: ref.WebhookURL, Secret: sec, ProbeURL: "http://127.0.0.1:1/_probe"}, "probe"},
		{"a CA file that does not exist", certify.Settings{URL: ref.WebhookURL, Secret: sec, CACert: "/nonexistent/ca.pem"}, "CA_CERT"},
		{"faults with a URL of one's own", certify.Settings{URL: ref.WebhookURL, Secret: sec, Faults: []receiver.Fault{receiver.Fault("slow-ack")}}, "FAULTS"},
		{"a scenario directory that does not exist", certify.Settings{URL: ref.WebhookURL, Secret: sec, Scenarios: "/nonexistent/scenarios"}, "SCENARIOS"},
	}
	for _, tc := range tests {
		t.Run(tc.why, func(t *testing.T) {
			tc.opts.ReportDir = t.TempDir()
			// A wrong probe is told by waiting out the settle time.
			tc.opts.Timing.Settle = time.Second
			s, err := certify.Prepare(context.Background(), tc.opts)
			if !errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Prepare: %v; want ErrCannotRun mentioning %q", err, tc.want)
			}
			// The run could not be made, but its report can be written and
			// says why, with exit status 2.
			if err := s.Finish(nil, false, err); err != nil {
				t.Fatal(err)
			}
			r, rerr := report.Read(tc.opts.ReportDir + "/" + report.JSONFile)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if r.ExitCode != report.ExitCannotRun || r.Overall != harness.NotCertified || !strings.Contains(r.Error, tc.want) {
				t.Fatalf("report: exit %d, overall %s, error %q", r.ExitCode, r.Overall, r.Error)
			}
			if strings.Contains(err.Error(), sec.Reveal()) {
				t.Fatal("the error holds the secret")
			}
		})
	}
}

func TestWithoutAProbeTheVerdictIsPartial(t *testing.T) {
	ref, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{"whsec_partial"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	s, err := certify.Prepare(context.Background(), certify.Settings{URL: ref.WebhookURL, Secret: "whsec_partial", ReportDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var picked = s.Scenarios[:0:0]
	for _, sc := range s.Scenarios {
		if sc.ID == "SIG-01" || sc.ID == "IDEM-02" {
			picked = append(picked, sc)
		}
	}
	if err := s.Finish(s.Run(context.Background(), picked), true, nil); err != nil {
		t.Fatal(err)
	}
	if s.Report.Overall != harness.Partial || s.Report.ExitCode != 0 || s.Report.Counts[harness.Skip] != 1 {
		t.Fatalf("overall %s, exit %d, counts %v; want PARTIAL, 0 and one skip", s.Report.Overall, s.Report.ExitCode, s.Report.Counts)
	}
}

// TestAnAsynchronousReceiver certifies a receiver whose worker processes
// each event well after acknowledging it (600 ms against a settle time of
// 1.5 s: at scale, 7 s against SETTLE=10s). It is compliant; the same
// receiver processing duplicates breaks exactly the double-process row of
// the planted-fault proof, IDEM-02 included: the watch after a redelivery
// lasts as long as the original took to be processed.
func TestAnAsynchronousReceiver(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the catalogue twice")
	}
	const sec harness.Secret = "whsec_async"
	// The real settle time: each event is processed 600 ms after its
	// acknowledgement, and under make test (the race detector, three
	// packages at once on two cores) a settle time of 1.5 s once ended
	// before the probe saw one processed. A check waits the whole settle
	// time only for a state that does not come.
	timing := relaxed
	timing.Settle = harness.DefaultTiming().Settle
	for _, tc := range []struct {
		faults []receiver.Fault
		want   []string
	}{
		{nil, nil},
		{[]receiver.Fault{receiver.Fault("double-process")}, ids("ACK-10 IDEM-02 IDEM-03 IDEM-04 IDEM-06 IDEM-08 RETRY-02 RETRY-03 RETRY-04")},
	} {
		t.Run(fmt.Sprint(tc.faults), func(t *testing.T) {
			t.Parallel()
			asyncRun(t, sec, timing, tc.faults, tc.want)
		})
	}
}

// asyncRun runs the catalogue against a receiver with a 600 ms worker and
// the given faults, and checks that exactly want break.
func asyncRun(t *testing.T, sec harness.Secret, timing harness.Timing, faults []receiver.Fault, want []string) {
	srv, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{sec}, Faults: faults, Lag: 600 * time.Millisecond}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// With IDEM-06's burst: the worker lags, it does not fall behind.
	s, err := certify.Prepare(context.Background(), certify.Settings{URL: srv.WebhookURL, ProbeURL: srv.ProbeURL, Secret: sec, ReportDir: t.TempDir(), Timing: timing,
		DedupeVolume: engine.DefaultVolume, DedupeRate: engine.DefaultVolumeRate})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var broken []string
	for _, r := range s.Run(context.Background(), s.Scenarios) {
		if r.Verdict == harness.Fail || r.Verdict == harness.Warn {
			broken = append(broken, r.ID)
			t.Logf("%s", report.Failure(r))
		}
	}
	sort.Strings(broken)
	if !slices.Equal(broken, want) {
		t.Errorf("faults %v with a 600 ms worker: broke %v, want exactly %v", faults, broken, want)
	}
}

// TestSlowChecksRunOnlyWhenNamed: IDEM-07 runs only when the filter names
// it or "slow"; a conformance run notes that it was left out only when the
// filter would otherwise have selected it (not for "signature", nor for
// "!slow", which leaves it out itself).
func TestSlowChecksRunOnlyWhenNamed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		labels    string
		run, note bool
	}{
		{"", false, true},
		{"idempotency", false, true},
		{"signature", false, false},
		{"!slow", false, false},
		{"slow", true, false},
		{"idempotency || slow", true, false},
		{"IDEM-07", true, false},
	} {
		s, err := certify.Prepare(context.Background(), certify.Settings{ReportDir: t.TempDir(), Labels: tc.labels})
		if err != nil {
			t.Fatal(err)
		}
		has := slices.ContainsFunc(s.Scenarios, func(sc *scenario.Scenario) bool { return sc.ID == "IDEM-07" })
		mentions := func() bool {
			return slices.ContainsFunc(s.Report.Notes, func(n string) bool { return strings.Contains(n, "IDEM-07") })
		}
		// Only a conformance run notes it: a load run's report has no
		// word of the checks.
		early := mentions()
		s.Run(context.Background(), nil)
		noted := mentions()
		s.Close()
		if early {
			t.Errorf("LABELS=%q: the slow check is noted before any conformance run", tc.labels)
		}
		if has != tc.run || noted != tc.note {
			t.Errorf("LABELS=%q: IDEM-07 in the run %v, noted as left out %v; want %v and %v", tc.labels, has, noted, tc.run, tc.note)
		}
	}
}

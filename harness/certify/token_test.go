package certify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
)

// TestAProbeBehindAToken: a receiver whose probe asks for a bearer token.
// Without the token, or with a wrong one, the run cannot be made and the
// error names PROBE_TOKEN (not PROBE_URL, not a FAIL of the receiver);
// with the right one the probe checks judge, and no report file holds
// the token, right or wrong.
func TestAProbeBehindAToken(t *testing.T) {
	t.Parallel()
	const (
		sec   harness.Secret = "whsec_token_test"
		token harness.Secret = "ptok_4f9a1c7e2b"
		wrong harness.Secret = "ptok_pasted_wrong_77"
	)
	ref, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{sec}, ProbeToken: token}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	settings := func(tok harness.Secret) certify.Settings {
		return certify.Settings{URL: ref.WebhookURL, ProbeURL: ref.ProbeURL, Secret: sec, ProbeToken: tok,
			ReportDir: t.TempDir(), Timing: relaxed}
	}
	for _, tc := range []struct {
		why string
		tok harness.Secret
	}{{"no token", ""}, {"a wrong token", wrong}} {
		set := settings(tc.tok)
		s, err := certify.Prepare(context.Background(), set)
		if !errors.Is(err, certify.ErrCannotRun) || !strings.Contains(err.Error(), string(certify.Setting("PROBE_TOKEN"))+": ") {
			t.Fatalf("%s: Prepare: %v; want ErrCannotRun naming %s", tc.why, err, certify.Setting("PROBE_TOKEN"))
		}
		if err := s.Finish(nil, false, err); err != nil {
			t.Fatal(err)
		}
		r, rerr := report.Read(filepath.Join(set.ReportDir, report.JSONFile))
		if rerr != nil || r.ExitCode != report.ExitCannotRun || !strings.Contains(r.Error, string(certify.Setting("PROBE_TOKEN"))) {
			t.Fatalf("%s: report %v: exit %d, error %q; want exit %d naming %s", tc.why, rerr, r.ExitCode, r.Error, report.ExitCannotRun, certify.Setting("PROBE_TOKEN"))
		}
		noTokenIn(t, set.ReportDir, wrong, token)
	}

	set := settings(token)
	s, err := certify.Prepare(context.Background(), set)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	picked := s.Scenarios[:0:0]
	for _, sc := range s.Scenarios {
		// A signature check and a dedupe check, both judged by the probe.
		if sc.ID == "SIG-02" || sc.ID == "IDEM-02" {
			picked = append(picked, sc)
		}
	}
	results := s.Run(context.Background(), picked)
	if err := s.Finish(results, true, nil); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || s.Report.Overall != harness.Compliant || s.Report.Counts[harness.Pass] != 2 {
		t.Fatalf("with the right token: %d results, overall %s, counts %v; want both checks passed", len(results), s.Report.Overall, s.Report.Counts)
	}
	noTokenIn(t, set.ReportDir, wrong, token)
}

// noTokenIn fails if any file of the report directory holds one of the
// tokens.
func noTokenIn(t *testing.T, dir string, tokens ...harness.Secret) {
	t.Helper()
	files, err := os.ReadDir(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("report directory %s: %d files (%v)", dir, len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if strings.Contains(string(b), tok.Reveal()) {
				t.Fatalf("%s holds a probe token", f.Name())
			}
		}
	}
}

package report_test

import (
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// TestFailureSaysHowToFix: the message of a failed or warned check, which
// Ginkgo prints as the failure, ends with how to fix it, the README
// reference written as a URL a CI log makes clickable.
func TestFailureSaysHowToFix(t *testing.T) {
	const fix = "Refuse it with 401. See README.md#build-a-receiver-that-passes"
	const line = "fix: Refuse it with 401. See " + readmeURL + "#build-a-receiver-that-passes\n"
	for _, tc := range []struct {
		why     string
		verdict harness.Verdict
		fix     string
		want    string
	}{
		{"a failure says how to fix it", harness.Fail, fix, line},
		{"so does a warning, reported beside the passing spec", harness.Warn, fix, line},
		{"a user's scenario may have no fix: no empty line", harness.Fail, "", ""},
		{"a fix without a README reference is written as it is", harness.Fail, "Refuse it with 401.", "fix: Refuse it with 401.\n"},
		{"a pass has nothing to fix", harness.Pass, fix, ""},
	} {
		t.Run(tc.why, func(t *testing.T) {
			r := harness.Result{ID: "SIG-02", Level: harness.Must, Requirement: "r", Verdict: tc.verdict, Observed: "step 1: 200 OK", Expected: "step 1: a 4xx", Fix: tc.fix}
			for name, text := range map[string]string{"Failure": report.Failure(r), "CheckText": report.CheckText(r, false)} {
				got := ""
				if i := strings.Index(text, "fix: "); i >= 0 {
					got = text[i:]
					got = got[:strings.IndexByte(got, '\n')+1]
				}
				if got != tc.want {
					t.Errorf("%s gives fix line %q, want %q:\n%s", name, got, tc.want, text)
				}
			}
			if msg := report.Failure(r); tc.want != "" && !strings.HasSuffix(msg, tc.want) {
				t.Errorf("Failure does not end with the fix, after the observation:\n%s", msg)
			}
		})
	}
}

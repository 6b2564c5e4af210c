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

// uploadText is how the sender describes a body's upload.
const uploadText = "102400 bytes in 80 segments of at most 1.5 KiB with 79 pauses; sent in 88.2ms, the last byte 89.1ms after the start"

// withUpload is the sample with the first exchange of SIG-01 describing
// how its body was written; the sample itself predates the description.
func withUpload(t *testing.T) *report.Report {
	t.Helper()
	r := sample(t)
	for i := range r.Results {
		if r.Results[i].ID == "SIG-01" {
			r.Results[i].Evidence[0].Request.Segments = uploadText
			return r
		}
	}
	t.Fatal("the sample has no SIG-01")
	return nil
}

// TestEvidenceShowsTheUpload: the plain-text evidence says how a body was
// written, under the body, so that a reader tells the upload from the
// time the receiver took to answer; an exchange without the description
// (a probe call, an older report) shows no such line.
func TestEvidenceShowsTheUpload(t *testing.T) {
	r := withUpload(t)
	for _, res := range r.Results {
		if res.ID != "SIG-01" && res.ID != "SIG-06" {
			continue
		}
		text := report.Evidence(res.Evidence)
		has := strings.Contains(text, "    > upload: "+uploadText+"\n")
		if want := res.ID == "SIG-01"; has != want {
			t.Errorf("%s: upload line shown %v, want %v:\n%s", res.ID, has, want, text)
		}
		if has && strings.Index(text, "> upload:") < strings.Index(text, "> body (") {
			t.Errorf("the upload line comes before the body it describes:\n%s", text)
		}
	}
}

package harness_test

import (
	"slices"
	"testing"

	"github.com/realm-ai/hookcert/harness"
)

func TestCategories(t *testing.T) {
	cats := harness.Categories()
	if len(cats) == 0 || cats[len(cats)-1] != harness.CategoryLoad {
		t.Errorf("categories %v, want the load checks last", cats)
	}
	if c := slices.Compact(slices.Sorted(slices.Values(cats))); len(c) != len(cats) {
		t.Errorf("categories %v name one twice", cats)
	}
	cats[0] = "changed"
	if harness.Categories()[0] == "changed" {
		t.Error("a caller changed the catalogue's categories")
	}
}

// TestAffectedIsNeitherAPassNorAFailure: a run whose only unusual verdict
// is AFFECTED was not judged in full (PARTIAL); with the availability
// check's FAIL beside it, it is NOT COMPLIANT; AFFECTED is counted apart.
func TestAffectedIsNeitherAPassNorAFailure(t *testing.T) {
	res := func(vs ...harness.Verdict) []harness.Result {
		var out []harness.Result
		for _, v := range vs {
			out = append(out, harness.Result{Verdict: v})
		}
		return out
	}
	for _, tc := range []struct {
		why  string
		rs   []harness.Result
		want harness.Overall
	}{
		{"affected checks alone leave the run partial", res(harness.Pass, harness.Affected), harness.Partial},
		{"the outage's FAIL makes it not compliant", res(harness.Fail, harness.Affected, harness.Pass), harness.NotCompliant},
		{"affected outweighs a warning", res(harness.Warn, harness.Affected), harness.Partial},
	} {
		got, counts := harness.Summarize(tc.rs)
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.why, got, tc.want)
		}
		if n := counts[harness.Affected]; n != 1 || counts[harness.Fail] > 1 {
			t.Errorf("%s: counts %v, want AFFECTED counted once and apart", tc.why, counts)
		}
	}
	if v := harness.Verdicts(); v[0] != harness.Fail || v[1] != harness.Affected {
		t.Errorf("verdicts in the order %v, want AFFECTED right after FAIL", v)
	}
}

func TestUnavailable(t *testing.T) {
	answered := &harness.Response{Status: 200}
	for _, tc := range []struct {
		why  string
		ex   harness.Exchange
		want bool
	}{
		{"a refused connection found nobody", harness.Exchange{Failure: harness.FailureRefused}, true},
		{"a connection that could not be made found nobody", harness.Exchange{Failure: harness.FailureUnreachable}, true},
		{"a reset before an answer found nobody to answer", harness.Exchange{Failure: harness.FailureReset}, true},
		{"a reset once the answer came found the receiver", harness.Exchange{Failure: harness.FailureReset, Response: answered}, false},
		{"an answer found the receiver", harness.Exchange{Response: answered}, false},
		{"a receiver that hangs is there", harness.Exchange{Failure: harness.FailureTimeout}, false},
		{"nonsense comes from a receiver that is there", harness.Exchange{Failure: harness.FailureOther}, false},
		{"an attempt abandoned on purpose asked for no answer", harness.Exchange{Failure: harness.FailureReset, Abandoned: true}, false},
		{"an interrupted run says nothing of the receiver", harness.Exchange{Failure: harness.FailureCanceled}, false},
	} {
		if got := tc.ex.Unavailable(); got != tc.want {
			t.Errorf("%s: Unavailable() = %v, want %v", tc.why, got, tc.want)
		}
	}
}

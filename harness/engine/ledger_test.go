package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// TestAckTimesVerdict judges ACK-11 over ledgers made by hand: every
// threshold of its requirement, each side of it, since no planted fault
// answers late only sometimes (slow-ack and slow-model-ack prove the FAIL
// of a receiver that always does).
func TestAckTimesVerdict(t *testing.T) {
	const deadline, timeout = time.Second, 5 * time.Second
	acks := func(fast, late, timedOut int) []ack {
		var out []ack
		for range fast {
			out = append(out, ack{check: "SIG-01", what: "job.completed", latency: 10 * time.Millisecond, status: 202})
		}
		for range late {
			out = append(out, ack{check: "IDEM-06", what: "model.training.started", latency: 1500 * time.Millisecond, status: 202})
		}
		for range timedOut {
			out = append(out, ack{check: "ACK-01", what: "job.queued", latency: timeout, timedOut: true})
		}
		return out
	}
	for _, tc := range []struct {
		why  string
		acks []ack
		want harness.Verdict
		says string
	}{
		{"every answer within the deadline passes", acks(200, 0, 0), harness.Pass, "0 of 200 answered after"},
		{"one late answer in 200 (0.5 %) warns", acks(199, 1, 0), harness.Warn, "1 of the run's 200 deliveries were answered after"},
		{"exactly 1 % late still warns", acks(198, 2, 0), harness.Warn, "2 of the run's 200"},
		{"more than 1 % late fails", acks(197, 3, 0), harness.Fail, "3 of 200 answered after the ack deadline"},
		{"one delivery not answered within the sender timeout fails", acks(199, 0, 1), harness.Fail, "1 not within the sender timeout"},
		{"the slowest are shown with their checks", acks(10, 3, 0), harness.Fail, "1.5s (model.training.started, IDEM-06, 202)"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			e := &Engine{cfg: Config{Timing: harness.Timing{AckDeadline: deadline, SenderTimeout: timeout}}}
			l := newLedger()
			l.acks = tc.acks
			sc := &scenario.Scenario{ID: "ACK-11", Level: harness.Must, Final: true}
			r := newRun(e, sc, l)
			if err := r.judgeAckTimes(1); err != nil {
				t.Fatal(err)
			}
			res := r.verdict(harness.Result{ID: sc.ID, Level: sc.Level})
			if res.Verdict != tc.want || !strings.Contains(res.Observed, tc.says) {
				t.Fatalf("%s, observed %q; want %s saying %q", res.Verdict, res.Observed, tc.want, tc.says)
			}
		})
	}
	// Nothing delivered: nothing to judge, and no false PASS.
	r := newRun(&Engine{}, &scenario.Scenario{ID: "ACK-11", Final: true}, newLedger())
	if err := r.judgeAckTimes(1); err == nil || !strings.Contains(err.Error(), "no other check") {
		t.Fatalf("an empty ledger: %v, want a skip saying no other check delivered", err)
	}
}

package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPadMakesAValidEventOfTheSize checks that a padded event is still the
// event, valid JSON, and exactly the size asked for.
func TestPadMakesAValidEventOfTheSize(t *testing.T) {
	body := []byte(`{"eventId":"evt_1","eventType":"job.completed","data":{"object":"job","jobId":"job_1"}}`)
	for _, size := range []int{0, len(body) + 20, 5 << 20} {
		out, err := pad(body, size)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			EventID string `json:"eventId"`
			Data    struct {
				JobID   string `json:"jobId"`
				Padding string `json:"padding"`
			} `json:"data"`
		}
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatalf("size %d: not JSON: %v", size, err)
		}
		if ev.EventID != "evt_1" || ev.Data.JobID != "job_1" || strings.Trim(ev.Data.Padding, "x") != "" {
			t.Errorf("size %d: the event changed: %+v", size, ev)
		}
		if size > len(body) && len(out) != size {
			t.Errorf("size %d: padded to %d bytes", size, len(out))
		}
	}
}

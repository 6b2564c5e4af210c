package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPadMakesAValidEventOfTheSize checks that a padded event is still the
// event, valid JSON, and exactly the size asked for.
func TestPadMakesAValidEventOfTheSize(t *testing.T) {
	body := []byte(`{"eventId":"evt_1","eventType":"job.completed","data":{"object":"job","jobId":"job_1"}}`)
	for _, size := range []int{0, len(body) + 20, 5 << 20} {
		out, err := pad(body, size, false)
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

// TestPadWithMultibyteText checks that multi-byte padding reaches the wire
// as raw UTF-8 (not \u escapes), valid, at exactly the size asked for.
func TestPadWithMultibyteText(t *testing.T) {
	body := []byte(`{"eventId":"evt_1","eventType":"job.completed","data":{"object":"job","jobId":"job_1"}}`)
	for _, size := range []int{1 << 10, 20<<10 + 1, 20<<10 + 2, 100 << 10} {
		out, err := pad(body, size, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != size || !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("size %d: %d bytes, valid UTF-8 %v, valid JSON %v", size, len(out), utf8.Valid(out), json.Valid(out))
		}
		if !strings.Contains(string(out), "é漢🙂") || strings.Contains(string(out), `\u`) {
			t.Errorf("size %d: the padding is not raw multi-byte text: %.200s", size, out)
		}
	}
}

// TestPadGrowsTheErrorMessage checks that an event with an errorMessage is
// padded there, a field every receiver knows, at exactly the size.
func TestPadGrowsTheErrorMessage(t *testing.T) {
	body := []byte(`{"eventId":"evt_1","eventType":"job.failed","data":{"object":"job","jobId":"job_1","errorMessage":"It failed."}}`)
	out, err := pad(body, 20<<10, true)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(out, &ev); err != nil || len(out) != 20<<10 {
		t.Fatalf("%d bytes, %v", len(out), err)
	}
	msg, _ := ev.Data["errorMessage"].(string)
	if _, extra := ev.Data["padding"]; extra || !strings.HasPrefix(msg, "It failed. é漢🙂") {
		t.Errorf("padded elsewhere than the message: %.120s", out)
	}
}

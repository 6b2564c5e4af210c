package receiver

import (
	"errors"
	"testing"
)

func TestParseEventStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		why        string
		body       string
		wantJob    string
		wantStatus string
	}{
		{"job events move their job to data.status",
			`{"eventId":"evt_1","eventType":"job.failed","data":{"jobId":"job_1","status":"failed"}}`, "job_1", statusFailed},
		{"a job event without data.status moves its job by its type",
			`{"eventId":"evt_1","eventType":"job.canceled","data":{"jobId":"job_1"}}`, "job_1", statusCanceled},
		{"model.training.started means the job is processing",
			`{"eventId":"evt_1","eventType":"model.training.started","data":{"jobId":"job_1","status":"processing"}}`, "job_1", statusProcessing},
		{"model.training.failed means the job failed, whatever data.status says",
			`{"eventId":"evt_1","eventType":"model.training.failed","data":{"jobId":"job_1","status":"x"}}`, "job_1", statusFailed},
		{"an unknown type moves nothing",
			`{"eventId":"evt_1","eventType":"job.archived","data":{"jobId":"job_1","status":"completed"}}`, "job_1", ""},
		{"a jobId that is not a string is ignored, not fatal",
			`{"eventId":"evt_1","eventType":"job.queued","data":{"jobId":7}}`, "", statusQueued},
	}
	for _, tt := range tests {
		ev, err := parseEvent([]byte(tt.body), false, false)
		if err != nil || ev.JobID != tt.wantJob || ev.Status != tt.wantStatus {
			t.Errorf("%s: got %+v, %v; want job %q status %q", tt.why, ev, err, tt.wantJob, tt.wantStatus)
		}
	}
}

// FuzzParseEvent: whatever the body, parseEvent never panics, and an event
// it accepts has the fields the receiver relies on.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"eventId":"evt_1","eventType":"job.completed","data":{"jobId":"job_1","status":"completed"}}`,
		`{"eventId":"evt_1","eventType":"x.y","data":{}, "extra": [1]}`,
		`{"eventId":1}`, `null`, `[]`, ``, `{"data":null}`,
	} {
		f.Add([]byte(s), false, false)
	}
	f.Fuzz(func(t *testing.T, body []byte, strictType, strictFields bool) {
		ev, err := parseEvent(body, strictType, strictFields)
		if err != nil {
			if !errors.Is(err, errMalformed) && !errors.Is(err, errUnknownType) && !errors.Is(err, errUnknownField) {
				t.Fatalf("error %v wraps none of the parse sentinels", err)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatalf("accepted an event without id or type: %+v", ev)
		}
		if _, ok := statusRank[ev.Status]; ev.Status != "" && !ok && !isCatalogued(ev.Type) {
			t.Fatalf("an unknown type carries status %q", ev.Status)
		}
	})
}

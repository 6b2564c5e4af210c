package events_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/events"
)

func ExampleFactory_New() {
	// A fixed clock fixes createdAt; the ids are random.
	f := events.NewFactory(
		events.WithClock(func() time.Time { return time.Date(2024, 3, 10, 15, 6, 15, 0, time.UTC) }),
	)
	ev, err := f.New(harness.JobFailed, events.JobID("job_img_gen_123"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.Type, ev.JobID, ev.Status, strings.HasPrefix(ev.ID, "evt_"))
	var body struct {
		EventID   string `json:"eventId"`
		CreatedAt string `json:"createdAt"`
		Data      struct {
			JobID  string `json:"jobId"`
			Status string `json:"status"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(body.EventID == ev.ID, body.CreatedAt, body.Data.JobID, body.Data.Status)
	// Output:
	// job.failed job_img_gen_123 failed true
	// true 2024-03-10T15:06:15Z job_img_gen_123 failed
}

func ExampleMutate() {
	body := []byte(`{"eventId":"evt_1","eventType":"job.queued","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_1","jobType":"upscale","status":"queued"}}`)
	broken, err := events.Mutate(body, events.Delete("eventId"), events.Set("data.status", 42))
	fmt.Println(string(broken), err)
	// Output:
	// {"eventType":"job.queued","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_1","jobType":"upscale","status":42}} <nil>
}

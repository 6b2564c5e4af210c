package events_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/events"
)

func ExampleFactory_New() {
	// A fixed clock and fixed randomness make the event reproducible.
	f := events.NewFactory(
		events.WithClock(func() time.Time { return time.Date(2024, 3, 10, 15, 6, 15, 0, time.UTC) }),
		events.WithRand(bytes.NewReader(make([]byte, 1024))),
	)
	ev, err := f.New(harness.JobFailed, events.JobID("job_img_gen_123"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.ID, ev.Type, ev.JobID, ev.Status)
	fmt.Println(string(ev.Body))
	// Output:
	// evt_00000000000000000000 job.failed job_img_gen_123 failed
	// {"eventId":"evt_00000000000000000000","eventType":"job.failed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_img_gen_123","jobType":"image_generation","status":"failed","errorCode":"content_policy_violation","errorMessage":"The prompt was rejected by the content policy."}}
}

func ExampleMutate() {
	body := []byte(`{"eventId":"evt_1","eventType":"job.queued","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_1","jobType":"upscale","status":"queued"}}`)
	broken, err := events.Mutate(body, events.Delete("eventId"), events.Set("data.status", 42))
	fmt.Println(string(broken), err)
	// Output:
	// {"eventType":"job.queued","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_1","jobType":"upscale","status":42}} <nil>
}

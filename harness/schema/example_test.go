package schema_test

import (
	"fmt"

	"github.com/realm-ai/hookcert/harness/schema"
)

func ExampleCatalogue_ValidateEvent() {
	c := schema.Default()
	body := []byte(`{"eventId":"evt_1","eventType":"job.completed","apiVersion":"v1",` +
		`"createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_1",` +
		`"jobType":"upscale","status":"processing"}}`)
	fmt.Println(c.ValidateEvent(body))
	// Output:
	// job.completed: /data: missing properties 'results', 'completedAt'; /data/status: value must be 'completed'
}

package receiver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/signing"
)

// Start a reference receiver on a free loopback port, deliver one signed
// event and a redelivery of it, and read the probe.
func ExampleStart() {
	secret := harness.Secret("whsec_example")
	srv, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{secret}}, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	body := []byte(`{"eventId":"evt_example_1","eventType":"job.completed","apiVersion":"v1",` +
		`"createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_example_1",` +
		`"jobType":"upscale","status":"completed"}}`)
	for attempt := 1; attempt <= 2; attempt++ {
		req, _ := http.NewRequest(http.MethodPost, srv.WebhookURL, bytes.NewReader(body))
		req.Header.Set(harness.HeaderSignature, signing.Signer{Secrets: []harness.Secret{secret}}.HeaderAt(time.Now(), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println("attempt", attempt, resp.Status)
	}

	// Processing is asynchronous: ask the probe until the event shows
	// (bounded), as the harness does.
	probe := func(path string, v any) int {
		resp, err := http.Get(srv.ProbeURL + path)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(v)
		return resp.StatusCode
	}
	var event struct{ TimesProcessed int }
	for i := 0; i < 100 && probe("/events/evt_example_1", &event) != http.StatusOK; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	var job struct{ Status string }
	probe("/jobs/job_example_1", &job)
	fmt.Println("processed", event.TimesProcessed, "job", job.Status)
	// Output:
	// attempt 1 202 Accepted
	// attempt 2 200 OK
	// processed 1 job completed
}

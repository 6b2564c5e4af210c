package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v82/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/signing"
)

// TestEverySchemeEndToEnd sends deliveries signed in each built-in scheme
// by the sender to the reference receiver verifying that scheme, over real
// HTTP: a correct one is acknowledged; a wrong secret, an altered body, no
// signature and timestamps past the tolerance are refused 401; a rotation
// is accepted where the scheme can write one.
func TestEverySchemeEndToEnd(t *testing.T) {
	t.Parallel()
	const secret harness.Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const other harness.Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	for _, name := range signing.BuiltinSchemes() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, err := signing.Builtin(name)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{secret}, Scheme: sc}, false)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			sender, err := delivery.NewSender(srv.WebhookURL, secret, delivery.WithScheme(sc), delivery.WithTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer sender.CloseIdleConnections()
			n := 0
			event := func() harness.Event {
				n++
				id := fmt.Sprintf("evt_%s_%d_%d", name, time.Now().UnixNano(), n)
				body := fmt.Sprintf(`{"eventId":%q,"eventType":"job.queued","apiVersion":"v1","createdAt":"2026-11-29T12:00:00Z","data":{"object":"job","jobId":"job_%d","jobType":"image_generation","status":"queued"}}`, id, n)
				return harness.Event{ID: id, Type: "job.queued", Body: []byte(body)}
			}
			cases := []struct {
				what string
				want int
				mut  func(*delivery.Attempt)
			}{
				{"signed as sent", http.StatusAccepted, nil},
				{"wrong secret", http.StatusUnauthorized, func(a *delivery.Attempt) { a.Secrets = []harness.Secret{other} }},
				{"body altered after signing", http.StatusUnauthorized, func(a *delivery.Attempt) { a.SignedBody, a.Body = a.Body, append([]byte(" "), a.Body...) }},
				{"no signature", http.StatusUnauthorized, func(a *delivery.Attempt) { a.NoSignature = true }},
			}
			if sc.HasTimestamp() {
				cases = append(cases, struct {
					what string
					want int
					mut  func(*delivery.Attempt)
				}{"10 minutes old", http.StatusUnauthorized, func(a *delivery.Attempt) { a.TimeOffset = -10 * time.Minute }})
				future := http.StatusUnauthorized
				if sc.Timestamp.PastOnly {
					future = http.StatusAccepted
				}
				cases = append(cases, struct {
					what string
					want int
					mut  func(*delivery.Attempt)
				}{"10 minutes ahead", future, func(a *delivery.Attempt) { a.TimeOffset = 10 * time.Minute }})
			}
			if sc.Signature.Separator != "" {
				cases = append(cases, struct {
					what string
					want int
					mut  func(*delivery.Attempt)
				}{"rotation", http.StatusAccepted, func(a *delivery.Attempt) { a.Secrets = []harness.Secret{other, secret} }})
			}
			for _, c := range cases {
				a := sender.Attempt(event())
				if c.mut != nil {
					c.mut(&a)
				}
				ex := sender.Send(context.Background(), a)
				if ex.Status() != c.want {
					t.Errorf("%s: %s answered %d (%s), want %d; headers sent %v", name, c.what, ex.Status(), ex.Err, c.want, ex.Request.Header)
				}
			}
		})
	}
}

// TestWhatTheLibrariesSignIsAccepted posts deliveries signed by the
// providers' official libraries to the reference receiver verifying their
// scheme, over HTTP: each is acknowledged and processed.
func TestWhatTheLibrariesSignIsAccepted(t *testing.T) {
	t.Parallel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	std, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sign := map[string]func(id string, body []byte) http.Header{
		"standard-webhooks": func(id string, body []byte) http.Header {
			now := time.Now()
			v, err := std.Sign(id, now, body)
			if err != nil {
				t.Fatal(err)
			}
			return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {fmt.Sprint(now.Unix())}, "Webhook-Signature": {v}}
		},
		"stripe": func(_ string, body []byte) http.Header {
			p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret})
			return http.Header{"Stripe-Signature": {p.Header}}
		},
	}
	// Svix signs in the same scheme as Standard Webhooks.
	svixSign := func(id string, body []byte) http.Header {
		now := time.Now()
		v, err := sv.Sign(id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {fmt.Sprint(now.Unix())}, "Webhook-Signature": {v}}
	}
	for _, tc := range []struct {
		scheme, lib string
		sign        func(string, []byte) http.Header
	}{
		{"standard-webhooks", "standard-webhooks", sign["standard-webhooks"]},
		{"standard-webhooks", "svix", svixSign},
		{"stripe", "stripe-go", sign["stripe"]},
	} {
		sc, err := signing.Builtin(tc.scheme)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{secret}, Scheme: sc}, false)
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("evt_lib_%d", time.Now().UnixNano())
		body := []byte(fmt.Sprintf(`{"eventId":%q,"eventType":"job.queued","apiVersion":"v1","createdAt":"2026-11-29T12:00:00Z","data":{"object":"job","jobId":"job_lib","jobType":"image_generation","status":"queued"}}`, id))
		req, _ := http.NewRequest(http.MethodPost, srv.WebhookURL, bytes.NewReader(body))
		req.Header = tc.sign(id, body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("a delivery signed by %s answered %d by the %s reference receiver, want 202", tc.lib, resp.StatusCode, tc.scheme)
		}
		deadline := time.Now().Add(5 * time.Second)
		for receiver.ReceiverOf(srv).TimesProcessed(id) != 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := receiver.ReceiverOf(srv).TimesProcessed(id); n != 1 {
			t.Errorf("a delivery signed by %s was processed %d times, want 1", tc.lib, n)
		}
		srv.Close()
	}
}

package receiver_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

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

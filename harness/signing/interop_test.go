package signing_test

// Interop with the providers' official libraries, in both directions where
// a library signs: what a built-in scheme signs verifies with the library,
// and each broken variant (wrong secret, altered body, stale or future
// timestamp, no signature, garbage, truncated) is refused by it; what the
// library signs verifies with the scheme. The libraries are test-only
// dependencies: no product package imports them.

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-github/v74/github"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v82/webhook"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

const (
	interopBody   = `{"eventId":"evt_interop_1","eventType":"job.completed","apiVersion":"v1","createdAt":"2026-11-29T12:00:00Z","data":{"object":"job","jobId":"job_1","jobType":"image_generation","status":"completed","results":[{"imageId":"img_1","url":"https://cdn.realm.ai/images/img_1.png","seed":42}],"completedAt":"2026-11-29T12:00:00Z"}}`
	stdwhSecret   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stripeSecret  = "whsec_realm_stripe_test"
	githubSecret  = "realm_test_secret"
	anotherSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

// variant is one delivery a scheme signs, broken in one way or not at all.
type variant struct {
	name   string
	ok     bool
	header http.Header
	body   []byte
}

// variants signs interopBody with scheme s as a sender would, correctly
// and broken in each way the scheme can express.
func variants(t *testing.T, name string, secret harness.Secret) []variant {
	t.Helper()
	s, err := signing.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	keyOf := func(sec harness.Secret) []byte {
		k, err := s.KeyOf(sec)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	d := signing.Delivery{ID: "evt_interop_1", Type: "job.completed", Attempt: 1, T: now.Unix(), Body: []byte(interopBody)}
	header := func(d signing.Delivery, keys ...[]byte) http.Header {
		h := http.Header{}
		for _, l := range s.HeaderLines(d, keys...) {
			h.Set(l.Name, l.Value)
		}
		return h
	}
	good := header(d, keyOf(secret))
	sig := good.Get(s.Signature.Header)
	with := func(value string) http.Header {
		h := good.Clone()
		h.Set(s.Signature.Header, value)
		return h
	}
	out := []variant{
		{"signed as sent", true, good, d.Body},
		{"wrong secret", false, header(d, keyOf(anotherSecret)), d.Body},
		{"body altered after signing", false, good, append(bytes.Clone(d.Body), ' ')},
		{"no signature header", false, func() http.Header { h := good.Clone(); h.Del(s.Signature.Header); return h }(), d.Body},
		{"garbage", false, with("garbage"), d.Body},
		{"truncated", false, with(sig[:len(sig)-8]), d.Body},
	}
	if s.HasTimestamp() {
		stale, future := d, d
		stale.T, future.T = now.Add(-10*time.Minute).Unix(), now.Add(10*time.Minute).Unix()
		out = append(out,
			variant{"10 minutes old", false, header(stale, keyOf(secret)), d.Body},
			variant{"10 minutes ahead", s.Timestamp.PastOnly, header(future, keyOf(secret)), d.Body})
	}
	if s.Signature.Separator != "" {
		out = append(out, variant{"rotation: a signature of another secret first", true, header(d, keyOf(anotherSecret), keyOf(secret)), d.Body})
	}
	return out
}

// agree checks that verify accepts exactly the variants that are ok.
func agree(t *testing.T, lib string, vs []variant, verify func(v variant) error) {
	t.Helper()
	for _, v := range vs {
		err := verify(v)
		if v.ok && err != nil {
			t.Errorf("%s refuses %q: %v", lib, v.name, err)
		}
		if !v.ok && err == nil {
			t.Errorf("%s accepts %q", lib, v.name)
		}
	}
}

func TestStandardWebhooksLibraries(t *testing.T) {
	vs := variants(t, "standard-webhooks", stdwhSecret)
	std, err := standardwebhooks.NewWebhook(stdwhSecret)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, "standard-webhooks", vs, func(v variant) error { return std.Verify(v.body, v.header) })
	sv, err := svix.NewWebhook(stdwhSecret)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, "svix", vs, func(v variant) error { return sv.Verify(v.body, v.header) })

	// What the libraries sign, the scheme verifies.
	s, _ := signing.Builtin("standard-webhooks")
	key, _ := s.KeyOf(stdwhSecret)
	now := time.Now()
	for lib, sign := range map[string]func(string, time.Time, []byte) (string, error){"standard-webhooks": std.Sign, "svix": sv.Sign} {
		value, err := sign("evt_interop_1", now, []byte(interopBody))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("webhook-id", "evt_interop_1")
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("webhook-signature", value)
		if err := s.Verify([][]byte{key}, h, []byte(interopBody), now); err != nil {
			t.Errorf("what %s signs (%s) does not verify: %v", lib, value, err)
		}
	}
}

func TestStripeLibrary(t *testing.T) {
	vs := variants(t, "stripe", stripeSecret)
	agree(t, "stripe-go", vs, func(v variant) error {
		return webhook.ValidatePayload(v.body, v.header.Get("Stripe-Signature"), stripeSecret)
	})
	s, _ := signing.Builtin("stripe")
	key, _ := s.KeyOf(stripeSecret)
	now := time.Now()
	p := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(interopBody), Secret: stripeSecret, Timestamp: now})
	h := http.Header{}
	h.Set("Stripe-Signature", p.Header)
	if err := s.Verify([][]byte{key}, h, []byte(interopBody), now); err != nil {
		t.Errorf("what stripe-go signs (%s) does not verify: %v", p.Header, err)
	}
}

// TestGitHubLibrary: go-github verifies only, so one direction.
func TestGitHubLibrary(t *testing.T) {
	vs := variants(t, "github", githubSecret)
	agree(t, "go-github", vs, func(v variant) error {
		_, err := github.ValidatePayloadFromBody("application/json", bytes.NewReader(v.body), v.header.Get("X-Hub-Signature-256"), []byte(githubSecret))
		return err
	})
}

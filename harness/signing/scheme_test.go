package signing

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/schema"
)

// The signing schemes' test vectors (README "Signing schemes"), verbatim:
// the REALM v1 body above at vectorT with id evt_webhook_12345, signed
// with each scheme's secret, and Standard Webhooks' own example.
const (
	vectorID         = "evt_webhook_12345"
	stdSecret        = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stdVector        = "v1,wqiAZb0tkT++6oK/cCGpzOgY9dKdCz8gtZw0TCaY8JI="
	stdSpecID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	stdSpecT         = 1614265330
	stdSpecBody      = `{"test": 2432232314}`
	stdSpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	stripeSecret     = "whsec_realm_stripe_test"
	stripeVector     = "t=1710083175,v1=9e0c23995962835c04388205f8e09278837f8a2ace0344b1b1021e7a5ffb1a76"
	githubVector     = "sha256=875caa318f09ab4a98a3c0bd5bb436ba0ea4ea08d40e7f7ef82951e81e30d48f"
)

func builtin(t *testing.T, name string) *Scheme {
	t.Helper()
	s, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func key(t *testing.T, s *Scheme, secret harness.Secret) []byte {
	t.Helper()
	k, err := s.KeyOf(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSchemeVectors signs each vector with its built-in scheme, byte for
// byte, and verifies it back.
func TestSchemeVectors(t *testing.T) {
	if got := BuiltinSchemes(); !slices.Equal(got, []string{"github", "realm-v1", "standard-webhooks", "stripe"}) {
		t.Fatalf("built-in schemes %v", got)
	}
	vector := Delivery{ID: vectorID, Type: "job.completed", Attempt: 1, T: vectorT, Body: []byte(vectorBody)}
	for _, tc := range []struct {
		scheme string
		secret harness.Secret
		d      Delivery
		header string
		want   string
	}{
		{"realm-v1", vectorSecret, vector, "X-Webhook-Signature", "t=1710083175,v1=" + vectorV1},
		{"standard-webhooks", stdSecret, vector, "webhook-signature", stdVector},
		{"standard-webhooks", stdSecret, Delivery{ID: stdSpecID, T: stdSpecT, Body: []byte(stdSpecBody)}, "webhook-signature", stdSpecSignature},
		{"stripe", stripeSecret, vector, "Stripe-Signature", stripeVector},
		{"github", vectorSecret, vector, "X-Hub-Signature-256", githubVector},
	} {
		s := builtin(t, tc.scheme)
		lines := s.HeaderLines(tc.d, key(t, s, tc.secret))
		if lines[0].Name != tc.header || lines[0].Value != tc.want {
			t.Errorf("%s: %s: %s, want %s: %s", tc.scheme, lines[0].Name, lines[0].Value, tc.header, tc.want)
		}
		h := http.Header{}
		for _, l := range lines {
			h.Set(l.Name, l.Value)
		}
		now := time.Unix(tc.d.T, 0).Add(time.Minute)
		if err := s.Verify([][]byte{key(t, s, tc.secret)}, h, tc.d.Body, now); err != nil {
			t.Errorf("%s: its own vector does not verify: %v", tc.scheme, err)
		}
		if err := s.Verify([][]byte{key(t, s, tc.secret)}, h, append([]byte(" "), tc.d.Body...), now); !errors.Is(err, ErrNoMatch) {
			t.Errorf("%s: an altered body: %v, want ErrNoMatch", tc.scheme, err)
		}
	}
}

// TestSchemeRealmMatchesSign: the realm-v1 scheme file signs as the
// package's own REALM v1 signer does, rotation included.
func TestSchemeRealmMatchesSign(t *testing.T) {
	s := builtin(t, "realm-v1")
	d := Delivery{ID: vectorID, Type: "job.completed", Attempt: 2, T: vectorT, Body: []byte(vectorBody)}
	lines := s.HeaderLines(d, key(t, s, vectorRotated), key(t, s, vectorSecret))
	if want := FormatHeader(vectorT, vectorV1Rot, vectorV1); lines[0].Value != want {
		t.Errorf("rotation: %s, want %s", lines[0].Value, want)
	}
	if got := lines[1:]; !slices.Equal(got, []Header{{"X-Webhook-Id", vectorID}, {"X-Webhook-Event", "job.completed"}, {"X-Webhook-Attempt", "2"}}) {
		t.Errorf("the other headers: %v", got)
	}
}

// TestSchemeTimestamps: a scheme with a timestamp refuses one past its
// tolerance either way; github's has none to refuse.
func TestSchemeTimestamps(t *testing.T) {
	for _, name := range BuiltinSchemes() {
		s := builtin(t, name)
		secret := harness.Secret("whsec_" + strings.Repeat("A", 32))
		d := Delivery{ID: vectorID, Type: "job.completed", Attempt: 1, T: vectorT, Body: []byte(vectorBody)}
		h := http.Header{}
		for _, l := range s.HeaderLines(d, key(t, s, secret)) {
			h.Set(l.Name, l.Value)
		}
		keys := [][]byte{key(t, s, secret)}
		at := time.Unix(vectorT, 0)
		late, early := s.Verify(keys, h, d.Body, at.Add(10*time.Minute)), s.Verify(keys, h, d.Body, at.Add(-10*time.Minute))
		if !s.HasTimestamp() {
			if late != nil || early != nil || s.Tolerance() != 0 {
				t.Errorf("%s has no timestamp, yet refuses: %v, %v", name, late, early)
			}
			continue
		}
		wantEarly := ErrTooNew
		if s.Timestamp.PastOnly {
			wantEarly = nil
		}
		if !errors.Is(late, ErrTooOld) || !errors.Is(early, wantEarly) || s.Tolerance() != 300*time.Second {
			t.Errorf("%s: 10 minutes late %v, early %v, tolerance %s", name, late, early, s.Tolerance())
		}
	}
}

// TestCustomSchemes writes Slack's and Shopify's schemes as files and
// round-trips a delivery through sign and verify; the signatures are
// checked against the providers' formats computed independently.
func TestCustomSchemes(t *testing.T) {
	slack := `{"name":"slack","signature":{"header":"X-Slack-Signature","entry":"v0={signature}"},
		"message":"v0:{t}:{body}","mac":"hmac-sha256","encoding":"hex","timestamp":{"tolerance":"5m"},
		"headers":[{"name":"X-Slack-Request-Timestamp","value":"{t}"}]}`
	shopify := `{"name":"shopify","signature":{"header":"X-Shopify-Hmac-Sha256","entry":"{signature}"},
		"message":"{body}","mac":"hmac-sha256","encoding":"base64"}`
	body := []byte(`{"token":"x","team_id":"T1"}`)
	for _, tc := range []struct {
		file, want string
	}{
		// printf 'v0:1531420618:{"token":"x","team_id":"T1"}' | openssl dgst -sha256 -hmac 8f742231b10e8888abcd99yyyzzz85a5
		{slack, "v0=52829b3d2f64470ba3650b8c612b0186c5e52c47d1de8a55d4a6afe4aeab3a6a"},
		// printf '{"token":"x","team_id":"T1"}' | openssl dgst -sha256 -hmac 8f742231b10e8888abcd99yyyzzz85a5 -binary | base64
		{shopify, "4bNTtp/jZELwSJ3VDQcU/ZDwIkfRcQrl1q8/GHF0rSU="},
	} {
		s, err := DecodeScheme([]byte(tc.file))
		if err != nil {
			t.Fatal(err)
		}
		secret := harness.Secret("8f742231b10e8888abcd99yyyzzz85a5")
		d := Delivery{T: 1531420618, Body: body}
		lines := s.HeaderLines(d, key(t, s, secret))
		if lines[0].Value != tc.want {
			t.Errorf("%s: %s, want %s", s.Name, lines[0].Value, tc.want)
		}
		h := http.Header{}
		for _, l := range lines {
			h.Set(l.Name, l.Value)
		}
		if err := s.Verify([][]byte{key(t, s, secret)}, h, body, time.Unix(d.T, 0)); err != nil {
			t.Errorf("%s: round trip: %v", s.Name, err)
		}
	}
}

// TestSchemeRefusesWhatCannotWork: schemes that cannot sign or be verified
// are refused with the reason.
func TestSchemeRefusesWhatCannotWork(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{t}.{body}","mac":"hmac-sha256","encoding":"hex"}`, "{t} is used without"},
		{`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{id}.{body}","mac":"hmac-sha256","encoding":"hex"}`, "needs a header whose value is {id}"},
		{`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{body}","mac":"md5","encoding":"hex"}`, "mac"},
		{`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{body}","mac":"hmac-sha256","encoding":"hex","timestamp":{"tolerance":"5m"}}`, "needs signature.timestampEntry"},
		{`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{body}","mac":"hmac-sha256","encoding":"hex","extra":1}`, "unknown field"},
		// Schemes whose own deliveries would not verify, as
		// FuzzDecodeScheme demands of every scheme accepted.
		{`{"name":"x","signature":{"header":"S","entry":"{signature}","separator":",","timestampEntry":"0"},"message":"{body}","mac":"hmac-sha256","encoding":"hex","timestamp":{"tolerance":"1s"}}`, "timestampEntry must hold {t} once"},
		{`{"name":"x","signature":{"header":"S","entry":"{signature}","separator":"0"},"message":"{body}","mac":"hmac-sha256","encoding":"hex"}`, "must hold a character that no entry can"},
		{`{"name":"x","signature":{"header":"S","entry":"v1,{signature}","separator":","},"message":"{body}","mac":"hmac-sha256","encoding":"hex"}`, "must hold a character that no entry can"},
		{`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{type}.{body}","mac":"hmac-sha256","encoding":"hex"}`, "no placeholder but {t} and {id}"},
		{`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{body}","mac":"hmac-sha256","encoding":"hex","headers":[{"name":"s","value":"{id}"}]}`, "named twice"},
	} {
		if _, err := DecodeScheme([]byte(tc.doc)); !errors.Is(err, ErrScheme) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrScheme saying %q", tc.doc, err, tc.want)
		}
	}
	if _, err := Builtin("../realm-v1"); !errors.Is(err, ErrScheme) {
		t.Errorf("a path as a scheme name: %v", err)
	}
}

// TestBuiltinSchemesMatchTheSchema: the built-in scheme files are what
// schemas/scheme.schema.json describes, as a user's file must be.
func TestBuiltinSchemesMatchTheSchema(t *testing.T) {
	for _, name := range BuiltinSchemes() {
		data, err := builtinFS.ReadFile("schemes/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Default().Validate("scheme", data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := `{"name":"x","signature":{"header":"S","entry":"v1"},"message":"{body}","mac":"hmac-sha256","encoding":"hex"}`
	if err := schema.Default().Validate("scheme", []byte(bad)); err == nil {
		t.Error("an entry without {signature} matches the schema")
	}
}

// TestSchemeRefusesSignaturesNotAsEncoded: a signature verifies only as
// its encoding writes it; Go's base64 decoder would skip a carriage return
// or a newline inside one.
func TestSchemeRefusesSignaturesNotAsEncoded(t *testing.T) {
	s := builtin(t, "standard-webhooks")
	k := key(t, s, stdSecret)
	for _, sig := range []string{
		stdVector[:20] + "\r" + stdVector[20:],
		stdVector[:20] + "\n" + stdVector[20:],
		stdVector + "\r\n",
	} {
		h := http.Header{}
		h.Set("webhook-signature", sig)
		h.Set("webhook-id", vectorID)
		h.Set("webhook-timestamp", "1710083175")
		if err := s.Verify([][]byte{k}, h, []byte(vectorBody), time.Unix(vectorT, 0)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", sig, err)
		}
	}
}

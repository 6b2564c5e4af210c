package signing

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// The REALM v1 signing test vector, verbatim: the 348-byte body has no
// trailing newline.
const (
	vectorSecret  harness.Secret = "realm_test_secret"
	vectorRotated harness.Secret = "realm_rotated_secret"
	vectorT       int64          = 1710083175
	vectorBody                   = `{"eventId":"evt_webhook_12345","eventType":"job.completed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_img_gen_123","jobType":"image_generation","status":"completed","results":[{"imageId":"img_abc","url":"https://cdn.realm.ai/images/img_abc.png","seed":123456789}],"completedAt":"2024-03-10T15:06:10Z"}}`
	vectorV1                     = "99f5b03e4352de5b6385fcddb1ef785a8a04d3eda2427d62b4bf086e227cc462"
	vectorV1Rot                  = "c4adccb38a5217cd503d543d495e886cc8674631a4c26c22390674bf9214ac39"
)

// hexA and hexB are well-formed v1 values that match nothing.
var (
	hexA = strings.Repeat("a", 64)
	hexB = strings.Repeat("0123456789abcdef", 4)
)

func fixed(t time.Time) harness.Clock { return func() time.Time { return t } }

func TestSignVector(t *testing.T) {
	if n := len(vectorBody); n != 348 {
		t.Fatalf("test vector body is %d bytes, want 348", n)
	}
	tests := []struct {
		why    string
		secret harness.Secret
		want   string
	}{
		{"the primary secret of the test vector", vectorSecret, vectorV1},
		{"the rotated secret of the test vector", vectorRotated, vectorV1Rot},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := Sign(tt.secret, vectorT, []byte(vectorBody)); got != tt.want {
				t.Errorf("Sign = %s, want %s", got, tt.want)
			}
		})
	}
	// The signer builds the full header, one v1 per secret, in order.
	s := Signer{Secrets: []harness.Secret{vectorRotated, vectorSecret}}
	want := "t=1710083175,v1=" + vectorV1Rot + ",v1=" + vectorV1
	if got := s.HeaderAt(time.Unix(vectorT, 0), []byte(vectorBody)); got != want {
		t.Errorf("HeaderAt = %s, want %s", got, want)
	}
	// Header uses the injected clock, not the wall clock.
	s.Clock = fixed(time.Unix(vectorT, 0))
	if got := s.header([]byte(vectorBody)); got != want {
		t.Errorf("Header with fixed clock = %s, want %s", got, want)
	}
}

func TestFormatHeader(t *testing.T) {
	tests := []struct {
		why  string
		t    int64
		v1   []string
		want string
	}{
		{"a single entry, the common case", 5, []string{hexA}, "t=5,v1=" + hexA},
		{"rotation keeps the order given", 5, []string{hexA, hexB}, "t=5,v1=" + hexA + ",v1=" + hexB},
		{"no entries still gives t, for malformed-header checks", 7, nil, "t=7"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			if got := FormatHeader(tt.t, tt.v1...); got != tt.want {
				t.Errorf("FormatHeader = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		why     string
		header  string
		want    Signature
		wantErr error
	}{
		{"one v1, the common case", "t=1710083175,v1=" + vectorV1,
			Signature{vectorT, []string{vectorV1}}, nil},
		{"several v1 during rotation, order kept", "t=12,v1=" + hexA + ",v1=" + hexB + ",v1=" + vectorV1,
			Signature{12, []string{hexA, hexB, vectorV1}}, nil},
		{"t need not come first", "v1=" + hexA + ",t=12",
			Signature{12, []string{hexA}}, nil},
		{"unknown schemes are ignored for forward compatibility", "t=12,v0=abc,v1=" + hexA + ",v2=zz",
			Signature{12, []string{hexA}}, nil},
		{"spaces around entries are tolerated", "  t=12 , v1=" + hexA + " ",
			Signature{12, []string{hexA}}, nil},
		{"empty header means missing", "", Signature{}, errMissing},
		{"blank header means missing", "   ", Signature{}, errMissing},
		{"garbage is malformed", "garbage", Signature{}, ErrMalformed},
		{"garbage with separators is malformed", "!!,==,;;", Signature{}, ErrMalformed},
		{"no v1 entry is malformed", "t=12", Signature{}, ErrMalformed},
		{"only unknown schemes is malformed", "t=12,v0=" + hexA, Signature{}, ErrMalformed},
		{"non-hex v1 is malformed", "t=12,v1=" + strings.Repeat("g", 64), Signature{}, ErrMalformed},
		{"uppercase hex is not the lowercase the spec demands", "t=12,v1=" + strings.ToUpper(hexB), Signature{}, ErrMalformed},
		{"truncated v1 is malformed", "t=12,v1=" + vectorV1[:63], Signature{}, ErrMalformed},
		{"overlong v1 is malformed", "t=12,v1=" + vectorV1 + "0", Signature{}, ErrMalformed},
		{"empty v1 is malformed", "t=12,v1=", Signature{}, ErrMalformed},
		{"t missing is malformed", "v1=" + hexA, Signature{}, ErrMalformed},
		{"t twice is ambiguous, so malformed", "t=12,t=13,v1=" + hexA, Signature{}, ErrMalformed},
		{"negative t is malformed", "t=-12,v1=" + hexA, Signature{}, ErrMalformed},
		{"zero t is malformed", "t=0,v1=" + hexA, Signature{}, ErrMalformed},
		{"non-integer t is malformed", "t=12.5,v1=" + hexA, Signature{}, ErrMalformed},
		{"t beyond int64 is malformed", "t=99999999999999999999,v1=" + hexA, Signature{}, ErrMalformed},
		{"a trailing comma leaves an empty entry", "t=12,v1=" + hexA + ",", Signature{}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			got, err := ParseHeader(tt.header)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseHeader(%q) error = %v, want %v", tt.header, err, tt.wantErr)
				}
				if got.Timestamp != 0 || got.V1 != nil {
					t.Errorf("ParseHeader(%q) returned %+v alongside an error", tt.header, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHeader(%q) error = %v", tt.header, err)
			}
			if !sameSignature(got, tt.want) {
				t.Errorf("ParseHeader(%q) = %+v, want %+v", tt.header, got, tt.want)
			}
		})
	}
}

func sameSignature(a, b Signature) bool {
	if a.Timestamp != b.Timestamp || len(a.V1) != len(b.V1) {
		return false
	}
	for i := range a.V1 {
		if a.V1[i] != b.V1[i] {
			return false
		}
	}
	return true
}

func TestVerifier(t *testing.T) {
	now := time.Unix(vectorT, 0)
	body := []byte(vectorBody)
	good := FormatHeader(vectorT, vectorV1)
	at := func(d time.Duration) string {
		ts := now.Add(d).Unix()
		return FormatHeader(ts, Sign(vectorSecret, ts, body))
	}
	tests := []struct {
		why     string
		secrets []harness.Secret
		header  string
		body    string
		clock   harness.Clock
		wantErr error
	}{
		{"the test vector verifies at its own time", nil, good, vectorBody, fixed(now), nil},
		{"rotation: only the last of several v1 is valid", nil,
			FormatHeader(vectorT, hexA, vectorV1Rot, vectorV1), vectorBody, fixed(now), nil},
		{"receiver-side rotation: the header signed with the new secret, verifier knows both",
			[]harness.Secret{vectorSecret, vectorRotated}, FormatHeader(vectorT, vectorV1Rot), vectorBody, fixed(now), nil},
		{"wrong secret does not match", []harness.Secret{"not_the_secret"}, good, vectorBody, fixed(now), ErrNoMatch},
		{"no secrets configured matches nothing", []harness.Secret{}, good, vectorBody, fixed(now), ErrNoMatch},
		{"a body altered after signing does not match", nil, good, strings.Replace(vectorBody, "completed", "failed", 1), fixed(now), ErrNoMatch},
		{"one byte appended does not match", nil, good, vectorBody + "\n", fixed(now), ErrNoMatch},
		{"a signature moved to another t does not match", nil, FormatHeader(vectorT+1, vectorV1), vectorBody, fixed(now), ErrNoMatch},
		{"10 min old is a replay", nil, at(-10 * time.Minute), vectorBody, fixed(now), ErrTooOld},
		{"10 min ahead is rejected", nil, at(10 * time.Minute), vectorBody, fixed(now), ErrTooNew},
		{"exactly at tolerance in the past is accepted", nil, at(-harness.DefaultTolerance), vectorBody, fixed(now), nil},
		{"exactly at tolerance in the future is accepted", nil, at(harness.DefaultTolerance), vectorBody, fixed(now), nil},
		{"one second past tolerance is too old", nil, at(-harness.DefaultTolerance - time.Second), vectorBody, fixed(now), ErrTooOld},
		{"one second beyond tolerance ahead is too new", nil, at(harness.DefaultTolerance + time.Second), vectorBody, fixed(now), ErrTooNew},
		{"a t centuries ahead must not overflow into acceptance", nil,
			FormatHeader(1<<62, Sign(vectorSecret, 1<<62, body)), vectorBody, fixed(now), ErrTooNew},
		{"the wall clock is used without an injected one, so the 2024 vector is stale", nil, good, vectorBody, nil, ErrTooOld},
		{"a missing header is reported as missing", nil, "", vectorBody, fixed(now), errMissing},
		{"a malformed header is reported as malformed", nil, "t=abc", vectorBody, fixed(now), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			secrets := tt.secrets
			if secrets == nil {
				secrets = []harness.Secret{vectorSecret}
			}
			v := Verifier{Secrets: secrets, Clock: tt.clock}
			err := v.verify(tt.header, []byte(tt.body))
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Verify error = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifierCustomTolerance(t *testing.T) {
	now := time.Unix(vectorT, 0)
	body := []byte(vectorBody)
	ts := vectorT - 61
	h := FormatHeader(ts, Sign(vectorSecret, ts, body))
	strict := Verifier{Secrets: []harness.Secret{vectorSecret}, Tolerance: time.Minute, Clock: fixed(now)}
	if err := strict.verify(h, body); !errors.Is(err, ErrTooOld) {
		t.Errorf("61 s old under a 1 min tolerance: error = %v, want ErrTooOld", err)
	}
	lax := Verifier{Secrets: []harness.Secret{vectorSecret}, Clock: fixed(now)}
	if err := lax.verify(h, body); err != nil {
		t.Errorf("61 s old under the default tolerance: error = %v, want nil", err)
	}
}

// TestSecretNeverPrinted drives every error path with a distinctive secret
// and checks that neither the errors nor the formatted signer reveal it.
func TestSecretNeverPrinted(t *testing.T) {
	const raw = "sk_live_super_secret_value_42"
	secret := harness.Secret(raw)
	now := time.Unix(vectorT, 0)
	body := []byte(vectorBody)
	v := Verifier{Secrets: []harness.Secret{secret}, Clock: fixed(now)}
	headers := []string{
		"", "garbage", "t=12", "t=12,v1=zz", "v1=" + hexA, "t=1,t=2,v1=" + hexA,
		FormatHeader(vectorT, hexA),
		FormatHeader(vectorT-3600, Sign(secret, vectorT-3600, body)),
		FormatHeader(vectorT+3600, Sign(secret, vectorT+3600, body)),
	}
	for _, h := range headers {
		err := v.verify(h, body)
		if err == nil {
			t.Fatalf("Verify(%q) succeeded; this test needs every header to fail", h)
		}
		if strings.Contains(err.Error(), raw) {
			t.Errorf("Verify(%q) error reveals the secret: %v", h, err)
		}
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, x := range []any{secret, v, Signer{Secrets: []harness.Secret{secret}}} {
			if out := fmt.Sprintf(format, x); strings.Contains(out, raw) {
				t.Errorf("Sprintf(%q, %T) reveals the secret: %s", format, x, out)
			}
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	seeds := []string{
		"t=1710083175,v1=" + vectorV1,
		"t=1710083175,v1=" + hexA + ",v1=" + vectorV1,
		"t=1,v0=x,v1=" + hexA + ",v2=y",
		" t=1 , v1=" + hexA + " ",
		"", "garbage", "t=", "v1=", "t=1", "t=-1,v1=" + hexA, "t=1,t=1,v1=" + hexA,
		"t=+7,v1=" + hexA, "t=007,v1=" + hexA, "t=1,v1=" + vectorV1[:10], ",,,", "=,=",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		sig, err := ParseHeader(h)
		if err != nil {
			if !errors.Is(err, errMissing) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseHeader(%q) error %v wraps neither sentinel", h, err)
			}
			return
		}
		if sig.Timestamp <= 0 || len(sig.V1) == 0 {
			t.Fatalf("ParseHeader(%q) accepted an incomplete signature %+v", h, sig)
		}
		again, err := ParseHeader(FormatHeader(sig.Timestamp, sig.V1...))
		if err != nil {
			t.Fatalf("re-parsing the formatted %+v failed: %v", sig, err)
		}
		if !sameSignature(sig, again) {
			t.Fatalf("round trip changed %+v into %+v", sig, again)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	large := bytes.Repeat([]byte("x"), 100<<10)
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"348B", []byte(vectorBody)},
		{"100KB", large},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				Sign(vectorSecret, vectorT, bc.body)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	v := Verifier{Secrets: []harness.Secret{vectorSecret}, Clock: fixed(time.Unix(vectorT, 0))}
	h := FormatHeader(vectorT, vectorV1)
	body := []byte(vectorBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

// ExampleSign signs the REALM v1 signing test vector, as
// README "The hookcert command" does.
func ExampleSign() {
	body := []byte(vectorBody)
	fmt.Println(FormatHeader(vectorT, Sign("realm_test_secret", vectorT, body)))
	// Output: t=1710083175,v1=99f5b03e4352de5b6385fcddb1ef785a8a04d3eda2427d62b4bf086e227cc462
}

// verify is what a correct REALM v1 receiver does with a delivery: parse
// the header, match a v1 entry, then check the age of t. The reference
// receiver does the same one step at a time, to plant its faults.
func (v Verifier) verify(header string, body []byte) error {
	sig, err := ParseHeader(header)
	if err != nil {
		return err
	}
	if !v.Match(sig, body) {
		return ErrNoMatch
	}
	return v.Fresh(sig)
}

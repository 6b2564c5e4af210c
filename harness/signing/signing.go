// Package signing implements the REALM v1 webhook signature
// (README "The hookcert command"): v1 = lowercase hex(HMAC-SHA256(secret,
// "<t>." + raw body)), carried in the X-Webhook-Signature header as
// "t=<unix seconds>,v1=<hex>[,v1=<hex>...]", with the fast signer the
// sender and the load generator use. Scheme models any HMAC signing scheme
// (README "Signing schemes"), REALM v1 among them, from its scheme file.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Sentinel errors of ParseHeader, Verifier.Fresh and Scheme.Verify; test
// them with errors.Is.
var (
	// errMissing means there is no signature header at all.
	errMissing = errors.New("signature header missing")
	// ErrMalformed means the header is not of the form t=<int>,v1=<hex>.
	ErrMalformed = errors.New("signature header malformed")
	// ErrNoMatch means no v1 entry matches the body under any secret.
	ErrNoMatch = errors.New("no v1 signature matches")
	// ErrTooOld means t lies further in the past than the tolerance.
	ErrTooOld = errors.New("signature timestamp too old")
	// ErrTooNew means t lies further in the future than the tolerance.
	ErrTooNew = errors.New("signature timestamp in the future")
)

// Sign returns the v1 signature of body at unix time t: lowercase hex of
// HMAC-SHA256 keyed with the secret's UTF-8 bytes over "<t>." + body.
func Sign(secret harness.Secret, t int64, body []byte) string {
	// The buffer holds the prefix, then the sum; out, on the stack, the
	// hex: the load test's fast path is Keyed, but receivers verify with
	// Sign.
	var buf [sha256.Size]byte
	var out [sha256.Size * 2]byte
	hex.Encode(out[:], sumV1(hmac.New(sha256.New, []byte(secret.Reveal())), buf[:0], t, body))
	return string(out[:])
}

// FormatHeader returns the X-Webhook-Signature value for unix time t and the
// given v1 entries, in order.
func FormatHeader(t int64, v1 ...string) string {
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(t, 10))
	for _, s := range v1 {
		b.WriteString(",v1=")
		b.WriteString(s)
	}
	return b.String()
}

// Signature is a parsed X-Webhook-Signature header.
type Signature struct {
	// Timestamp is the t entry, unix seconds.
	Timestamp int64
	// V1 holds the v1 entries in header order.
	V1 []string
}

// ParseHeader parses an X-Webhook-Signature value. Unknown schemes (v0=,
// v2=, ...) are ignored for forward compatibility; a header without t,
// without any v1, with a non-integer t or a v1 that is not 64 hex digits is
// malformed. Errors wrap errMissing or ErrMalformed.
func ParseHeader(h string) (Signature, error) {
	var sig Signature
	h = strings.TrimSpace(h)
	if h == "" {
		return sig, errMissing
	}
	haveT := false
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Signature{}, fmt.Errorf("%w: entry %q is not key=value", ErrMalformed, part)
		}
		switch k {
		case "t":
			if haveT {
				return Signature{}, fmt.Errorf("%w: t given twice", ErrMalformed)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return Signature{}, fmt.Errorf("%w: t=%q is not a positive unix time", ErrMalformed, v)
			}
			sig.Timestamp, haveT = n, true
		case "v1":
			if len(v) != sha256.Size*2 || !isLowerHex(v) {
				return Signature{}, fmt.Errorf("%w: v1 is not %d lowercase hex digits", ErrMalformed, sha256.Size*2)
			}
			sig.V1 = append(sig.V1, v)
		}
	}
	if !haveT {
		return Signature{}, fmt.Errorf("%w: no t entry", ErrMalformed)
	}
	if len(sig.V1) == 0 {
		return Signature{}, fmt.Errorf("%w: no v1 entry", ErrMalformed)
	}
	return sig, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Signer signs outgoing deliveries. With several secrets (rotation) it
// writes one v1 entry per secret, in order.
type Signer struct {
	Secrets []harness.Secret
	Clock   harness.Clock
}

// header signs body at the signer's current time and returns the header
// value.
func (s Signer) header(body []byte) string {
	return s.HeaderAt(s.Clock.Now(), body)
}

// HeaderAt signs body at time t and returns the header value.
func (s Signer) HeaderAt(t time.Time, body []byte) string {
	ts := t.Unix()
	v1 := make([]string, len(s.Secrets))
	for i, sec := range s.Secrets {
		v1[i] = Sign(sec, ts, body)
	}
	return FormatHeader(ts, v1...)
}

// Verifier checks incoming deliveries the way a correct receiver must: any
// v1 entry may match under any of its secrets (rotation), compared in
// constant time, and |now - t| must not exceed the tolerance.
type Verifier struct {
	Secrets []harness.Secret
	// Tolerance is the largest accepted |now - t|; zero means
	// harness.DefaultTolerance.
	Tolerance time.Duration
	Clock     harness.Clock
}

// Match reports whether any v1 entry of sig is a valid signature of body
// under any of the verifier's secrets. It ignores the timestamp's age.
func (v Verifier) Match(sig Signature, body []byte) bool {
	ok := false
	for _, sec := range v.Secrets {
		want := []byte(Sign(sec, sig.Timestamp, body))
		for _, got := range sig.V1 {
			// Keep looping after a match so timing does not depend on which
			// entry matched.
			if hmac.Equal(want, []byte(got)) {
				ok = true
			}
		}
	}
	return ok
}

// Fresh checks that sig's timestamp lies within the tolerance of now.
func (v Verifier) Fresh(sig Signature) error {
	tol := v.Tolerance
	if tol == 0 {
		tol = harness.DefaultTolerance
	}
	now, t := v.Clock.Now(), time.Unix(sig.Timestamp, 0)
	// Compare in both directions with Sub rather than negating one
	// duration: Sub saturates for a t centuries away, and negating the
	// saturated minimum overflows back to a negative value that would pass.
	switch {
	case now.Sub(t) > tol:
		return fmt.Errorf("%w: t is %s old, tolerance %s", ErrTooOld, now.Sub(t).Truncate(time.Second), tol)
	case t.Sub(now) > tol:
		return fmt.Errorf("%w: t is %s ahead, tolerance %s", ErrTooNew, t.Sub(now).Truncate(time.Second), tol)
	}
	return nil
}

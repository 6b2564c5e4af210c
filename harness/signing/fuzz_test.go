package signing

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// vectorSecrets are the secrets of the built-in schemes' test vectors.
var vectorSecrets = map[string]harness.Secret{
	"realm-v1":          vectorSecret,
	"standard-webhooks": stdSecret,
	"stripe":            stripeSecret,
	"github":            vectorSecret,
}

// fuzzScheme is the built-in scheme a fuzzer's byte picks, with the key of
// its test vector's secret.
func fuzzScheme(t testing.TB, which uint8) (*Scheme, harness.Secret, []byte) {
	t.Helper()
	names := BuiltinSchemes()
	name := names[int(which)%len(names)]
	s, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	secret := vectorSecrets[name]
	k, err := s.KeyOf(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s, secret, k
}

// schemeHeaders are a delivery's headers as the fuzzer gives them: the
// signature header, and the scheme's timestamp and id headers if it has
// them; an empty value leaves its header out.
func schemeHeaders(s *Scheme, sig, ts, id string) http.Header {
	h := http.Header{}
	for _, kv := range [][2]string{{s.Signature.Header, sig}, {s.TimestampHeader(), ts}, {s.IDHeader(), id}} {
		if kv[0] != "" && kv[1] != "" {
			h.Set(kv[0], kv[1])
		}
	}
	return h
}

// signingKeys are the keys a delivery in s is signed with: another
// before k, as during a rotation, when s carries several signatures.
func signingKeys(s *Scheme, k []byte) [][]byte {
	if s.Signature.Separator == "" {
		return [][]byte{k}
	}
	return [][]byte{[]byte("rotated"), k}
}

// addSchemeSeeds seeds FuzzSchemeVerify with each built-in scheme's own
// headers for the test vector (which verify), its published vector, and
// the malformed headers a receiver meets.
func addSchemeSeeds(f *testing.F) {
	now := vectorT + 60
	body := []byte(vectorBody)
	for i := range BuiltinSchemes() {
		s, _, k := fuzzScheme(f, uint8(i))
		d := Delivery{ID: vectorID, Type: "job.completed", Attempt: 1, T: vectorT, Body: body}
		h := http.Header{}
		for _, l := range s.HeaderLines(d, signingKeys(s, k)...) {
			h.Set(l.Name, l.Value)
		}
		sig, ts, id := h.Get(s.Signature.Header), h.Get(s.TimestampHeader()), h.Get(s.IDHeader())
		f.Add(uint8(i), sig, ts, id, body, now)
		f.Add(uint8(i), sig, ts, id, body, now+3600)
		f.Add(uint8(i), sig, ts, id, body[1:], now)
		f.Add(uint8(i), strings.ToUpper(sig), ts, id, body, now)
		f.Add(uint8(i), " "+sig+" ", ts, id, body, now)
		f.Add(uint8(i), sig, "+"+ts, id, body, now)
		f.Add(uint8(i), sig, "0"+ts, "", body, now)
		f.Add(uint8(i), sig[:len(sig)/2], ts, id, body, now)
		f.Add(uint8(i), sig+s.Signature.Separator, ts, id, body, now)
		for _, bad := range []string{"", "garbage", "t=", "v1=", "v1,", "sha256=", "t=1,v1=" + hexA, "t=-1,v1=" + hexA,
			"t=9223372036854775807,v1=" + hexA, "t=1710083175,t=1710083175,v1=" + vectorV1, "v1,====", "v1,x", ",,,", "=,="} {
			f.Add(uint8(i), bad, ts, id, body, now)
		}
	}
	f.Add(uint8(1), stdVector, strconv.FormatInt(vectorT, 10), vectorID, body, now)
	f.Add(uint8(1), stdSpecSignature, strconv.Itoa(stdSpecT), stdSpecID, []byte(stdSpecBody), int64(stdSpecT))
	f.Add(uint8(2), stripeVector, "", "", body, now)
	f.Add(uint8(0), githubVector, "", "", body, now)
}

// FuzzSchemeVerify feeds every built-in scheme's Verify and SignedTime
// arbitrary signature, timestamp and id headers. Properties: a signed
// time is positive; an error wraps one of the sentinels and holds neither
// the secret nor the signature the receiver expected; and a success means
// that an entry of the signature header is exactly the scheme's own
// signature of the body at the signed time under the key, and that this
// time lies within the tolerance of now.
func FuzzSchemeVerify(f *testing.F) {
	addSchemeSeeds(f)
	f.Fuzz(func(t *testing.T, which uint8, sig, ts, id string, body []byte, now int64) {
		s, secret, k := fuzzScheme(t, which)
		h := schemeHeaders(s, sig, ts, id)
		signed, ok := s.SignedTime(h)
		if ok && signed <= 0 {
			t.Fatalf("%s: SignedTime(%q) = %d, true: not a unix time", s.Name, h, signed)
		}
		at := time.Unix(now, 0)
		err := s.Verify([][]byte{k}, h, body, at)
		d := Delivery{T: signed, Body: body}
		if strings.Contains(s.Message, "{id}") {
			d.ID = h.Get(s.IDHeader())
		}
		want := strings.Replace(s.Signature.Entry, "{signature}", s.Sign(k, d), 1)
		if err != nil {
			if !slices.ContainsFunc([]error{errMissing, ErrMalformed, ErrNoMatch, ErrTooOld, ErrTooNew}, func(e error) bool { return errors.Is(err, e) }) {
				t.Fatalf("%s: Verify(%q) error %v wraps no sentinel", s.Name, h, err)
			}
			if msg := err.Error(); strings.Contains(msg, secret.Reveal()) || strings.Contains(msg, s.Sign(k, d)) {
				t.Fatalf("%s: Verify(%q) error %q reveals the secret or the expected signature", s.Name, h, msg)
			}
			return
		}
		if s.HasTimestamp() != ok {
			t.Fatalf("%s: Verify(%q) succeeded, yet SignedTime says %d, %t", s.Name, h, signed, ok)
		}
		entries := []string{sig}
		if s.Signature.Separator != "" {
			entries = strings.Split(sig, s.Signature.Separator)
		}
		if s.Signature.TimestampEntry != "" {
			entries = entries[1:]
		}
		if !slices.Contains(entries, want) {
			t.Fatalf("%s: Verify(%q) succeeded, but no entry is %q", s.Name, h, want)
		}
		if s.HasTimestamp() {
			ts := time.Unix(signed, 0)
			if at.Sub(ts) > s.Tolerance() || !s.Timestamp.PastOnly && ts.Sub(at) > s.Tolerance() {
				t.Fatalf("%s: Verify(%q) at %d succeeded for t=%d, outside the tolerance %s", s.Name, h, now, signed, s.Tolerance())
			}
		}
	})
}

// FuzzSchemeRoundTrip: whatever a delivery holds, each built-in scheme's
// headers for it verify with the key they were signed with and no other,
// read back its timestamp, and are those of the load generator's fast
// signer.
func FuzzSchemeRoundTrip(f *testing.F) {
	for i := range BuiltinSchemes() {
		f.Add(uint8(i), vectorID, "job.completed", 1, vectorT, []byte(vectorBody))
		f.Add(uint8(i), "evt_x", "x.y", 3, int64(1), []byte{})
		f.Add(uint8(i), "evt_,.=;", "", 0, int64(1<<62), []byte("\x00\xff"))
	}
	f.Fuzz(func(t *testing.T, which uint8, id, typ string, attempt int, ts int64, body []byte) {
		s, _, k := fuzzScheme(t, which)
		if ts <= 0 || id == "" {
			t.Skip("a delivery has an id and a positive unix time")
		}
		d := Delivery{ID: id, Type: typ, Attempt: attempt, T: ts, Body: body}
		lines := s.HeaderLines(d, k)
		h := http.Header{}
		for _, l := range lines {
			h.Set(l.Name, l.Value)
		}
		at := time.Unix(ts, 0)
		if err := s.Verify([][]byte{k}, h, body, at); err != nil {
			t.Fatalf("%s: its own headers %q do not verify: %v", s.Name, h, err)
		}
		if err := s.Verify([][]byte{[]byte("another key")}, h, body, at); !errors.Is(err, ErrNoMatch) {
			t.Fatalf("%s: headers %q under another key: %v, want ErrNoMatch", s.Name, h, err)
		}
		if got, ok := s.SignedTime(h); s.HasTimestamp() && (!ok || got != ts) {
			t.Fatalf("%s: SignedTime(%q) = %d, %t; want %d", s.Name, h, got, ok, ts)
		}
		if fast := s.Keyed(k).AppendSignature(nil, d); string(fast) != lines[0].Value {
			t.Fatalf("%s: the fast signer writes %q, HeaderLines %q", s.Name, fast, lines[0].Value)
		}
	})
}

// FuzzDecodeScheme reads arbitrary scheme files, seeded with the built-in
// ones, Slack's and Shopify's, and the files the decoder refuses.
// Properties: an error wraps ErrScheme; a scheme it accepts encodes to
// JSON that decodes to the same scheme (the same JSON), and signs deliveries that verify
// under its key, not under another, with their timestamp read back.
func FuzzDecodeScheme(f *testing.F) {
	for _, name := range BuiltinSchemes() {
		data, err := builtinFS.ReadFile("schemes/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, doc := range []string{
		`{"name":"slack","signature":{"header":"X-Slack-Signature","entry":"v0={signature}"},"message":"v0:{t}:{body}","mac":"hmac-sha256","encoding":"hex","timestamp":{"tolerance":"5m"},"headers":[{"name":"X-Slack-Request-Timestamp","value":"{t}"}]}`,
		`{"name":"shopify","signature":{"header":"X-Shopify-Hmac-Sha256","entry":"{signature}"},"message":"{body}","mac":"hmac-sha256","encoding":"base64"}`,
		`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{t}.{body}","mac":"hmac-sha256","encoding":"hex"}`,
		`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{id}.{body}","mac":"hmac-sha256","encoding":"hex"}`,
		`{"name":"x","signature":{"header":"S","entry":"{signature}","separator":","},"message":"{body}","mac":"hmac-sha1","encoding":"hex","key":{"strip":"k_","decode":"base64"}}`,
		`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{body}","mac":"hmac-sha512","encoding":"base64","timestamp":{"tolerance":"5m"}}`,
		`{"name":"x","signature":{"header":"S","entry":"{signature}"},"message":"{body}","mac":"hmac-sha256","encoding":"hex","extra":1}`,
		`{}`, `null`, `[]`, `{"name":"x"}{}`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeScheme(data)
		if err != nil {
			if !errors.Is(err, ErrScheme) {
				t.Fatalf("DecodeScheme error %v does not wrap ErrScheme", err)
			}
			return
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeScheme(raw)
		if err != nil {
			t.Fatalf("accepted scheme does not decode again: %v\n%s", err, raw)
		}
		// Compared as JSON: "headers": [] comes back as none.
		if raw2, err := json.Marshal(again); err != nil || !bytes.Equal(raw, raw2) {
			t.Fatalf("round trip changed the scheme:\n%s\n%s", raw, raw2)
		}
		checkSchemeWorks(t, s)
	})
}

// checkSchemeWorks signs the REALM v1 test vector in s and verifies it:
// under its key, under another, and with an altered body.
func checkSchemeWorks(t *testing.T, s *Scheme) {
	t.Helper()
	secret := harness.Secret(vectorSecret)
	if s.Key != nil && s.Key.Decode == "base64" {
		secret = harness.Secret(s.Key.Strip + base64.StdEncoding.EncodeToString([]byte(vectorSecret)))
	}
	k, err := s.KeyOf(secret)
	if err != nil {
		t.Fatalf("%s: KeyOf(%s): %v", s.Name, secret, err)
	}
	d := Delivery{ID: vectorID, Type: "job.completed", Attempt: 2, T: vectorT, Body: []byte(vectorBody)}
	h := http.Header{}
	for _, l := range s.HeaderLines(d, signingKeys(s, k)...) {
		h.Set(l.Name, l.Value)
	}
	at := time.Unix(vectorT, 0)
	if err := s.Verify([][]byte{k}, h, d.Body, at); err != nil {
		t.Fatalf("%s: its own headers %q do not verify: %v", s.Name, h, err)
	}
	if err := s.Verify([][]byte{[]byte("another key")}, h, d.Body, at); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("%s: headers %q under another key: %v, want ErrNoMatch", s.Name, h, err)
	}
	if err := s.Verify([][]byte{k}, h, bytes.ToUpper(d.Body), at); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("%s: headers %q with an altered body: %v, want ErrNoMatch", s.Name, h, err)
	}
	if got, ok := s.SignedTime(h); s.HasTimestamp() && (!ok || got != vectorT) {
		t.Fatalf("%s: SignedTime(%q) = %d, %t; want %d", s.Name, h, got, ok, vectorT)
	}
}

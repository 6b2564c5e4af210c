package signing

import (
	"bytes"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/realm-ai/hookcert/harness"
)

// TestKeyedMatchesSign: the pooled signer writes what Sign and
// FormatHeader write, for the test vector and for bodies signed from many
// goroutines at once (each reusing states another has put back).
func TestKeyedMatchesSign(t *testing.T) {
	k := NewKeyed(vectorSecret)
	if got, want := string(k.AppendHeader(nil, vectorT, []byte(vectorBody))), "t=1710083175,v1="+vectorV1; got != want {
		t.Fatalf("AppendHeader = %s, want %s", got, want)
	}
	// The buffer is appended to, not overwritten.
	if got := string(k.AppendHeader([]byte("id:"), vectorT, []byte(vectorBody))); got != "id:t=1710083175,v1="+vectorV1 {
		t.Fatalf("AppendHeader after a prefix = %s", got)
	}
	if got := len(k.AppendHeader(nil, math.MinInt64, nil)); got != HeaderLen {
		t.Fatalf("the longest value is %d bytes, HeaderLen %d", got, HeaderLen)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, HeaderLen)
			for i := range 200 {
				body := fmt.Appendf(nil, `{"n":%d,"g":%d}`, i, g)
				ts := vectorT + int64(i)
				if got, want := string(k.AppendHeader(buf[:0], ts, body)), FormatHeader(ts, Sign(vectorSecret, ts, body)); got != want {
					t.Errorf("AppendHeader = %s, want %s", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSchemeKeyMatchesSignatureValue: in every built-in scheme, the pooled
// signer writes the signature header's value that SignatureValue and Sign
// write, the scheme's vectors among them, and Header.AppendValue the
// values of HeaderLines.
func TestSchemeKeyMatchesSignatureValue(t *testing.T) {
	vector := Delivery{ID: vectorID, Type: "job.completed", Attempt: 1, T: vectorT, Body: []byte(vectorBody)}
	secrets := map[string]harness.Secret{"realm-v1": vectorSecret, "standard-webhooks": stdSecret, "stripe": stripeSecret, "github": vectorSecret}
	vectors := map[string]string{"realm-v1": "t=1710083175,v1=" + vectorV1, "standard-webhooks": stdVector, "stripe": stripeVector, "github": githubVector}
	for _, name := range BuiltinSchemes() {
		s := builtin(t, name)
		kb := key(t, s, secrets[name])
		k := s.Keyed(kb)
		if got := string(k.AppendSignature(nil, vector)); got != vectors[name] {
			t.Errorf("%s: AppendSignature of the vector = %s, want %s", name, got, vectors[name])
		}
		for i := range 50 {
			d := Delivery{ID: fmt.Sprintf("evt_%d", i), Type: "job.failed", Attempt: 1 + i%3, T: vectorT + int64(i), Body: fmt.Appendf(nil, `{"n":%d}`, i)}
			lines := s.HeaderLines(d, kb)
			if got := string(k.AppendSignature(nil, d)); got != lines[0].Value || got != s.SignatureValue(d, s.Sign(kb, d)) {
				t.Fatalf("%s: AppendSignature = %s, HeaderLines %s", name, got, lines[0].Value)
			}
			for j, h := range s.Headers {
				if got := string(h.AppendValue(nil, d)); got != lines[j+1].Value {
					t.Fatalf("%s: %s AppendValue = %s, HeaderLines %s", name, h.Name, got, lines[j+1].Value)
				}
			}
		}
	}
}

// BenchmarkKeyed is BenchmarkSign's 348-byte vector through the pooled
// signer, the whole header value written into a reused buffer: the load
// generator's path, which should not allocate.
func BenchmarkKeyed(b *testing.B) {
	k := NewKeyed(vectorSecret)
	body := []byte(vectorBody)
	buf := make([]byte, 0, HeaderLen)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		buf = k.AppendHeader(buf[:0], vectorT, body)
	}
	if !bytes.HasSuffix(buf, []byte(vectorV1)) {
		b.Fatalf("signed %s", buf)
	}
}

// BenchmarkSchemeKey is the pooled signer of each built-in scheme on the
// test vector.
func BenchmarkSchemeKey(b *testing.B) {
	d := Delivery{ID: vectorID, Type: "job.completed", Attempt: 1, T: vectorT, Body: []byte(vectorBody)}
	for _, name := range BuiltinSchemes() {
		s, err := Builtin(name)
		if err != nil {
			b.Fatal(err)
		}
		kb, err := s.KeyOf(stdSecret)
		if err != nil {
			b.Fatal(err)
		}
		k := s.Keyed(kb)
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf = k.AppendSignature(buf[:0], d)
			}
		})
	}
}

package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"sync"

	"github.com/realm-ai/hookcert/harness"
)

// Keyed signs REALM v1 deliveries with one secret, keeping its keyed
// HMAC-SHA256 states for reuse: the load generator signs thousands of
// deliveries a second with the same secret, and the fresh HMAC of Sign
// costs allocations and two more blocks of SHA-256 (the padded key) every
// time. It is safe for concurrent use.
type Keyed struct{ macs macPool }

// NewKeyed returns the REALM v1 signer of secret.
func NewKeyed(secret harness.Secret) *Keyed {
	return &Keyed{macs: newMACPool(sha256.New, []byte(secret.Reveal()))}
}

// AppendHeader appends to dst the X-Webhook-Signature value of body signed
// at unix time t, "t=<t>,v1=<hex>" (FormatHeader(t, Sign(secret, t, body))),
// and returns the extended buffer. It allocates nothing when dst has room
// for the value (HeaderLen).
func (k *Keyed) AppendHeader(dst []byte, t int64, body []byte) []byte {
	m := k.macs.get()
	defer k.macs.put(m)
	dst = strconv.AppendInt(append(dst, "t="...), t, 10)
	return hex.AppendEncode(append(dst, ",v1="...), m.v1(t, body))
}

// HeaderLen is the longest X-Webhook-Signature value with one v1 entry:
// room enough for AppendHeader.
const HeaderLen = len("t=-9223372036854775808,v1=") + 2*sha256.Size

// SchemeKey signs deliveries in one scheme under one key, keeping its
// keyed MAC states for reuse, as Keyed does for REALM v1. It is safe for
// concurrent use.
type SchemeKey struct {
	s    *Scheme
	macs macPool
	// The message and the signature entry around their placeholders, cut
	// once.
	msgBefore, msgAfter     string
	entryBefore, entryAfter string
}

// Keyed returns the scheme's signer under key (see KeyOf).
func (s *Scheme) Keyed(key []byte) *SchemeKey {
	k := &SchemeKey{s: s, macs: newMACPool(s.hash(), key)}
	k.msgBefore, k.msgAfter, _ = strings.Cut(s.Message, "{body}")
	k.entryBefore, k.entryAfter, _ = strings.Cut(s.Signature.Entry, "{signature}")
	return k
}

// AppendSignature appends to dst the signature header's value of d with
// one signature (SignatureValue(d, Sign(key, d))) and returns the
// extended buffer. It allocates nothing when dst has room for the value.
func (k *SchemeKey) AppendSignature(dst []byte, d Delivery) []byte {
	m := k.macs.get()
	defer k.macs.put(m)
	if k.s.Signature.TimestampEntry != "" {
		dst = append(appendFilled(dst, k.s.Signature.TimestampEntry, d), k.s.Signature.Separator...)
	}
	dst = append(dst, k.entryBefore...)
	dst = k.s.appendEncoded(dst, m.message(k.msgBefore, k.msgAfter, d))
	return append(dst, k.entryAfter...)
}

// AppendValue appends to dst the header's value for d, its template
// filled, and returns the extended buffer.
func (h Header) AppendValue(dst []byte, d Delivery) []byte { return appendFilled(dst, h.Value, d) }

// appendEncoded appends sum in the scheme's encoding.
func (s *Scheme) appendEncoded(dst, sum []byte) []byte {
	if s.Encoding == "base64" {
		return base64.StdEncoding.AppendEncode(dst, sum)
	}
	return hex.AppendEncode(dst, sum)
}

// keyedMAC is one keyed MAC state with a buffer for what is written into
// it and what it sums: arguments of Write and Sum escape through the
// hash.Hash interface, so they are kept here rather than on the stack.
type keyedMAC struct {
	h   hash.Hash
	buf []byte
}

func newKeyedMAC(h func() hash.Hash, key []byte) *keyedMAC {
	return &keyedMAC{h: hmac.New(h, key), buf: make([]byte, 0, 2*sha512.Size)}
}

// v1 is sumV1 into m's state and buffer, valid until the next use of m.
func (m *keyedMAC) v1(t int64, body []byte) []byte {
	m.buf = sumV1(m.h, m.buf, t, body)
	return m.buf
}

// message is sumMessage into m's state and buffer, valid until the next
// use of m.
func (m *keyedMAC) message(before, after string, d Delivery) []byte {
	m.buf = sumMessage(m.h, m.buf, before, after, d)
	return m.buf
}

// sumV1 writes the REALM v1 message of body at t, "<t>." + body, into h
// and returns its MAC in buf, which holds the prefix meanwhile: what is
// written through the hash.Hash interface escapes, so one buffer serves
// both.
func sumV1(h hash.Hash, buf []byte, t int64, body []byte) []byte {
	buf = append(strconv.AppendInt(buf[:0], t, 10), '.')
	h.Write(buf)
	h.Write(body)
	return h.Sum(buf[:0])
}

// sumMessage writes a scheme's message of d, before + body + after with
// their placeholders filled, into h and returns its MAC in buf, as sumV1.
func sumMessage(h hash.Hash, buf []byte, before, after string, d Delivery) []byte {
	buf = appendFilled(buf[:0], before, d)
	h.Write(buf)
	h.Write(d.Body)
	if after != "" {
		buf = appendFilled(buf[:0], after, d)
		h.Write(buf)
	}
	return h.Sum(buf[:0])
}

// macPool keeps the keyed MAC states of one key, reset, for reuse.
type macPool struct{ p *sync.Pool }

func newMACPool(h func() hash.Hash, key []byte) macPool {
	key = append([]byte(nil), key...)
	return macPool{p: &sync.Pool{New: func() any { return newKeyedMAC(h, key) }}}
}

func (p macPool) get() *keyedMAC { return p.p.Get().(*keyedMAC) }

func (p macPool) put(m *keyedMAC) {
	m.h.Reset()
	p.p.Put(m)
}

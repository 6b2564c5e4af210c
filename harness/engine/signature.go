package engine

import (
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/signing"
)

// The changes of the registry (mutations) that sign a delivery otherwise
// than correctly, or replay one as it was signed.

// replay makes the attempt the earlier delivery of its event byte for byte,
// with a fresh id header when the step says newId.
func (d *draft) replay() error {
	prev, a := d.prev, &d.a
	if prev == nil || prev.last.Request.Header == nil {
		return errors.New("replay needs an earlier delivery of the same event")
	}
	// Byte for byte: the signature header and every other header of
	// the scheme (a timestamp header above all) as they were sent.
	sc := d.r.e.cfg.Scheme
	h := prev.last.Request.Header.Get(sc.Signature.Header)
	a.Signature = &h
	a.Number = max(prev.last.Attempt, 1)
	for _, sh := range sc.Headers {
		if v := prev.last.Request.Header.Get(sh.Name); v != "" {
			if a.Header == nil {
				a.Header = http.Header{}
			}
			a.Header.Set(sh.Name, v)
		}
	}
	if d.s.NewID {
		idh := sc.IDHeader()
		switch {
		case idh == "":
			return &leftOut{reason: fmt.Sprintf("the %s scheme sends no id header", sc.Name), whole: true}
		case strings.Contains(sc.Message, "{id}"):
			return &leftOut{reason: fmt.Sprintf("the %s scheme signs its id header: a replay with another one is a forgery, which SIG-03 and SIG-12 refuse", sc.Name), whole: true}
		}
		if a.Header == nil {
			a.Header = http.Header{}
		}
		a.Header.Set(idh, freshID())
	}
	return nil
}

// shiftClock moves the signature's t by the step's offset, which a scheme
// without timestamps cannot express, nor one whose provider accepts any
// future t.
func (d *draft) shiftClock() error {
	sc := d.r.e.cfg.Scheme
	off := d.sig().Offset
	dt, err := time.ParseDuration(off)
	if err != nil {
		return fmt.Errorf("signature offset: %w", err)
	}
	switch {
	case !sc.HasTimestamp():
		return &leftOut{reason: fmt.Sprintf("the %s scheme signs no timestamp", sc.Name)}
	case dt > 0 && sc.Timestamp.PastOnly:
		return &leftOut{reason: fmt.Sprintf("the %s scheme accepts timestamps ahead of the clock, as its provider's own library does", sc.Name)}
	}
	d.a.TimeOffset = dt
	return nil
}

// rotate signs with the step's number of other secrets beside the valid
// one, the valid one where the step places it (last by default).
func (d *draft) rotate() error {
	sc, sig, a := d.r.e.cfg.Scheme, d.sig(), &d.a
	if sc.Signature.Separator == "" {
		return &leftOut{reason: fmt.Sprintf("the %s scheme carries one signature only", sc.Name)}
	}
	for range sig.Rotated {
		a.Secrets = append(a.Secrets, wrongSecret())
	}
	at := len(a.Secrets)
	switch sig.Valid {
	case "first":
		at = 0
	case "middle":
		at = len(a.Secrets) / 2
	}
	a.Secrets = slices.Insert(a.Secrets, at, d.r.e.cfg.Secret)
	return nil
}

// tamper alters the body after it is signed.
func (d *draft) tamper() error {
	tampered, err := events.Mutate(d.a.Body, events.Set("data.tampered", true))
	if err != nil {
		return fmt.Errorf("tampering with the body: %w", err)
	}
	d.a.SignedBody, d.a.Body = d.a.Body, tampered
	return nil
}

// unknownEntries puts entries of versions the scheme does not define (v0,
// v2) beside the valid signature.
func (d *draft) unknownEntries() error {
	sc := d.r.e.cfg.Scheme
	if sc.Signature.Separator == "" || !strings.Contains(sc.Signature.Entry, "v1") {
		return &leftOut{reason: fmt.Sprintf("the %s scheme carries one signature only", sc.Name)}
	}
	sd, v := d.signNow()
	other := func(version string) string {
		e := strings.Replace(sc.Signature.Entry, "v1", version, 1)
		return strings.Replace(e, "{signature}", junkSignature(sc, len(v)), 1)
	}
	valid := strings.Replace(sc.Signature.Entry, "{signature}", v, 1)
	// The timestamp entry, if any, stays first, where every parser looks
	// for it, and the valid signature comes before the others: which
	// entry a receiver reads first is SIG-08's business, not this check's.
	h := joinEntries(sc, sc.SignatureValue(sd), valid, other("v0"), other("v2"))
	d.a.Signature = &h
	return nil
}

// timestamps sends a fresh and a stale timestamp entry, in the step's
// order, with a signature valid for the stale one only.
func (d *draft) timestamps() error {
	sc := d.r.e.cfg.Scheme
	if sc.Signature.TimestampEntry == "" {
		return &leftOut{reason: fmt.Sprintf("the %s scheme's signature header carries no timestamp entry", sc.Name)}
	}
	fresh, _ := d.signNow()
	stale := fresh
	stale.T -= int64(staleBy / time.Second)
	ts := []string{sc.SignatureValue(fresh), sc.SignatureValue(stale)}
	if d.sig().Timestamps == "fresh-last" {
		ts[0], ts[1] = ts[1], ts[0]
	}
	entry := strings.Replace(sc.Signature.Entry, "{signature}", d.r.sign(stale), 1)
	h := joinEntries(sc, ts[0], ts[1], entry)
	d.a.Signature = &h
	return nil
}

// literalHeader sends header verbatim, its {t}, {v1} and {v1/2} filled in
// from the signature the attempt would carry.
func (d *draft) literalHeader(header string) {
	sd, v1 := d.signNow()
	h := strings.NewReplacer(
		"{t}", strconv.FormatInt(sd.T, 10),
		"{v1/2}", v1[:len(v1)/2],
		"{v1}", v1,
	).Replace(header)
	d.a.Signature = &h
}

// malformed sets a malformed signature header of the run's scheme, of the
// kind the step names.
func (d *draft) malformed(kind string) error {
	sc := d.r.e.cfg.Scheme
	sd, v := d.signNow()
	entry := func(sig string) string { return strings.Replace(sc.Signature.Entry, "{signature}", sig, 1) }
	var h string
	switch kind {
	case "empty":
	case "garbage":
		h = "garbage"
	case "no-signature":
		if sc.Signature.TimestampEntry != "" {
			h = sc.SignatureValue(sd)
		} else {
			h = entry("")
		}
	case "bad-encoding":
		bad := "zz"
		if sc.Encoding == "base64" {
			bad = "!!"
		}
		h = sc.SignatureValue(sd, bad+v[2:len(v)-2]+bad)
	case "truncated":
		h = sc.SignatureValue(sd, v[:len(v)/2])
	case "no-timestamp":
		switch {
		case !sc.HasTimestamp():
			return &leftOut{reason: fmt.Sprintf("the %s scheme signs no timestamp", sc.Name)}
		case sc.Signature.TimestampEntry != "":
			h = entry(v)
		default:
			// The signature is valid; the header that carries t is gone.
			h = sc.SignatureValue(sd, v)
			d.a.Header = http.Header{sc.TimestampHeader(): nil}
		}
	default:
		return fmt.Errorf("unknown malformed signature %q", kind)
	}
	d.a.Signature = &h
	return nil
}

// signNow is the delivery the attempt signs now and its valid signature in
// the run's scheme, encoded as an entry writes it. It pins the attempt to
// that second (SignedAt): a scheme that sends its timestamp in a header of
// its own (standard-webhooks) must send the second this signature was made
// for, not the one the attempt happens to leave in.
func (d *draft) signNow() (signing.Delivery, string) {
	a := &d.a
	now := time.Now().Truncate(time.Second)
	a.SignedAt = now
	sd := signing.Delivery{ID: a.EventID, Type: a.EventType, Attempt: max(a.Number, 1), T: now.Add(a.TimeOffset).Unix(), Body: a.Body}
	return sd, d.r.sign(sd)
}

// sign is d's valid signature in the run's scheme.
func (r *run) sign(d signing.Delivery) string {
	sc := r.e.cfg.Scheme
	key, err := sc.KeyOf(r.e.cfg.Secret)
	if err != nil {
		key = []byte(r.e.cfg.Secret.Reveal())
	}
	return sc.Sign(key, d)
}

// staleBy is how old the stale timestamp of Signature.Timestamps is: twice
// the usual tolerance of 300 s, as SIG-06's.
const staleBy = 10 * time.Minute

// joinEntries joins the non-empty entries of a signature header with the
// scheme's separator.
func joinEntries(sc *signing.Scheme, entries ...string) string {
	return strings.Join(slices.DeleteFunc(entries, func(e string) bool { return e == "" }), sc.Signature.Separator)
}

// wrongSecret returns a fresh secret that is not the receiver's.
func wrongSecret() harness.Secret {
	b := make([]byte, 16)
	_, _ = crand.Read(b)
	return harness.Secret("whsec_wrong_" + hex.EncodeToString(b))
}

// junkSignature is a random signature of n characters in the scheme's
// encoding: well formed, valid for nothing.
func junkSignature(sc *signing.Scheme, n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	if sc.Encoding == "base64" {
		return base64.StdEncoding.EncodeToString(b)[:n]
	}
	return hex.EncodeToString(b)[:n]
}

// freshID is an event id no event has.
func freshID() string {
	b := make([]byte, 10)
	_, _ = crand.Read(b)
	return "evt_" + hex.EncodeToString(b)
}

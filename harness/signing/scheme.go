package signing

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Scheme is how a webhook provider signs a delivery (README "Signing
// schemes"): the signature header and how it writes one or several
// signatures, the message signed, the MAC and its encoding, how the secret
// becomes the key, the timestamp's tolerance if it signs one, and the
// other headers of a delivery. Its JSON form is described by
// schemas/scheme.schema.json; the built-in schemes are such files.
type Scheme struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Signature   SignatureHeader `json:"signature"`
	// Message is what is signed: a template of {t}, {id} and {body}.
	Message string `json:"message"`
	// MAC is hmac-sha1, hmac-sha256 or hmac-sha512.
	MAC string `json:"mac"`
	// Encoding is hex (lowercase) or base64 (standard, padded).
	Encoding  string     `json:"encoding"`
	Key       *keyRule   `json:"key,omitempty"`
	Timestamp *Timestamp `json:"timestamp,omitempty"`
	Headers   []Header   `json:"headers,omitempty"`
}

// SignatureHeader says how the signatures are written.
type SignatureHeader struct {
	Header string `json:"header"`
	// Entry is one signature, a template of {signature}: "v1={signature}".
	Entry string `json:"entry"`
	// Separator separates entries; empty when the scheme carries one
	// signature only (no rotation).
	Separator string `json:"separator,omitempty"`
	// TimestampEntry is the timestamp written as the first entry, a
	// template of {t}: "t={t}"; empty when it travels elsewhere.
	TimestampEntry string `json:"timestampEntry,omitempty"`
}

// keyRule says how the secret becomes the key: a prefix stripped, then
// what remains decoded. The zero rule takes the secret's UTF-8 bytes.
type keyRule struct {
	Strip  string `json:"strip,omitempty"`
	Decode string `json:"decode,omitempty"`
}

// Timestamp is the tolerance of a scheme that signs a timestamp.
type Timestamp struct {
	Tolerance string `json:"tolerance"`
	// PastOnly: only timestamps older than the tolerance are refused, as
	// the provider's own library does (Stripe's); one ahead of the clock
	// is accepted.
	PastOnly bool `json:"pastOnly,omitempty"`
}

// Header is one header of a delivery: a name and a template of {t}, {id},
// {type} and {attempt}.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Delivery is what a scheme signs: one attempt of one event at unix time T.
type Delivery struct {
	ID, Type string
	Attempt  int
	T        int64
	Body     []byte
}

// ErrScheme means a scheme is not usable; the message says why.
var ErrScheme = errors.New("signing scheme")

// DefaultScheme is the scheme of a run that names none.
const DefaultScheme = "realm-v1"

//go:embed schemes/*.json
var builtinFS embed.FS

// BuiltinSchemes lists the names of the built-in schemes, sorted.
func BuiltinSchemes() []string {
	entries, _ := builtinFS.ReadDir("schemes")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	slices.Sort(names)
	return names
}

// Builtin returns the built-in scheme called name.
func Builtin(name string) (*Scheme, error) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, fmt.Errorf("%w: %q is not a built-in scheme (%s)", ErrScheme, name, strings.Join(BuiltinSchemes(), ", "))
	}
	data, err := builtinFS.ReadFile(path.Join("schemes", name+".json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a built-in scheme (%s)", ErrScheme, name, strings.Join(BuiltinSchemes(), ", "))
	}
	return DecodeScheme(data)
}

// DecodeScheme reads a scheme in its JSON form (a user's YAML file is
// turned into JSON and checked against schemas/scheme.schema.json first),
// refusing unknown fields, and checks what a schema cannot: that every
// placeholder the message needs can be carried and read back.
func DecodeScheme(data []byte) (*Scheme, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Scheme
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScheme, err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrScheme, s.Name, err)
	}
	return &s, nil
}

func (s *Scheme) check() error {
	switch {
	case s.Name == "":
		return errors.New("no name")
	case s.Signature.Header == "":
		return errors.New("no signature header")
	case strings.Count(s.Signature.Entry, "{signature}") != 1 || !onlyPlaceholders(s.Signature.Entry, "{signature}"):
		return errors.New("signature.entry must hold {signature} once, and no other placeholder")
	case strings.Count(s.Message, "{body}") != 1 || !onlyPlaceholders(s.Message, "{t}", "{id}", "{body}"):
		return errors.New("message must hold {body} once, and no placeholder but {t} and {id}")
	case s.Signature.TimestampEntry != "" && (strings.Count(s.Signature.TimestampEntry, "{t}") != 1 || !onlyPlaceholders(s.Signature.TimestampEntry, "{t}")):
		return errors.New("signature.timestampEntry must hold {t} once, and no other placeholder")
	case s.hash() == nil:
		return fmt.Errorf("mac %q is not hmac-sha1, hmac-sha256 or hmac-sha512", s.MAC)
	case s.Encoding != "hex" && s.Encoding != "base64":
		return fmt.Errorf("encoding %q is not hex or base64", s.Encoding)
	case s.Key != nil && s.Key.Decode != "" && s.Key.Decode != "base64":
		return fmt.Errorf("key.decode %q is not base64", s.Key.Decode)
	case s.Signature.TimestampEntry != "" && s.Signature.Separator == "":
		return errors.New("signature.timestampEntry needs signature.separator")
	}
	if err := s.checkHeaders(); err != nil {
		return err
	}
	if s.Timestamp != nil {
		if d, err := time.ParseDuration(s.Timestamp.Tolerance); err != nil || d <= 0 {
			return fmt.Errorf("timestamp.tolerance %q is not a positive duration", s.Timestamp.Tolerance)
		}
		if s.Signature.TimestampEntry == "" && s.headerOf("{t}") == "" {
			return errors.New("a timestamp needs signature.timestampEntry or a header whose value is {t}")
		}
	} else if strings.Contains(s.Message, "{t}") || s.Signature.TimestampEntry != "" || s.headerOf("{t}") != "" {
		return errors.New("{t} is used without timestamp.tolerance")
	}
	if strings.Contains(s.Message, "{id}") && s.headerOf("{id}") == "" {
		return errors.New("the message signs {id}, which needs a header whose value is {id}")
	}
	return nil
}

// onlyPlaceholders reports whether template holds no brace but those of
// the placeholders named: any other would be written as it stands by the
// sender, and a receiver reading the scheme would expect it filled.
func onlyPlaceholders(template string, placeholders ...string) bool {
	for _, p := range placeholders {
		template = strings.ReplaceAll(template, p, "")
	}
	return !strings.ContainsAny(template, "{}")
}

// checkHeaders checks that the headers of a delivery can be told apart:
// each has its own name (the sender sets them one after another, so a
// second one of a name would replace the first), and the separator cannot
// occur inside an entry, so that splitting the signature header on it
// gives back the entries written.
func (s *Scheme) checkHeaders() error {
	seen := map[string]bool{http.CanonicalHeaderKey(s.Signature.Header): true}
	for _, h := range s.Headers {
		name := http.CanonicalHeaderKey(h.Name)
		if h.Name == "" || seen[name] {
			return fmt.Errorf("header %q is empty or named twice (the signature header included): each header needs a name of its own", h.Name)
		}
		seen[name] = true
	}
	if sep := s.Signature.Separator; sep != "" {
		// What an entry can hold: the templates' text, the timestamp's
		// digits and the encoding's alphabet. A separator with a
		// character outside it matches only where it was written.
		inEntry := strings.ReplaceAll(s.Signature.Entry, "{signature}", "") +
			strings.ReplaceAll(s.Signature.TimestampEntry, "{t}", "") + "0123456789" + alphabets[s.Encoding]
		if !strings.ContainsFunc(sep, func(r rune) bool { return !strings.ContainsRune(inEntry, r) }) {
			return fmt.Errorf("signature.separator %q must hold a character that no entry can (none of %q)", sep, inEntry)
		}
	}
	return nil
}

// alphabets are the characters of each encoding.
var alphabets = map[string]string{
	"hex":    "0123456789abcdef",
	"base64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
}

// headerOf names the header whose value is exactly template, "" if none.
func (s *Scheme) headerOf(template string) string {
	for _, h := range s.Headers {
		if h.Value == template {
			return h.Name
		}
	}
	return ""
}

func (s *Scheme) hash() func() hash.Hash {
	switch s.MAC {
	case "hmac-sha1":
		return sha1.New
	case "hmac-sha256":
		return sha256.New
	case "hmac-sha512":
		return sha512.New
	}
	return nil
}

// TimestampHeader names the header that carries the timestamp, "" when
// the signature header does (or there is none).
func (s *Scheme) TimestampHeader() string { return s.headerOf("{t}") }

// IDHeader names the header that carries the event id, "" when none does.
func (s *Scheme) IDHeader() string { return s.headerOf("{id}") }

// SignedTime is the timestamp a delivery's headers carry, and whether they
// carry a readable one.
func (s *Scheme) SignedTime(h http.Header) (int64, bool) {
	raw := h.Get(s.headerOf("{t}"))
	if s.Signature.TimestampEntry != "" {
		first, _, _ := strings.Cut(h.Get(s.Signature.Header), s.Signature.Separator)
		raw, _ = cutTemplate(first, s.Signature.TimestampEntry, "{t}")
	}
	t, err := strconv.ParseInt(raw, 10, 64)
	return t, err == nil && t > 0
}

// HasTimestamp reports whether the scheme signs a timestamp (the checks of
// stale and future timestamps apply).
func (s *Scheme) HasTimestamp() bool { return s.Timestamp != nil }

// Tolerance is how far from the receiver's clock a timestamp may be; 0 for
// a scheme without one.
func (s *Scheme) Tolerance() time.Duration {
	if s.Timestamp == nil {
		return 0
	}
	d, _ := time.ParseDuration(s.Timestamp.Tolerance)
	return d
}

// KeyOf turns a secret into the scheme's key.
func (s *Scheme) KeyOf(secret harness.Secret) ([]byte, error) {
	k := secret.Reveal()
	if s.Key == nil {
		return []byte(k), nil
	}
	if s.Key.Strip != "" {
		k = strings.TrimPrefix(k, s.Key.Strip)
	}
	if s.Key.Decode == "base64" {
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil {
			return nil, fmt.Errorf("%w %s: the secret is not base64 after %q (is it the provider's whole secret?)", ErrScheme, s.Name, s.Key.Strip)
		}
		return b, nil
	}
	return []byte(k), nil
}

// fill replaces the placeholders of a template with d's values.
func fill(template string, d Delivery) string {
	if !strings.Contains(template, "{") {
		return template
	}
	return string(appendFilled(make([]byte, 0, len(template)+len(d.ID)+16), template, d))
}

// appendFilled appends template to b with its placeholders replaced by
// d's values; it runs for every delivery of a load test, so it neither
// builds a Replacer nor formats through fmt.
func appendFilled(b []byte, template string, d Delivery) []byte {
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			return append(b, template...)
		}
		b = append(b, template[:i]...)
		template = template[i:]
		switch {
		case strings.HasPrefix(template, "{t}"):
			b = strconv.AppendInt(b, d.T, 10)
			template = template[len("{t}"):]
		case strings.HasPrefix(template, "{id}"):
			b = append(b, d.ID...)
			template = template[len("{id}"):]
		case strings.HasPrefix(template, "{type}"):
			b = append(b, d.Type...)
			template = template[len("{type}"):]
		case strings.HasPrefix(template, "{attempt}"):
			b = strconv.AppendInt(b, int64(d.Attempt), 10)
			template = template[len("{attempt}"):]
		default:
			b = append(b, '{')
			template = template[1:]
		}
	}
}

// mac is the raw MAC of d under key.
func (s *Scheme) mac(key []byte, d Delivery) []byte {
	before, after, _ := strings.Cut(s.Message, "{body}")
	var buf [128]byte
	return sumMessage(hmac.New(s.hash(), key), buf[:0], before, after, d)
}

func (s *Scheme) encode(sum []byte) string {
	var buf [2 * sha512.Size]byte
	return string(s.appendEncoded(buf[:0], sum))
}

// Sign returns the encoded signature of d under key, as it goes into an
// entry.
func (s *Scheme) Sign(key []byte, d Delivery) string {
	return s.encode(s.mac(key, d))
}

// SignatureValue writes the signature header's value: the timestamp entry
// if the scheme has one, then one entry per signature, in order.
func (s *Scheme) SignatureValue(d Delivery, sigs ...string) string {
	var parts []string
	if s.Signature.TimestampEntry != "" {
		parts = append(parts, fill(s.Signature.TimestampEntry, d))
	}
	for _, sig := range sigs {
		parts = append(parts, strings.Replace(s.Signature.Entry, "{signature}", sig, 1))
	}
	return strings.Join(parts, s.Signature.Separator)
}

// HeaderLines returns every header of d signed with the given keys: the
// signature header first, then the scheme's other headers in order.
func (s *Scheme) HeaderLines(d Delivery, keys ...[]byte) []Header {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = s.Sign(k, d)
	}
	out := []Header{{Name: s.Signature.Header, Value: s.SignatureValue(d, sigs...)}}
	for _, h := range s.Headers {
		out = append(out, Header{Name: h.Name, Value: fill(h.Value, d)})
	}
	return out
}

// Verify authenticates body against the headers of a delivery: some entry
// of the signature header matches under some key, compared in constant
// time, and a signed timestamp lies within the tolerance of now (a zero
// now skips that check). Entries that are not signatures of this scheme
// are ignored.
func (s *Scheme) Verify(keys [][]byte, h http.Header, body []byte, now time.Time) error {
	value := h.Get(s.Signature.Header)
	if value == "" {
		return errMissing
	}
	parts := []string{value}
	if s.Signature.Separator != "" {
		parts = strings.Split(value, s.Signature.Separator)
	}
	d := Delivery{Body: body}
	if s.Timestamp != nil {
		t, ok := s.SignedTime(h)
		if !ok {
			return fmt.Errorf("%w: no timestamp", ErrMalformed)
		}
		d.T = t
		if s.Signature.TimestampEntry != "" {
			parts = parts[1:]
		}
	}
	if strings.Contains(s.Message, "{id}") {
		if d.ID = h.Get(s.headerOf("{id}")); d.ID == "" {
			return fmt.Errorf("%w: no %s header", ErrMalformed, s.headerOf("{id}"))
		}
	}
	var sigs [][]byte
	for _, p := range parts {
		enc, ok := cutTemplate(p, s.Signature.Entry, "{signature}")
		if !ok {
			continue
		}
		if sig, err := s.decode(enc); err == nil {
			sigs = append(sigs, sig)
		}
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no %s entry", ErrMalformed, s.Signature.Entry)
	}
	matched := false
	for _, k := range keys {
		want := s.mac(k, d)
		for _, sig := range sigs {
			matched = hmac.Equal(sig, want) || matched
		}
	}
	if !matched {
		return ErrNoMatch
	}
	if s.Timestamp != nil && !now.IsZero() {
		age := now.Sub(time.Unix(d.T, 0))
		switch tol := s.Tolerance(); {
		case age > tol:
			return ErrTooOld
		case age < -tol && !s.Timestamp.PastOnly:
			return ErrTooNew
		}
	}
	return nil
}

// decode reads one encoded signature strictly: lowercase hex, or padded
// standard base64 as it encodes, nothing else. Go's base64 decoder skips
// carriage returns and newlines, even strict, so the text must be what
// encoding the signature gives back.
func (s *Scheme) decode(enc string) ([]byte, error) {
	if s.Encoding == "base64" {
		sig, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err == nil && base64.StdEncoding.EncodeToString(sig) != enc {
			return nil, ErrMalformed
		}
		return sig, err
	}
	if !isLowerHex(enc) {
		return nil, ErrMalformed
	}
	return hex.DecodeString(enc)
}

// cutTemplate returns what stands for placeholder in s, when s has the
// template's text around it.
func cutTemplate(s, template, placeholder string) (string, bool) {
	before, after, _ := strings.Cut(template, placeholder)
	if !strings.HasPrefix(s, before) || !strings.HasSuffix(s, after) || len(s) < len(before)+len(after) {
		return "", false
	}
	return s[len(before) : len(s)-len(after)], true
}

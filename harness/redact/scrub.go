// Package redact keeps secrets out of everything the harness shows: the
// signing secret and the probe token in text and headers a receiver
// controls, and the credentials a URL may carry (userinfo, query values).
package redact

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/realm-ai/hookcert/harness"
)

// shortSecret is the length under which a secret is matched only as a
// whole word. A secret of a few characters, say SECRET=s, occurs inside
// ordinary words ("invalid signature"), where it reveals nothing: matched
// anywhere, it would redact every s of a report and judge every response
// a leak. A short secret is still found where it stands alone, delimited
// by anything but a letter or a digit: a JSON string, a header value, a
// key=value pair (README "Signing schemes" says what that can prove).
const shortSecret = 8

// Scrub returns text with every occurrence of the secrets replaced by
// harness.Redacted. Everything a receiver or a probe controls (bodies, headers,
// error messages that quote them) passes through it before it becomes
// evidence, so a receiver that echoes a secret cannot make a report leak
// it. Empty secrets are ignored: there is nothing to hide, and an empty
// pattern would match between every two characters. A secret shorter than
// shortSecret is replaced only where it stands as a whole word. When
// several secrets occur, they are replaced in one pass, the earlier secret
// winning where two start at the same place.
func Scrub(text string, secrets ...harness.Secret) string {
	var pairs []string
	var short []string
	for _, s := range secrets {
		// A secret the text does not hold cannot match anywhere: leaving
		// it out keeps the common case (nothing echoed) free of work.
		switch v := s.Reveal(); {
		case v == "" || !strings.Contains(text, v):
		case len(v) < shortSecret:
			short = append(short, v)
		default:
			pairs = append(pairs, v, harness.Redacted)
		}
	}
	switch len(pairs) {
	case 0:
	case 2:
		text = strings.ReplaceAll(text, pairs[0], harness.Redacted)
	default:
		text = strings.NewReplacer(pairs...).Replace(text)
	}
	for _, v := range short {
		text = replaceWords(text, v)
	}
	return text
}

// replaceWords replaces by harness.Redacted each occurrence of v in text that
// stands as a whole word.
func replaceWords(text, v string) string {
	var b strings.Builder
	for from := 0; ; {
		i := wordIndex(text[from:], v)
		if i < 0 {
			if from == 0 {
				return text
			}
			b.WriteString(text[from:])
			return b.String()
		}
		b.WriteString(text[from : from+i])
		b.WriteString(harness.Redacted)
		from += i + len(v)
	}
}

// wordIndex is the index of the first occurrence of v in text that has
// neither a letter nor a digit on either side, or -1.
func wordIndex(text, v string) int {
	for from := 0; ; {
		i := strings.Index(text[from:], v)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(v)
		if (i == 0 || !wordByte(text[i-1])) && (end == len(text) || !wordByte(text[end])) {
			return i
		}
		from = i + 1
	}
}

func wordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

// contains reports whether text holds the secret v: anywhere, or as a
// whole word when v is shorter than shortSecret.
func contains(text, v string) bool {
	if len(v) < shortSecret {
		return wordIndex(text, v) >= 0
	}
	return strings.Contains(text, v)
}

// Header returns a copy of h for the evidence: every value scrubbed
// as by Scrub, and every header name that holds a secret, compared without
// case because names arrive canonicalised, replaced by harness.Redacted. A nil h
// gives nil.
func Header(h http.Header, secrets ...harness.Secret) http.Header {
	return mapHeader(h, func(k string) string {
		if nameHolds(k, secrets) {
			return harness.Redacted
		}
		return k
	}, func(v string) string { return Scrub(v, secrets...) })
}

// mapHeader returns a copy of h with each name passed through name and
// each value through value; a nil h gives nil.
func mapHeader(h http.Header, name, value func(string) string) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		clean := make([]string, len(vs))
		for i, v := range vs {
			clean[i] = value(v)
		}
		out[name(k)] = clean
	}
	return out
}

// Echoes reports whether an answer holds one of the secrets, in its body
// or in a header name or value. The evidence shows harness.Redacted in the
// secret's place, so this is how a check still sees the leak.
func Echoes(body []byte, h http.Header, secrets ...harness.Secret) bool {
	for _, s := range secrets {
		if v := s.Reveal(); v != "" && bytes.Contains(body, []byte(v)) && contains(string(body), v) {
			return true
		}
	}
	for k, vs := range h {
		if nameHolds(k, secrets) {
			return true
		}
		for _, v := range vs {
			if holds(v, secrets) {
				return true
			}
		}
	}
	return false
}

// holds reports whether text holds one of the secrets.
func holds(text string, secrets []harness.Secret) bool {
	for _, s := range secrets {
		if v := s.Reveal(); v != "" && contains(text, v) {
			return true
		}
	}
	return false
}

// nameHolds reports whether the header name k holds one of the secrets,
// without case: a name arrives canonicalised, so its case says nothing of
// the secret's.
func nameHolds(k string, secrets []harness.Secret) bool {
	lower := strings.ToLower(k)
	for _, s := range secrets {
		if v := s.Reveal(); v != "" && contains(lower, strings.ToLower(v)) {
			return true
		}
	}
	return false
}

package harness

import (
	"bytes"
	"net/http"
	"strings"
)

// Scrub returns text with every occurrence of the secrets replaced by
// Redacted. Everything a receiver or a probe controls (bodies, headers,
// error messages that quote them) passes through it before it becomes
// evidence, so a receiver that echoes a secret cannot make a report leak
// it. Empty secrets are ignored: there is nothing to hide, and an empty
// pattern would match between every two characters. When several secrets
// occur, they are replaced in one pass, the earlier secret winning where
// two start at the same place.
func Scrub(text string, secrets ...Secret) string {
	var pairs []string
	for _, s := range secrets {
		// A secret the text does not hold cannot match anywhere: leaving
		// it out keeps the common case (nothing echoed) free of work.
		if v := s.Reveal(); v != "" && strings.Contains(text, v) {
			pairs = append(pairs, v, Redacted)
		}
	}
	switch len(pairs) {
	case 0:
		return text
	case 2:
		return strings.ReplaceAll(text, pairs[0], Redacted)
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// ScrubHeader returns a copy of h for the evidence: every value scrubbed
// as by Scrub, and every header name that holds a secret, compared without
// case because names arrive canonicalised, replaced by Redacted. A nil h
// gives nil.
func ScrubHeader(h http.Header, secrets ...Secret) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		clean := make([]string, len(vs))
		for i, v := range vs {
			clean[i] = Scrub(v, secrets...)
		}
		if nameHolds(k, secrets) {
			k = Redacted
		}
		out[k] = clean
	}
	return out
}

// Echoes reports whether an answer holds one of the secrets, in its body
// or in a header name or value. The evidence shows Redacted in the
// secret's place, so this is how a check still sees the leak.
func Echoes(body []byte, h http.Header, secrets ...Secret) bool {
	for _, s := range secrets {
		if v := s.Reveal(); v != "" && bytes.Contains(body, []byte(v)) {
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
func holds(text string, secrets []Secret) bool {
	for _, s := range secrets {
		if v := s.Reveal(); v != "" && strings.Contains(text, v) {
			return true
		}
	}
	return false
}

// nameHolds reports whether the header name k holds one of the secrets,
// without case: a name arrives canonicalised, so its case says nothing of
// the secret's.
func nameHolds(k string, secrets []Secret) bool {
	lower := strings.ToLower(k)
	for _, s := range secrets {
		if v := s.Reveal(); v != "" && strings.Contains(lower, strings.ToLower(v)) {
			return true
		}
	}
	return false
}

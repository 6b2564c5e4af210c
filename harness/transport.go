package harness

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// HTTPVersion says which HTTP versions the harness speaks to a receiver
// and its probe (README "Make variables", HTTP_VERSION). A sender that
// speaks what the receiver offers, as HTTPAuto does, certifies the
// receiver as most clients reach it; the other values pin one version,
// to certify it as a client limited to that version reaches it.
type HTTPVersion string

// The HTTP versions.
const (
	// HTTPAuto offers HTTP/2 and HTTP/1.1 in the TLS handshake (ALPN) and
	// speaks the one the receiver chooses. Over http:// it speaks
	// HTTP/1.1: nothing there tells a client that the receiver speaks
	// HTTP/2.
	HTTPAuto HTTPVersion = ""
	// HTTP1 speaks HTTP/1.1 only.
	HTTP1 HTTPVersion = "1.1"
	// HTTP2 speaks HTTP/2 only: over TLS it offers only h2, and over
	// http:// it speaks h2c with prior knowledge (RFC 9113, section 3.3).
	HTTP2 HTTPVersion = "2"
)

// errHTTPVersion means an HTTP version is none of those the harness
// speaks.
var errHTTPVersion = errors.New("invalid HTTP version")

// ParseHTTPVersion reads an HTTP version as a user writes it: empty or
// "auto" for HTTPAuto, "1.1" or "2". Anything else is an error wrapping
// errHTTPVersion that says what to write.
func ParseHTTPVersion(s string) (HTTPVersion, error) {
	switch v := strings.TrimSpace(s); v {
	case "", "auto":
		return HTTPAuto, nil
	case string(HTTP1), string(HTTP2):
		return HTTPVersion(v), nil
	}
	return HTTPAuto, fmt.Errorf("%w %q: write 1.1 or 2, or leave it empty to speak what the receiver offers", errHTTPVersion, s)
}

// String returns the version as ParseHTTPVersion reads it, "auto" for
// HTTPAuto.
func (v HTTPVersion) String() string {
	if v == HTTPAuto {
		return "auto"
	}
	return string(v)
}

// Protocols returns the protocols of a transport that speaks v.
// HTTP2's include unencrypted HTTP/2 and not HTTP/1: that is how net/http
// is told to speak h2c with prior knowledge over http://.
func (v HTTPVersion) Protocols() *http.Protocols {
	p := new(http.Protocols)
	switch v {
	case HTTP1:
		p.SetHTTP1(true)
	case HTTP2:
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	}
	return p
}

// ALPN returns the protocols v offers in a TLS handshake, by their ALPN
// names, preferred first.
func (v HTTPVersion) ALPN() []string {
	switch v {
	case HTTP1:
		return []string{"http/1.1"}
	case HTTP2:
		return []string{"h2"}
	}
	return []string{"h2", "http/1.1"}
}

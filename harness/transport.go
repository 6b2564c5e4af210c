package harness

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// idleTimeout is how long a kept-alive connection to a receiver may sit
// unused; keepAlive the period of TCP keep-alive probes on it.
const (
	idleTimeout = 30 * time.Second
	keepAlive   = 30 * time.Second
)

// NewTransport returns the HTTP transport the harness reaches a receiver
// or its probe with. It never goes through a proxy, because the harness
// must reach the receiver exactly as REALM does; the dial and the TLS
// handshake are bounded by timeout; up to idle connections per host are
// kept alive between requests; and it does not ask for gzip, because a
// transparent gzip would add a header REALM does not send and hide the
// bytes that came back. cfg is cloned; nil means TLS 1.2 or later with the
// system roots. It speaks HTTP/1.1: a custom dialer and TLS configuration
// turn net/http's automatic HTTP/2 off, so the protocols are set here
// rather than left to that rule, and a caller that speaks another
// version sets Protocols to its HTTPVersion's. A caller with other needs
// changes the fields of the transport returned.
func NewTransport(cfg *tls.Config, timeout time.Duration, idle int) *http.Transport {
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: keepAlive}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     cfg.Clone(),
		TLSHandshakeTimeout: timeout,
		DisableCompression:  true,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     idleTimeout,
		Protocols:           HTTP1.Protocols(),
	}
}

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

// ErrHTTPVersion means an HTTP version is none of those the harness
// speaks.
var ErrHTTPVersion = errors.New("invalid HTTP version")

// ParseHTTPVersion reads an HTTP version as a user writes it: empty or
// "auto" for HTTPAuto, "1.1" or "2". Anything else is an error wrapping
// ErrHTTPVersion that says what to write.
func ParseHTTPVersion(s string) (HTTPVersion, error) {
	switch v := strings.TrimSpace(s); v {
	case "", "auto":
		return HTTPAuto, nil
	case string(HTTP1), string(HTTP2):
		return HTTPVersion(v), nil
	}
	return HTTPAuto, fmt.Errorf("%w %q: write 1.1 or 2, or leave it empty to speak what the receiver offers", ErrHTTPVersion, s)
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

// HostPort returns the host:port that u is dialled at: its own port, or
// the scheme's default (443 for https, 80 otherwise). Checks that dial the
// receiver themselves (reachability, TLS handshakes, abandoned attempts)
// must reach the address the transport does.
func HostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Package dial reaches a receiver and its probe as REALM does: the HTTP
// transport every sender and probe client starts from, and the address a
// check that dials the receiver itself must use.
package dial

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// idleTimeout is how long a kept-alive connection to a receiver may sit
// unused; keepAlive the period of TCP keep-alive probes on it.
const (
	idleTimeout = 30 * time.Second
	keepAlive   = 30 * time.Second
)

// Transport returns the HTTP transport the harness reaches a receiver
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
func Transport(cfg *tls.Config, timeout time.Duration, idle int) *http.Transport {
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: keepAlive}
	return &http.Transport{
		Proxy: nil,
		// net/http dials with the values of the request's context, so a
		// run learns here that it ran out of open files (WithOutOfFiles).
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			Notify(ctx, err)
			return c, err
		},
		TLSClientConfig:     cfg.Clone(),
		TLSHandshakeTimeout: timeout,
		DisableCompression:  true,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     idleTimeout,
		Protocols:           harness.HTTP1.Protocols(),
	}
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

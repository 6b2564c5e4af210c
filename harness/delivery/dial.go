package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Protocol names of the attempts, as net/http's Response.Proto gives them.
const (
	protoHTTP1 = "HTTP/1.1"
	protoHTTP2 = "HTTP/2.0"
)

// alpnH2 is HTTP/2's name in a TLS handshake (ALPN).
const alpnH2 = "h2"

// errNoH2 is the dial's answer when the sender speaks only HTTP/2 and the
// receiver did not choose it in the TLS handshake. net/http would then
// speak HTTP/1.1 on the connection, which the sender was told not to do.
var errNoH2 = errors.New("the receiver did not choose h2 in the TLS handshake (ALPN): it does not speak HTTP/2 over TLS, and the sender speaks only HTTP/2")

// dialer opens the sender's connections to the receiver: TCP, and for
// https TLS with the sender's configuration, offering in the handshake the
// protocols of the sender's HTTP version. The transport and the abandoned
// attempts both dial through it, so that an abandoned attempt reaches the
// receiver, and speaks to it, as every other attempt does.
type dialer struct {
	tcp func(ctx context.Context, network, addr string) (net.Conn, error)
	// tls offers version's protocols (NextProtos); the server name is
	// the target's host unless it names one.
	tls     *tls.Config
	version harness.HTTPVersion
	// timeout bounds the TLS handshake.
	timeout time.Duration
}

// dialTCP opens a plain connection to addr.
func (d *dialer) dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	return d.tcp(ctx, "tcp", addr)
}

// dialTLS opens a TLS connection to addr, its handshake done with the
// protocols of the sender's version offered.
func (d *dialer) dialTLS(ctx context.Context, addr string) (*tls.Conn, error) {
	raw, err := d.dialTCP(ctx, addr)
	if err != nil {
		return nil, err
	}
	c := d.tls.Clone()
	if c.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		c.ServerName = host
	}
	tc := tls.Client(raw, c)
	// The transport's dial outlives the request's context; the handshake
	// gets the sender timeout, as TLSHandshakeTimeout would give it.
	hctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, err
	}
	if d.version == harness.HTTP2 && tc.ConnectionState().NegotiatedProtocol != alpnH2 {
		tc.Close()
		return nil, errNoH2
	}
	return tc, nil
}

// h2 reports whether c speaks HTTP/2: a TLS connection whose handshake
// chose h2, or a plain one of a sender that speaks only HTTP/2 (h2c with
// prior knowledge).
func (d *dialer) h2(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.ConnectionState().NegotiatedProtocol == alpnH2
	}
	return d.version == harness.HTTP2
}

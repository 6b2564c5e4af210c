package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/scenario"
)

// legacyCipherSuites are the suites a TLS 1.0/1.1 server can negotiate;
// the Go client offers none of them by default any more.
var legacyCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
}

// tls carries out a TLS step against the target's host and port.
func (r *run) tls(ctx context.Context, n int, t *scenario.TLSCheck) error {
	u, err := url.Parse(r.e.cfg.Sender.URL())
	if err != nil {
		return fmt.Errorf("tls: target URL: %w", err)
	}
	if u.Scheme != "https" {
		return &skipError{reason: "the target is an http:// URL, so TLS cannot be checked; the certification is partial until it runs against the https:// endpoint"}
	}
	host := u.Hostname()
	addr := dial.HostPort(u)
	// A handshake the harness could not make for want of open files says
	// nothing of the receiver: the step ends with it, cut short.
	var ranOut error
	handshake := func(cfg *tls.Config) (tls.ConnectionState, error) {
		cfg.ServerName = host
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: r.e.cfg.Sender.Timeout()}, Config: cfg}
		ctx, cancel := context.WithTimeout(ctx, r.e.cfg.Sender.Timeout())
		defer cancel()
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if dial.OutOfFiles(err) {
				dial.Notify(ctx, err)
				ranOut = err
			}
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		return c.(*tls.Conn).ConnectionState(), nil
	}
	what := "TLS handshake with " + addr
	switch t.Check {
	case "https":
		st, err := handshake(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
		if err != nil {
			r.observe(observation{step: n, what: what, expected: "the https:// endpoint speaks TLS", observed: "no TLS handshake: " + err.Error()})
			return nil
		}
		r.observe(observation{step: n, what: what, expected: "the https:// endpoint speaks TLS", observed: "handshake with " + tls.VersionName(st.Version), ok: true})
	case "certificate":
		exp := "a certificate chain that verifies for " + host
		_, err := handshake(&tls.Config{RootCAs: r.e.cfg.RootCAs, MinVersion: tls.VersionTLS12})
		if err == nil {
			r.observe(observation{step: n, what: what, expected: exp, observed: "the certificate verifies for " + host, ok: true})
			return nil
		}
		obs := "verification failed: " + certProblem(err)
		if r.e.cfg.Insecure {
			r.mu.Lock()
			r.warn = "certificate verification is off, so this failure is a warning: " + obs
			r.mu.Unlock()
			r.observe(observation{step: n, what: what, expected: exp, observed: obs + " (tolerated: certificate verification is off)", ok: true})
			return nil
		}
		r.observe(observation{step: n, what: what, expected: exp, observed: obs})
	case "legacy":
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
			name := tls.VersionName(v)
			st, err := handshake(&tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v, CipherSuites: legacyCipherSuites})
			obs := name + " refused: " + shortErr(err)
			if err == nil {
				obs = name + " accepted, cipher " + tls.CipherSuiteName(st.CipherSuite)
			}
			r.observe(observation{step: n, what: "handshake offering only " + name, expected: name + " refused", observed: obs, ok: err != nil})
		}
	case "info":
		// The handshake offers what the sender offers, so that the
		// protocol it agrees on is the one the deliveries were offered;
		// which one they were made in is the sender's record.
		offered := r.e.cfg.Sender.TLSConfig().NextProtos
		st, err := handshake(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, NextProtos: offered})
		if err != nil {
			r.info = append(r.info, "no TLS handshake: "+err.Error())
			return nil
		}
		used := "no delivery was answered yet, so the protocol of the deliveries is not known"
		if ps := r.e.cfg.Sender.Protocols(); len(ps) > 0 {
			used = "the deliveries were made in " + strings.Join(ps, " and ")
		}
		chosen := st.NegotiatedProtocol
		if chosen == "" {
			chosen = "none (HTTP/1.1)"
		}
		r.info = append(r.info,
			used,
			"ALPN: the sender offers "+strings.Join(offered, ", ")+"; the receiver chose "+chosen,
			"TLS version "+tls.VersionName(st.Version)+", cipher "+tls.CipherSuiteName(st.CipherSuite))
		if len(st.PeerCertificates) > 0 {
			c := st.PeerCertificates[0]
			left := time.Until(c.NotAfter).Round(time.Hour)
			r.info = append(r.info, fmt.Sprintf("certificate for %s expires %s (in %s), issuer %q",
				strings.Join(names(c), ", "), c.NotAfter.UTC().Format(time.RFC3339), left, c.Issuer.String()))
		}
		r.observe(observation{step: n, what: what, expected: "a description of the TLS setup and of the protocol the deliveries were made in", observed: strings.Join(r.info, "; "), ok: true})
	default:
		return fmt.Errorf("tls: unknown check %q", t.Check)
	}
	return ranOut
}

// certProblem words a verification error for a human.
func certProblem(err error) string {
	var inv x509.CertificateInvalidError
	var unk x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return "the certificate has expired or is not yet valid (" + inv.Error() + ")"
	case errors.As(err, &unk):
		return "signed by an unknown authority: give the run the certificate of a private CA to trust"
	case errors.As(err, &host):
		return "not valid for this host (" + host.Error() + ")"
	}
	return err.Error()
}

func shortErr(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s, "remote error") {
		return s[i+2:]
	}
	return s
}

func names(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		out = append(out, c.Subject.CommonName)
	}
	return out
}

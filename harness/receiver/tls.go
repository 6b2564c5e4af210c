package receiver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// certValidity is how long the certificate of a correct HTTPS server is
// valid; certBackdate is how far before now its validity starts, so that a
// client whose clock is slightly behind still accepts it.
const (
	certValidity = 7 * 24 * time.Hour
	certBackdate = time.Hour
)

// loopbackHosts are the names a Start'ed HTTPS server's certificate covers.
var loopbackHosts = []string{"127.0.0.1", "::1", "localhost"}

// selfSigned returns an ECDSA P-256 certificate valid for hosts (IP
// addresses become IP SANs, the rest DNS SANs) from notBefore to notAfter,
// signed by its own key, together with its PEM encoding. It is marked as a
// CA so that a client can trust the PEM as a root and then verify
// the server like any other.
func selfSigned(hosts []string, notBefore, notAfter time.Time) (tls.Certificate, []byte, error) {
	if len(hosts) == 0 {
		return tls.Certificate{}, nil, errors.New("receiver: self-signed certificate: no hosts")
	}
	if !notAfter.After(notBefore) {
		return tls.Certificate{}, nil, fmt.Errorf("receiver: self-signed certificate: notAfter %s is not after notBefore %s", notAfter, notBefore)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("receiver: self-signed certificate: generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("receiver: self-signed certificate: serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"hookcert"}, CommonName: "hookcert reference receiver"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("receiver: self-signed certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("receiver: self-signed certificate: parsing it back: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// serverTLS returns the TLS configuration of a Start'ed HTTPS server and its
// certificate's PEM. The certificate's validity is taken from the system
// clock, not Config.Clock: TLS clients check it against theirs.
func serverTLS(faults map[Fault]bool) (*tls.Config, []byte, error) {
	now := time.Now()
	notBefore, notAfter := now.Add(-certBackdate), now.Add(certValidity)
	if faults[faultExpiredCert] {
		notBefore, notAfter = now.Add(-30*24*time.Hour), now.Add(-24*time.Hour)
	}
	cert, certPEM, err := selfSigned(loopbackHosts, notBefore, notAfter)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if faults[faultTLSLegacy] {
		// Setting MinVersion is all it takes: the server then offers TLS
		// 1.0 and 1.1 (Go's server default is 1.2 since Go 1.22), and the
		// default suites still include ECDHE-ECDSA AES-CBC-SHA, which is
		// what a TLS 1.0/1.1 handshake with a P-256 key negotiates.
		cfg.MinVersion = tls.VersionTLS10
	}
	return cfg, certPEM, nil
}

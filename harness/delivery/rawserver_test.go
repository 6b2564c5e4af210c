package delivery

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// rawServer is a loopback receiver written on a bare net.Listener, so that
// a test controls every byte and every close: what net/http would never
// do, hostile or merely abrupt receivers do.
type rawServer struct {
	// URL is the base URL to send to, http:// or https://.
	URL string
	// CA is the PEM of the certificate to trust for https, nil for http.
	CA []byte
}

// rawConnDeadline bounds every connection of a raw server, so that a test
// that goes wrong cannot leave a goroutine behind for long.
const rawConnDeadline = 20 * time.Second

// startRaw starts a raw server whose connections are each handled by
// handle in a goroutine of its own, over TLS when secure. handle owns the
// connection but need not close it: everything is closed, and every
// handler waited for, when the test ends.
func startRaw(t *testing.T, secure bool, handle func(c net.Conn)) rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := rawServer{URL: "http://" + ln.Addr().String()}
	var cfg *tls.Config
	if secure {
		cert, caPEM := selfSigned(t)
		cfg = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
		srv.URL, srv.CA = "https://"+ln.Addr().String(), caPEM
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(rawConnDeadline))
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if cfg != nil {
				c = tls.Server(c, cfg)
			}
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return srv
}

// readHead reads the request line and headers from c and returns the
// request, its body unread, and the reader holding whatever of the body
// arrived with the headers.
func readHead(c net.Conn) (*http.Request, *bufio.Reader, error) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	return req, br, err
}

// selfSigned returns a certificate for 127.0.0.1 that is its own CA, and its
// PEM for WithCACert.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hookcert raw test server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

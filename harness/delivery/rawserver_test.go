package delivery

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
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

// selfSigned returns net/http/httptest's certificate for 127.0.0.1, which
// is its own CA, and its PEM for withCACert.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.StartTLS()
	defer srv.Close()
	return srv.TLS.Certificates[0], pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

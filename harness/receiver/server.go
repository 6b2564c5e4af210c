package receiver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// Timeouts of a Start'ed server. Every connection is bounded, so a slow or
// stuck client cannot hold a goroutine forever.
const (
	// readHeaderTimeout bounds reading the request headers (slowloris).
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds reading a whole request, body included.
	readTimeout = 30 * time.Second
	// writeTimeout bounds handling a request and writing the response.
	writeTimeout = 30 * time.Second
	// idleTimeout bounds how long an idle keep-alive connection is kept.
	idleTimeout = 60 * time.Second
	// shutdownTimeout bounds how long Close waits for requests in flight.
	shutdownTimeout = 5 * time.Second
	// maxHeaderBytes bounds the request headers; a delivery needs little.
	maxHeaderBytes = 64 << 10
)

// Server is a reference receiver listening on a real socket, the target of
// every make target when no URL is given.
type Server struct {
	// URL is the base URL, for example "https://127.0.0.1:41234".
	URL string
	// WebhookURL is where to deliver events: URL + WebhookPath.
	WebhookURL string
	// ProbeURL is the probe's base: URL + ProbePath.
	ProbeURL string
	// CertPEM is the server's self-signed certificate, for clients to trust
	// as a CA; nil when serving plain HTTP.
	CertPEM []byte

	rcv      *receiver
	srv      *http.Server
	served   chan struct{}
	serveErr error
	once     sync.Once
	closeErr error
}

// Start starts a receiver configured by cfg listening on addr ("" or
// "127.0.0.1:0" picks a free loopback port). With useTLS it serves HTTPS
// with a fresh self-signed certificate for 127.0.0.1, ::1 and localhost,
// TLS 1.2 or later (TLS 1.0 or later under faultTLSLegacy, a certificate
// that expired a day ago under faultExpiredCert).
func Start(addr string, cfg Config, useTLS bool) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	rcv, err := New(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		rcv:    rcv,
		served: make(chan struct{}),
		srv: &http.Server{
			Handler:           rcv,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			// Handshake failures of TLS checks are expected: keep them at
			// debug level instead of on standard error.
			ErrorLog: slog.NewLogLogger(rcv.log.Handler(), slog.LevelDebug),
		},
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
		s.srv.TLSConfig, s.CertPEM, err = serverTLS(rcv.faults)
		if err != nil {
			rcv.Close()
			return nil, fmt.Errorf("receiver: start: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		rcv.Close()
		return nil, fmt.Errorf("receiver: start: %w", err)
	}
	s.URL = scheme + "://" + dialable(ln.Addr())
	s.WebhookURL = s.URL + WebhookPath
	s.ProbeURL = s.URL + ProbePath
	go func() {
		defer close(s.served)
		var err error
		if useTLS {
			err = s.srv.ServeTLS(ln, "", "")
		} else {
			err = s.srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	return s, nil
}

// dialable returns the host:port a client can dial to reach a listener at
// a: an unspecified address (0.0.0.0, ::) becomes the loopback address.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	host := "127.0.0.1"
	if tcp.IP.To4() == nil {
		host = "::1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// receiver returns the receiver the server serves.
func (s *Server) receiver() *receiver { return s.rcv }

// client returns an HTTP client for the server: it trusts the server's
// certificate, gives up after harness.DefaultTiming().SenderTimeout and, like REALM,
// does not follow redirects.
func (s *Server) client() *http.Client {
	// No proxy, whatever the environment says: the server is on loopback.
	tr := &http.Transport{Proxy: nil, ForceAttemptHTTP2: true}
	if s.CertPEM != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.CertPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport: tr,
		Timeout:   harness.DefaultTiming().SenderTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Close shuts the server down gracefully, waiting up to shutdownTimeout for
// requests in flight before closing their connections, then stops the
// receiver's workers. It returns the first error met, the same on every
// call.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.closeErr = fmt.Errorf("receiver: shutdown: %w", err)
			_ = s.srv.Close()
		}
		<-s.served
		s.rcv.Close()
		if s.closeErr == nil && s.serveErr != nil {
			s.closeErr = fmt.Errorf("receiver: serve: %w", s.serveErr)
		}
	})
	return s.closeErr
}

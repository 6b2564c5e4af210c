package delivery

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// protocols names the protocols a test server speaks.
type protocols struct {
	http1, http2, h2c bool
}

// startHTTP serves h on loopback with net/http, speaking protos: over TLS
// when secure, the ALPN protocols offered following protos, and with no
// ALPN at all when noALPN (a server that predates it).
func startHTTP(t *testing.T, h http.Handler, secure bool, protos protocols, noALPN bool) rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetHTTP1(protos.http1)
	p.SetHTTP2(protos.http2)
	p.SetUnencryptedHTTP2(protos.h2c)
	srv := &http.Server{Handler: h, Protocols: &p, ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: rawConnDeadline}
	out := rawServer{URL: "http://" + ln.Addr().String()}
	if secure {
		cert, caPEM := selfSigned(t)
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		out.URL, out.CA = "https://"+ln.Addr().String(), caPEM
		if noALPN {
			// Serve, not ServeTLS, which would offer ALPN.
			ln = tls.NewListener(ln, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	go func() {
		if secure && !noALPN {
			srv.ServeTLS(ln, "", "")
		} else {
			srv.Serve(ln)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return out
}

// TestHTTPVersions: the sender speaks HTTP/2 when the receiver chooses it
// in the TLS handshake, HTTP/1.1 otherwise and over http://, and only the
// version it is told to when told; every attempt records the version it
// was made in, and a receiver that does not speak the one version asked
// for fails at once, saying why.
func TestHTTPVersions(t *testing.T) {
	t.Parallel()
	var (
		both     = protocols{http1: true, http2: true}
		h2Only   = protocols{http2: true}
		http1    = protocols{http1: true}
		h2cOnly  = protocols{h2c: true}
		everyone = protocols{http1: true, http2: true, h2c: true}
	)
	tests := []struct {
		why     string
		secure  bool
		server  protocols
		noALPN  bool
		version harness.HTTPVersion
		// proto is the version the delivery must be made in; when empty,
		// failure is the failure it must end in, and advice part of what
		// it says.
		proto   string
		failure harness.FailureKind
		advice  string
	}{
		{"a receiver offering HTTP/2 and HTTP/1.1 is spoken to in HTTP/2, as most clients do", true, both, false, harness.HTTPAuto, "HTTP/2.0", "", ""},
		{"an HTTP/2-only receiver is spoken to in HTTP/2", true, h2Only, false, harness.HTTPAuto, "HTTP/2.0", "", ""},
		{"an HTTP/1.1-only receiver is spoken to in HTTP/1.1", true, http1, false, harness.HTTPAuto, "HTTP/1.1", "", ""},
		{"a receiver without ALPN is spoken to in HTTP/1.1", true, http1, true, harness.HTTPAuto, "HTTP/1.1", "", ""},
		{"over http:// nothing says the receiver speaks HTTP/2", false, everyone, false, harness.HTTPAuto, "HTTP/1.1", "", ""},
		{"HTTP_VERSION=1.1 speaks HTTP/1.1 to a receiver offering both", true, both, false, harness.HTTP1, "HTTP/1.1", "", ""},
		{"HTTP_VERSION=2 speaks HTTP/2 over TLS", true, both, false, harness.HTTP2, "HTTP/2.0", "", ""},
		{"HTTP_VERSION=2 speaks h2c with prior knowledge over http://", false, h2cOnly, false, harness.HTTP2, "HTTP/2.0", "", ""},
		{"HTTP_VERSION=1.1 against an HTTP/2-only receiver, which closes the connection", true, h2Only, false, harness.HTTP1, "",
			harness.FailureReset, "the sender speaks only HTTP/1.1"},
		{"HTTP_VERSION=2 against a receiver that refuses h2 in the handshake", true, http1, false, harness.HTTP2, "",
			harness.FailureTLS, "none of the protocols the sender offered"},
		{"HTTP_VERSION=2 against a receiver without ALPN, which would be spoken to in HTTP/1.1", true, http1, true, harness.HTTP2, "",
			harness.FailureTLS, "did not choose h2"},
		{"HTTP/1.1 against an h2c-only receiver, which closes the connection", false, h2cOnly, false, harness.HTTPAuto, "",
			harness.FailureReset, "closed the connection"},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			t.Parallel()
			srv := startHTTP(t, &recorder{}, tt.secure, tt.server, tt.noALPN)
			s := senderFor(t, srv, WithHTTPVersion(tt.version), WithTimeout(5*time.Second))
			start := time.Now()
			ex := s.Send(context.Background(), s.Attempt(testEvent()))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the delivery took %s; nothing here may wait for the timeout", d)
			}
			if tt.proto == "" {
				if ex.Failure != tt.failure || !strings.Contains(ex.Err, tt.advice) || ex.Proto != "" {
					t.Fatalf("failure %q %q, proto %q; want %q saying %q, and no protocol", ex.Failure, ex.Err, ex.Proto, tt.failure, tt.advice)
				}
				return
			}
			if !ex.OK() || ex.Proto != tt.proto {
				t.Fatalf("status %d (%s), proto %q; want 2xx in %s", ex.Status(), ex.Err, ex.Proto, tt.proto)
			}
			if got := s.Protocols(); len(got) != 1 || got[0] != tt.proto {
				t.Errorf("Protocols() = %v, want [%s]", got, tt.proto)
			}
		})
	}
}

// TestAbandonedAttemptsCarryWhatOthersCarry: behind basic auth (the
// credentials of the target URL), an abandoned attempt carries exactly
// the headers, credentials, host, user agent and length of a normal one,
// over HTTP/1.1 and HTTP/2 alike; the evidence shows that credentials
// were sent but never the password. Without them, every abandoned first
// attempt was refused 401, and the retry checks judged a receiver that
// never processed a first attempt.
func TestAbandonedAttemptsCarryWhatOthersCarry(t *testing.T) {
	t.Parallel()
	const user, password = "realm", "s3cret-basic-pw"
	type carried struct {
		header http.Header
		host   string
		length int64
		proto  string
		status int
	}
	for _, tc := range []struct {
		name   string
		secure bool
		protos protocols
		proto  string
	}{
		{"HTTP/1.1", false, protocols{http1: true}, "HTTP/1.1"},
		{"HTTP/1.1 over TLS", true, protocols{http1: true}, "HTTP/1.1"},
		{"HTTP/2", true, protocols{http1: true, http2: true}, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := make(chan carried, 2)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				c := carried{header: r.Header.Clone(), host: r.Host, length: r.ContentLength, proto: r.Proto, status: http.StatusOK}
				if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
					c.status = http.StatusUnauthorized
				}
				seen <- c
				w.WriteHeader(c.status)
			})
			srv := startHTTP(t, h, tc.secure, tc.protos, false)
			target := strings.Replace(srv.URL, "://", "://"+user+":"+password+"@", 1) + "/hooks/realm"
			var opts []Option
			if srv.CA != nil {
				opts = append(opts, withCACert(srv.CA))
			}
			s := newSender(t, target, append(opts, withClock(fixedClock(time.Now())))...)
			a := s.Attempt(testEvent())
			normal := s.Send(context.Background(), a)
			if !normal.OK() {
				t.Fatalf("the normal attempt: status %d (%s), want 2xx", normal.Status(), normal.Err)
			}
			a.Abandon = true
			abandoned := s.Send(context.Background(), a)
			if !abandoned.Abandoned || abandoned.Err != "" {
				t.Fatalf("the abandoned attempt: %q", abandoned.Err)
			}
			var got [2]carried
			for i := range got {
				select {
				case got[i] = <-seen:
				case <-time.After(5 * time.Second):
					t.Fatalf("the receiver saw %d of the 2 attempts", i)
				}
			}
			first, second := got[0], got[1]
			if second.status != http.StatusOK {
				t.Errorf("the abandoned attempt was refused %d: it lost the URL's credentials", second.status)
			}
			if second.proto != tc.proto || first.proto != tc.proto {
				t.Errorf("the attempts were made in %s and %s, want %s", first.proto, second.proto, tc.proto)
			}
			for _, k := range []string{"Authorization", "User-Agent", "Content-Type", harness.HeaderID, harness.HeaderEvent, harness.HeaderAttempt, harness.HeaderSignature} {
				if !slices.Equal(first.header.Values(k), second.header.Values(k)) || len(first.header.Values(k)) != 1 {
					t.Errorf("%s: %q in the normal attempt, %q in the abandoned one; want the same one value", k, first.header.Values(k), second.header.Values(k))
				}
			}
			if first.host != second.host || first.length != second.length || second.length != int64(len(a.Body)) {
				t.Errorf("host %q and %q, length %d and %d; want the same, and the body's length %d", first.host, second.host, first.length, second.length, len(a.Body))
			}
			for _, ex := range []harness.Exchange{normal, abandoned} {
				if auth := ex.Request.Header.Get("Authorization"); auth != "Basic "+harness.Redacted {
					t.Errorf("the evidence shows Authorization %q, want %q", auth, "Basic "+harness.Redacted)
				}
				b, err := json.Marshal(ex)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), password) || strings.Contains(string(b), first.header.Get("Authorization")[len("Basic "):]) {
					t.Errorf("the evidence holds the credentials: %s", b)
				}
			}
		})
	}
}

// TestACrashedHandlerIsAReset: a handler that crashes leaves the request
// unanswered, as net/http's server does it: over HTTP/1.1 it closes the
// connection, over HTTP/2 it resets the stream. Both are a reset before
// any answer (harness.Exchange.Unavailable), which the availability check
// counts, and the evidence says which.
func TestACrashedHandlerIsAReset(t *testing.T) {
	t.Parallel()
	crash := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	for _, tc := range []struct {
		why     string
		version harness.HTTPVersion
		proto   protocols
		says    string
	}{
		{"over HTTP/1.1 the connection is closed", harness.HTTPAuto, protocols{http1: true}, "closed the connection"},
		{"over HTTP/2 the stream is reset", harness.HTTP2, protocols{http2: true}, "reset the HTTP/2 stream"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			t.Parallel()
			srv := startHTTP(t, crash, true, tc.proto, false)
			s := senderFor(t, srv, WithHTTPVersion(tc.version), WithTimeout(5*time.Second))
			ex := s.Send(context.Background(), s.Attempt(testEvent()))
			if ex.Failure != harness.FailureReset || !ex.Unavailable() || !strings.Contains(ex.Err, tc.says) || strings.Contains(ex.Err, "the sender speaks only") {
				t.Fatalf("failure %q, error %q; want a reset before any answer saying %q, and no word of the HTTP version", ex.Failure, ex.Err, tc.says)
			}
		})
	}
}

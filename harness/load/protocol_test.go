package load

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// TestAttackSpeaksTheHTTPVersion: the attack speaks what HTTP_VERSION
// says, as the conformance sender does. By default it offers HTTP/2 over
// TLS and takes it when the receiver does, and speaks HTTP/1.1 over
// http://; 1.1 pins HTTP/1.1 over TLS too; 2 speaks h2c over http://. The
// receiver sees the version, and the run names it.
func TestAttackSpeaksTheHTTPVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		secure  bool
		version harness.HTTPVersion
		want    string
	}{
		{"auto over TLS", true, harness.HTTPAuto, "HTTP/2.0"},
		{"1.1 over TLS", true, harness.HTTP1, "HTTP/1.1"},
		{"auto over http", false, harness.HTTPAuto, "HTTP/1.1"},
		{"2 over http", false, harness.HTTP2, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu   sync.Mutex
				seen []string
			)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				mu.Lock()
				if !slices.Contains(seen, r.Proto) {
					seen = append(seen, r.Proto)
				}
				mu.Unlock()
				w.WriteHeader(http.StatusAccepted)
			}))
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			var opts []Option
			if tc.secure {
				srv.EnableHTTP2 = true
				srv.StartTLS()
				opts = append(opts, WithTLSConfig(srv.Client().Transport.(*http.Transport).TLSClientConfig))
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			g := newTestGenerator(t, srv.URL+"/webhook", append(opts, WithHTTPVersion(tc.version))...)
			run, err := g.attackFor(context.Background(), 20, 500*time.Millisecond, nil)
			if err != nil {
				t.Fatal(err)
			}
			l := run.load()
			mu.Lock()
			defer mu.Unlock()
			if l.Requests == 0 || l.OK != l.Requests || !slices.Equal(l.Protocols, []string{tc.want}) || !slices.Equal(seen, []string{tc.want}) {
				t.Fatalf("%d of %d acknowledged; the run says %v, the receiver saw %v: want all in %s", l.OK, l.Requests, l.Protocols, seen, tc.want)
			}
		})
	}
}

func TestAnUnknownHTTPVersionIsRefused(t *testing.T) {
	_, err := NewGenerator("http://127.0.0.1:1/webhook", testSecret, WithHTTPVersion("3"))
	if !errors.Is(err, errInvalidOption) || !strings.Contains(err.Error(), "write 1.1 or 2") {
		t.Fatalf("HTTP version 3: %v; want errInvalidOption saying what to write", err)
	}
}

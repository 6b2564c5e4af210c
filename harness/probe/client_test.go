package probe

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

func TestNewRejects(t *testing.T) {
	tests := []struct {
		why     string
		url     string
		opts    []Option
		wantErr error
	}{
		{"another scheme", "ftp://example.com/_probe", nil, errInvalidURL},
		{"no host", "/_probe", nil, errInvalidURL},
		{"empty, the forgotten variable", "", nil, errInvalidURL},
		{"unparsable", "http://exa mple.com/", nil, errInvalidURL},
		{"zero timeout", "http://127.0.0.1/", []Option{WithTimeout(0)}, errInvalidOption},
		{"zero interval would spin", "http://127.0.0.1/", []Option{withInterval(0)}, errInvalidOption},
		{"negative settle", "http://127.0.0.1/", []Option{WithSettle(-time.Second)}, errInvalidOption},
		{"an HTTP version the client cannot speak", "http://127.0.0.1/", []Option{WithHTTPVersion("3")}, errInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			c, err := New(tt.url, tt.opts...)
			if !errors.Is(err, tt.wantErr) || c != nil {
				t.Fatalf("New = %v, %v; want error %v", c, err, tt.wantErr)
			}
		})
	}
	c := newClient(t, "http://127.0.0.1:9/_probe/")
	if c.Settle() != harness.DefaultTiming().Settle || c.Watch() != harness.DefaultTiming().Watch {
		t.Errorf("defaults settle %s watch %s, want %s and %s", c.Settle(), c.Watch(), harness.DefaultTiming().Settle, harness.DefaultTiming().Watch)
	}
}

func TestEvent(t *testing.T) {
	tests := []struct {
		why       string
		answer    func(w http.ResponseWriter, r *http.Request)
		want      EventState
		wantErr   string // substring of the error; "" means no error
		wantProbe bool
	}{
		{"processed twice: found with its count", nil, EventState{"evt_known", 2, true}, "", false},
		{"unknown event: 404 is not an error", fixed(404, "not found"), EventState{"evt_known", 0, false}, "", false},
		{"a 500 is a broken probe", fixed(500, "boom"), EventState{}, "answered 500", true},
		{"a 403 points at the token", fixed(403, "no"), EventState{}, "check the probe token", true},
		{"a redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, EventState{}, "redirect", true},
		{"garbage JSON", fixed(200, "<html>hello</html>"), EventState{}, "probe-event", true},
		{"2.0 is an integer to JSON Schema, so it must decode", fixed(200, `{"eventId":"evt_known","timesProcessed":2.0}`), EventState{"evt_known", 2, true}, "", false},
		{"a fractional count fails the schema", fixed(200, `{"eventId":"evt_known","timesProcessed":1.5}`), EventState{}, "probe-event schema", true},
		{"a count that is not an integer fails the schema", fixed(200, `{"eventId":"evt_known","timesProcessed":"two"}`), EventState{}, "probe-event schema", true},
		{"a negative count fails the schema", fixed(200, `{"eventId":"evt_known","timesProcessed":-1}`), EventState{}, "probe-event schema", true},
		{"a missing count fails the schema", fixed(200, `{"eventId":"evt_known"}`), EventState{}, "probe-event schema", true},
		{"an answer about another event", fixed(200, `{"eventId":"evt_other","timesProcessed":1}`), EventState{}, "evt_other", true},
		{"members are read by their exact names, as the schema reads them", fixed(200, `{"eventId":"evt_known","timesProcessed":1,"TimesProcessed":7}`), EventState{"evt_known", 1, true}, "", false},
		{"a count no receiver can hold is no count", fixed(200, `{"eventId":"evt_known","timesProcessed":1e300}`), EventState{}, "not a count of runs", true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			fp, srv := newFakeProbe(t)
			fp.set(func() { fp.events["evt_known"] = 2; fp.answer = tt.answer })
			c := newClient(t, srv.URL)
			st, ex, err := c.Event(context.Background(), "evt_known")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Event error = %v", err)
				}
				if st != tt.want {
					t.Errorf("Event = %+v, want %+v", st, tt.want)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Event error = %v, want one mentioning %q", err, tt.wantErr)
				}
				if tt.wantProbe != errors.Is(err, ErrProbe) {
					t.Errorf("errors.Is(err, ErrProbe) = %v, want %v", !tt.wantProbe, tt.wantProbe)
				}
			}
			if ex.Request.Method != "GET" || ex.Request.URL != srv.URL+"/events/evt_known" || ex.Response == nil {
				t.Errorf("evidence = %+v, want the GET and its answer", ex)
			}
		})
	}
}

func TestJob(t *testing.T) {
	tests := []struct {
		why     string
		answer  func(w http.ResponseWriter, r *http.Request)
		want    JobState
		wantErr bool
	}{
		{"a known job reports its state", nil, JobState{"job_known", "completed", true}, false},
		{"an unknown job is a 404", fixed(404, ""), JobState{"job_known", "", false}, false},
		{"a state outside the lifecycle fails the schema", fixed(200, `{"jobId":"job_known","status":"done"}`), JobState{}, true},
		{"an answer about another job", fixed(200, `{"jobId":"job_other","status":"queued"}`), JobState{}, true},
		{"a 502 is a broken probe", fixed(502, ""), JobState{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			fp, srv := newFakeProbe(t)
			fp.set(func() { fp.jobs["job_known"] = "completed"; fp.answer = tt.answer })
			c := newClient(t, srv.URL)
			st, _, err := c.job(context.Background(), "job_known")
			if tt.wantErr {
				if !errors.Is(err, ErrProbe) {
					t.Fatalf("Job error = %v, want ErrProbe", err)
				}
				return
			}
			if err != nil || st != tt.want {
				t.Errorf("Job = %+v, %v; want %+v", st, err, tt.want)
			}
		})
	}
}

func TestToken(t *testing.T) {
	raw := testToken.Reveal()
	fp, srv := newFakeProbe(t)
	fp.set(func() { fp.token = raw; fp.events["evt_a"] = 1 })

	good := newClient(t, srv.URL, WithToken(testToken))
	st, ex, err := good.Event(context.Background(), "evt_a")
	if err != nil || !st.Found {
		t.Fatalf("with the right token: %+v, %v", st, err)
	}
	if got := ex.Request.Header.Get("Authorization"); got != "Bearer "+harness.Redacted {
		t.Errorf("evidence Authorization = %q, want it redacted", got)
	}

	bad := newClient(t, srv.URL, WithToken("ptok_wrong"))
	_, badEx, err := bad.Event(context.Background(), "evt_a")
	if !errors.Is(err, ErrProbe) || !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "probe token") {
		t.Errorf("with a wrong token: error %v, want ErrUnauthorized, a 401 naming the probe token", err)
	}
	none := newClient(t, srv.URL)
	if _, _, err := none.Event(context.Background(), "evt_a"); !errors.Is(err, ErrProbe) {
		t.Errorf("without a token: error %v, want ErrProbe", err)
	}

	// A probe that echoes the token cannot make the evidence leak it.
	fp.set(func() {
		fp.answer = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Echo", r.Header.Get("Authorization"))
			w.WriteHeader(500)
			io.WriteString(w, "you sent "+r.Header.Get("Authorization"))
		}
	})
	_, echoEx, echoErr := good.Event(context.Background(), "evt_a")
	b, err := json.Marshal([]harness.Exchange{ex, badEx, echoEx})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), raw) || strings.Contains(echoErr.Error(), raw) || strings.Contains(good.String(), raw) {
		t.Errorf("the token leaks: %s / %v", b, echoErr)
	}
}

func TestCredentialsInProbeURLStayOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	c, err := New(strings.Replace(srv.URL, "http://", "http://alice:hunter2@", 1) + "/_probe")
	if err != nil {
		t.Fatal(err)
	}
	_, ex, err := c.Event(context.Background(), "evt_x")
	if err == nil {
		t.Fatal("a 403 gave no error")
	}
	for what, text := range map[string]string{"error": err.Error(), "evidence URL": ex.Request.URL, "String": c.String()} {
		if strings.Contains(text, "hunter2") {
			t.Errorf("the %s holds the password: %s", what, text)
		}
	}
}

func TestTimeoutBounded(t *testing.T) {
	t.Parallel()
	fp, srv := newFakeProbe(t)
	fp.set(func() {
		fp.answer = func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}
	})
	c := newClient(t, srv.URL, WithTimeout(200*time.Millisecond))
	start := time.Now()
	_, ex, err := c.Event(context.Background(), "evt_a")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Event took %s with a 200ms timeout", d)
	}
	if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), "within 200ms") || ex.Err == "" {
		t.Errorf("error %v, evidence %q: want a timeout naming 200ms", err, ex.Err)
	}
}

func TestCheck(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	tests := []struct {
		why       string
		answer    func(w http.ResponseWriter, r *http.Request)
		url       string
		wantErr   bool
		wantProbe bool
	}{
		{"a probe answering 404 for unknown events is usable", nil, "", false, false},
		{"a probe that finds everything cannot tell processed from not", fixed(200, `{"eventId":"`+checkEventID+`","timesProcessed":0}`), "", true, false},
		{"a probe behind a token it did not get", fixed(401, ""), "", true, true},
		{"a probe that crashes", fixed(500, ""), "", true, true},
		{"a probe URL where nothing listens", nil, refused, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			fp, srv := newFakeProbe(t)
			fp.set(func() { fp.answer = tt.answer })
			url := srv.URL
			if tt.url != "" {
				url = tt.url
			}
			err := newClient(t, url, WithTimeout(2*time.Second)).Check(context.Background())
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, errUnusable) || errors.Is(err, ErrProbe) != tt.wantProbe {
				t.Errorf("Check = %v; want ErrUnusable (and ErrProbe %v)", err, tt.wantProbe)
			}
		})
	}
}

// rejectAll is a validator that rejects every document, to show the
// client consults the one it is given.
type rejectAll struct{}

func (rejectAll) Validate(name string, doc []byte) error { return errors.New("rejected " + name) }

func TestWithValidator(t *testing.T) {
	fp, srv := newFakeProbe(t)
	fp.set(func() { fp.events["evt_a"] = 1 })
	_, _, err := newClient(t, srv.URL, withValidator(rejectAll{})).Event(context.Background(), "evt_a")
	if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), "rejected probe-event") {
		t.Errorf("error %v, want the validator's rejection of probe-event", err)
	}
}

func TestHTTPSAndHTTPClient(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	}))
	srv.Config.ErrorLog = quietLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	if err := newClient(t, srv.URL).Check(context.Background()); !errors.Is(err, errUnusable) {
		t.Errorf("untrusted certificate: Check = %v, want ErrUnusable", err)
	}
	if err := newClient(t, srv.URL, withInsecure()).Check(context.Background()); err != nil {
		t.Errorf("insecure: Check = %v", err)
	}
	base := newClient(t, srv.URL, WithTLSConfig(srv.Client().Transport.(*http.Transport).TLSClientConfig))
	if err := base.Check(context.Background()); err != nil {
		t.Errorf("trusted through WithTLSConfig: Check = %v", err)
	}
	var n atomic.Int32
	hc := srv.Client()
	inner := hc.Transport
	hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n.Add(1)
		return inner.RoundTrip(r)
	})
	if err := newClient(t, srv.URL, WithHTTPClient(hc)).Check(context.Background()); err != nil || n.Load() != 1 {
		t.Errorf("WithHTTPClient: Check = %v after %d calls through the given client, want nil after 1", err, n.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestHTTPVersion: the probe's client speaks HTTP/2 to a probe that
// speaks only that, as most probes are served by the receiver itself;
// told to speak HTTP/1.1 only, it fails at once and asks whether the
// probe speaks it.
func TestHTTPVersion(t *testing.T) {
	_, fake := newFakeProbe(t)
	srv := httptest.NewUnstartedServer(fake.Config.Handler)
	srv.EnableHTTP2 = true
	var h2 http.Protocols
	h2.SetHTTP2(true)
	srv.Config.Protocols = &h2
	srv.Config.ErrorLog = quietLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	trust := srv.Client().Transport.(*http.Transport).TLSClientConfig

	if err := newClient(t, srv.URL, WithTLSConfig(trust)).Check(context.Background()); err != nil {
		t.Errorf("an HTTP/2-only probe: Check = %v", err)
	}
	start := time.Now()
	err := newClient(t, srv.URL, WithTLSConfig(trust), WithHTTPVersion(harness.HTTP1)).Check(context.Background())
	if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), "does it speak HTTP/1.1") {
		t.Errorf("HTTP/1.1 only against an HTTP/2-only probe: Check = %v, want ErrProbe asking whether it speaks HTTP/1.1", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s; a closed connection is seen at once", d)
	}
}

// TestAProbeThatWentAwayIsUnavailable: a probe call that finds the port
// closed, or whose connection is closed unanswered, says so in its kind
// (harness.Exchange.Unavailable), as a delivery does: a receiver that
// restarts takes a probe it serves with it. One that hangs is there.
func TestAProbeThatWentAwayIsUnavailable(t *testing.T) {
	t.Parallel()
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		return "http://" + ln.Addr().String()
	}
	crashing := func() string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
		srv.Config.ErrorLog = quietLog()
		srv.Start()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tc := range []struct {
		why  string
		url  func() string
		want harness.FailureKind
	}{
		{"nothing listens: refused", closed, harness.FailureRefused},
		{"the handler crashes: closed unanswered", crashing, harness.FailureReset},
	} {
		t.Run(tc.why, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tc.url())
			_, ex, err := c.Event(context.Background(), "evt_a")
			if !errors.Is(err, ErrProbe) || ex.Failure != tc.want || !ex.Unavailable() {
				t.Fatalf("error %v, failure %q; want a probe error of kind %q", err, ex.Failure, tc.want)
			}
		})
	}
}

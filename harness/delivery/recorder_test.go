package delivery

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

const testSecret harness.Secret = "whsec_delivery_test_7f3a9c"

// t0 is the fixed time the tests sign at.
var t0 = time.Unix(1710083175, 0)

func fixedClock(t time.Time) harness.Clock { return func() time.Time { return t } }

// received is one request as a receiver saw it.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// recorder is a receiver that records what it gets and answers with reply.
type recorder struct {
	mu    sync.Mutex
	reqs  []received
	reply func(w http.ResponseWriter, r *http.Request, n int)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, received{r.Method, r.URL.Path, r.Header.Clone(), body})
	n := len(rc.reqs)
	rc.mu.Unlock()
	if rc.reply != nil {
		rc.reply(w, r, n)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"received":true}`)
}

func (rc *recorder) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// serve starts a loopback receiver answering with reply (nil: 200 JSON).
func serve(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, n int)) (*httptest.Server, *recorder) {
	t.Helper()
	rc := &recorder{reply: reply}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return srv, rc
}

// quietTLSServer starts a loopback https receiver whose log does not
// report the handshakes the tests fail on purpose.
func quietTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// newSender builds a sender for url and closes its idle connections at the
// end of the test.
func newSender(t *testing.T, url string, opts ...Option) *Sender {
	t.Helper()
	s, err := NewSender(url, testSecret, opts...)
	if err != nil {
		t.Fatalf("NewSender(%q): %v", url, err)
	}
	t.Cleanup(s.CloseIdleConnections)
	return s
}

func testEvent() harness.Event {
	return harness.Event{
		ID:    "evt_delivery_1",
		Type:  harness.JobCompleted,
		JobID: "job_1",
		Body:  []byte(`{"eventId":"evt_delivery_1","eventType":"job.completed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_1","jobType":"upscale","status":"completed"}}`),
	}
}

package probe

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

const testToken harness.Secret = "ptok_probe_test_91b2e"

// fakeProbe is a loopback probe with counters the tests move, and an answer
// override to play a broken probe.
type fakeProbe struct {
	mu     sync.Mutex
	token  string
	events map[string]int
	jobs   map[string]string
	// answer, if set, replaces the normal answer.
	answer func(w http.ResponseWriter, r *http.Request)
	calls  int
	timers []*time.Timer
}

func newFakeProbe(t *testing.T) (*fakeProbe, *httptest.Server) {
	t.Helper()
	fp := &fakeProbe{events: map[string]int{}, jobs: map[string]string{}}
	srv := httptest.NewServer(fp.guard(fp.mux()))
	t.Cleanup(func() {
		srv.Close()
		fp.mu.Lock()
		defer fp.mu.Unlock()
		for _, tm := range fp.timers {
			tm.Stop()
		}
	})
	return fp, srv
}

// memoryURL is the probe URL of newMemoryProbe's client: never dialled.
const memoryURL = "http://probe.test"

// newMemoryProbe is newFakeProbe without a socket, for a synctest bubble
// (a goroutine blocked on a socket would keep the bubble's clock still):
// the client it returns serves every request with the fake's handler, in
// memory.
func newMemoryProbe(t *testing.T) (*fakeProbe, *http.Client) {
	t.Helper()
	fp := &fakeProbe{events: map[string]int{}, jobs: map[string]string{}}
	h := fp.guard(fp.mux())
	return fp, &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}
}

func (fp *fakeProbe) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events/{id}", fp.event)
	mux.HandleFunc("GET /jobs/{id}", fp.job)
	return mux
}

func (fp *fakeProbe) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fp.mu.Lock()
		fp.calls++
		token, answer := fp.token, fp.answer
		fp.mu.Unlock()
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if answer != nil {
			answer(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (fp *fakeProbe) event(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	fp.mu.Lock()
	n, ok := fp.events[id]
	fp.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, `{"eventId":%q,"timesProcessed":%d}`, id, n)
}

func (fp *fakeProbe) job(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	fp.mu.Lock()
	st, ok := fp.jobs[id]
	fp.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, `{"jobId":%q,"status":%q}`, id, st)
}

// after runs fn under the lock once d has passed, as an asynchronous
// worker of the receiver would. Do not call it under the lock.
func (fp *fakeProbe) after(d time.Duration, fn func()) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fp.timers = append(fp.timers, time.AfterFunc(d, func() {
		fp.mu.Lock()
		defer fp.mu.Unlock()
		fn()
	}))
}

func (fp *fakeProbe) set(fn func()) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	fn()
}

// fixed answers every probe call with status and body.
func fixed(status int, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newClient(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	c, err := New(url, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", url, err)
	}
	return c
}

// quietLog is a server log that does not report the handshakes the tests
// fail on purpose.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

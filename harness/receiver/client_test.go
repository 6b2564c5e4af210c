package receiver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

// This file holds the tests' REALM sender: building events, signing and
// delivering them, and reading the probe.

const testSecret harness.Secret = "whsec_receiver_test_secret"

// Bounds of the probe polling: processing is asynchronous, so tests poll for
// an expected state and then watch a little for late extra processing.
const (
	settleTimeout = 2 * time.Second
	watchFor      = 200 * time.Millisecond
	pollEvery     = 10 * time.Millisecond
)

// target is a receiver served on a loopback httptest server.
type target struct {
	t      testing.TB
	rcv    *receiver
	srv    *httptest.Server
	url    string
	client *http.Client
	token  string
}

// newTarget serves a receiver configured by cfg (with testSecret unless cfg
// names secrets) and closes it when the test ends.
func newTarget(t testing.TB, cfg Config) *target {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []harness.Secret{testSecret}
	}
	rcv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return serve(t, rcv, cfg.ProbeToken.Reveal())
}

// serve serves rcv on a loopback httptest server until the test ends.
func serve(t testing.TB, rcv *receiver, token string) *target {
	t.Helper()
	return serveThrough(t, rcv, rcv, token)
}

// serveThrough is serve with h, a handler that passes requests on to rcv,
// in front of it.
func serveThrough(t testing.TB, rcv *receiver, h http.Handler, token string) *target {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		rcv.Close()
	})
	client := srv.Client()
	client.Timeout = 10 * time.Second
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &target{t: t, rcv: rcv, srv: srv, url: srv.URL, client: client, token: token}
}

var idSeq atomic.Int64

// newID returns an id with the given prefix, unique within the test binary.
func newID(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, time.Now().UnixNano(), idSeq.Add(1))
}

// eventBody builds a catalogue-shaped event. extra adds or overrides
// envelope fields, extraData fields of data.
func eventBody(t testing.TB, id, typ, jobID, status string, extra, extraData map[string]any) []byte {
	t.Helper()
	data := map[string]any{"object": "job", "jobId": jobID, "jobType": "image_generation", "status": status}
	if len(typ) > len("model.") && typ[:len("model.")] == "model." {
		data = map[string]any{"object": "model", "modelId": "model_test", "jobId": jobID, "status": status}
	}
	for k, v := range extraData {
		data[k] = v
	}
	env := map[string]any{
		"eventId":    id,
		"eventType":  typ,
		"apiVersion": "v1",
		"createdAt":  time.Now().UTC().Format(time.RFC3339),
		"data":       data,
	}
	for k, v := range extra {
		env[k] = v
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatalf("marshal event: %v", err)
	}
	return b
}

// sigHeader signs body with secret at time at.
func sigHeader(secret harness.Secret, at time.Time, body []byte) string {
	return signing.FormatHeader(at.Unix(), signing.Sign(secret, at.Unix(), body))
}

// response is what a test keeps of one answer.
type response struct {
	status  int
	header  http.Header
	body    string
	latency time.Duration
}

// send makes one request to path; header values are set as given (an empty
// string sets an empty header), a nil map sends none.
func (tg *target) send(method, path string, body []byte, header map[string]string) response {
	tg.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, tg.url+path, rd)
	if err != nil {
		tg.t.Fatalf("new request: %v", err)
	}
	req.Header.Set(harness.HeaderContentType, harness.ContentType)
	req.Header.Set(harness.HeaderUserAgent, harness.UserAgent)
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	start := time.Now()
	resp, err := tg.client.Do(req)
	if err != nil {
		tg.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	latency := time.Since(start)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		tg.t.Fatalf("%s %s: reading response: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b), latency: latency}
}

// deliver POSTs body to the webhook signed with testSecret now.
func (tg *target) deliver(body []byte) response {
	tg.t.Helper()
	return tg.send(http.MethodPost, WebhookPath, body, map[string]string{
		harness.HeaderSignature: sigHeader(testSecret, time.Now(), body),
	})
}

// mustAck delivers body and fails the test unless it is acknowledged 2xx.
func (tg *target) mustAck(body []byte) {
	tg.t.Helper()
	if r := tg.deliver(body); r.status < 200 || r.status > 299 {
		tg.t.Fatalf("delivery answered %d %q, want 2xx", r.status, r.body)
	}
}

// probe GETs a probe path and decodes a 200 body into v; it returns the
// status.
func (tg *target) probe(path string, v any) int {
	tg.t.Helper()
	h := map[string]string{}
	if tg.token != "" {
		h["Authorization"] = "Bearer " + tg.token
	}
	r := tg.send(http.MethodGet, ProbePath+path, nil, h)
	if r.status == http.StatusOK {
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			tg.t.Fatalf("probe %s: Content-Type %q, want application/json", path, ct)
		}
		if err := json.Unmarshal([]byte(r.body), v); err != nil {
			tg.t.Fatalf("probe %s: decoding %q: %v", path, r.body, err)
		}
	}
	return r.status
}

// times returns the probe's timesProcessed for id, 0 on 404.
func (tg *target) times(id string) int {
	tg.t.Helper()
	var pe struct {
		EventID        string `json:"eventId"`
		TimesProcessed int    `json:"timesProcessed"`
	}
	switch st := tg.probe("/events/"+id, &pe); st {
	case http.StatusOK:
		if pe.EventID != id {
			tg.t.Fatalf("probe for %s answered eventId %q", id, pe.EventID)
		}
		return pe.TimesProcessed
	case http.StatusNotFound:
		return 0
	default:
		tg.t.Fatalf("probe for %s answered %d", id, st)
		return 0
	}
}

// job returns the probe's status for jobID, "" on 404.
func (tg *target) job(jobID string) string {
	tg.t.Helper()
	var pj struct {
		JobID  string `json:"jobId"`
		Status string `json:"status"`
	}
	switch st := tg.probe("/jobs/"+jobID, &pj); st {
	case http.StatusOK:
		return pj.Status
	case http.StatusNotFound:
		return ""
	default:
		tg.t.Fatalf("probe for job %s answered %d", jobID, st)
		return ""
	}
}

// waitTimes polls until the probe says id was processed want times (want >
// 0), failing after settleTimeout.
func (tg *target) waitTimes(id string, want int) {
	tg.t.Helper()
	deadline := time.Now().Add(settleTimeout)
	got := tg.times(id)
	for got != want && time.Now().Before(deadline) {
		time.Sleep(pollEvery)
		got = tg.times(id)
	}
	if got != want {
		tg.t.Fatalf("event %s processed %d times, want %d", id, got, want)
	}
}

// waitProcessed polls until the probe says id was processed at all,
// failing after settleTimeout.
func (tg *target) waitProcessed(id string) {
	tg.t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for tg.times(id) == 0 {
		if time.Now().After(deadline) {
			tg.t.Fatalf("event %s never processed", id)
		}
		time.Sleep(pollEvery)
	}
}

// processedOnce checks that id gets processed, and then not again.
func (tg *target) processedOnce(id string) {
	tg.t.Helper()
	tg.waitTimes(id, 1)
	time.Sleep(watchFor)
	if got := tg.times(id); got != 1 {
		tg.t.Fatalf("event %s processed %d times after settling, want 1", id, got)
	}
}

// neverProcessed checks that id is still unprocessed after a watch period.
func (tg *target) neverProcessed(id string) {
	tg.t.Helper()
	time.Sleep(watchFor)
	if got := tg.times(id); got != 0 {
		tg.t.Fatalf("event %s processed %d times, want never", id, got)
	}
}

// waitJob polls until the probe says jobID is in state want.
func (tg *target) waitJob(jobID, want string) {
	tg.t.Helper()
	deadline := time.Now().Add(settleTimeout)
	got := tg.job(jobID)
	for got != want && time.Now().Before(deadline) {
		time.Sleep(pollEvery)
		got = tg.job(jobID)
	}
	if got != want {
		tg.t.Fatalf("job %s is %q, want %q", jobID, got, want)
	}
}

// concurrently delivers body n times at once, each request released by the
// same barrier, and returns the statuses.
func (tg *target) concurrently(body []byte, n int) []int {
	tg.t.Helper()
	header := sigHeader(testSecret, time.Now(), body)
	reqs := make([]*http.Request, n)
	for i := range reqs {
		req, err := http.NewRequest(http.MethodPost, tg.url+WebhookPath, bytes.NewReader(body))
		if err != nil {
			tg.t.Fatalf("new request: %v", err)
		}
		req.Header.Set(harness.HeaderSignature, header)
		req.Header.Set(harness.HeaderContentType, harness.ContentType)
		reqs[i] = req
	}
	statuses := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := tg.client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tg.t.Fatalf("concurrent delivery: %v", err)
		}
	}
	return statuses
}

// answered is one answer of deliverAll: its status, and when it came.
type answered struct {
	status int
	at     time.Time
}

// deliverAll delivers each body, signed with testSecret now, from senders
// goroutines at once, and returns the answers in the order of bodies.
func (tg *target) deliverAll(bodies [][]byte, senders int) []answered {
	tg.t.Helper()
	out := make([]answered, len(bodies))
	errs := make([]error, len(bodies))
	work := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := range work {
				req, err := http.NewRequest(http.MethodPost, tg.url+WebhookPath, bytes.NewReader(bodies[i]))
				if err != nil {
					errs[i] = err
					continue
				}
				req.Header.Set(harness.HeaderContentType, harness.ContentType)
				req.Header.Set(harness.HeaderSignature, sigHeader(testSecret, time.Now(), bodies[i]))
				resp, err := tg.client.Do(req)
				if err != nil {
					errs[i] = err
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				out[i] = answered{status: resp.StatusCode, at: time.Now()}
			}
		})
	}
	for i := range bodies {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tg.t.Fatalf("delivery %d: %v", i, err)
		}
	}
	return out
}

// typeStatus is the data.status REALM sends with an event of type typ.
func typeStatus(typ string) string {
	switch typ {
	case harness.ModelTrainingStarted:
		return statusProcessing
	case harness.ModelTrainingCompleted:
		return statusCompleted
	case harness.ModelTrainingFailed:
		return statusFailed
	}
	return typ[len("job."):]
}

// newEvents returns n new events of every type in turn, each for a job of
// its own: their ids and bodies.
func newEvents(t testing.TB, n int) ([]string, [][]byte) {
	t.Helper()
	types := harness.EventTypes()
	ids := make([]string, n)
	bodies := make([][]byte, n)
	for i := range ids {
		typ := types[i%len(types)]
		ids[i] = newID("evt")
		bodies[i] = eventBody(t, ids[i], typ, newID("job"), typeStatus(typ), nil, nil)
	}
	return ids, bodies
}

// paced delivers bodies as IDEM-06's volume does: the i-th sent i/rate
// seconds after the first (or as soon as a slot is free), at most inFlight
// unanswered at once. It fails the test unless every delivery is
// acknowledged 2xx, and returns how long sending took.
func (tg *target) paced(bodies [][]byte, rate, inFlight int) time.Duration {
	tg.t.Helper()
	tr := tg.client.Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = inFlight
	client := &http.Client{Transport: tr, Timeout: tg.client.Timeout}
	defer tr.CloseIdleConnections()
	slots := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	start := time.Now()
	for i, body := range bodies {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		slots <- struct{}{}
		header := sigHeader(testSecret, time.Now(), body)
		wg.Go(func() {
			defer func() { <-slots }()
			req, err := http.NewRequest(http.MethodPost, tg.url+WebhookPath, bytes.NewReader(body))
			if err == nil {
				req.Header.Set(harness.HeaderContentType, harness.ContentType)
				req.Header.Set(harness.HeaderSignature, header)
				var resp *http.Response
				if resp, err = client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode < 200 || resp.StatusCode > 299 {
						err = fmt.Errorf("answered %s", resp.Status)
					}
				}
			}
			if err != nil {
				mu.Lock()
				failures = append(failures, err.Error())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if len(failures) > 0 {
		tg.t.Fatalf("%d of %d paced deliveries not acknowledged 2xx, first: %s", len(failures), len(bodies), failures[0])
	}
	return took
}

// waitEach polls until every event of ids was processed at least once,
// failing after within.
func (tg *target) waitEach(ids []string, within time.Duration) {
	tg.t.Helper()
	deadline := time.Now().Add(within)
	for _, id := range ids {
		for tg.rcv.TimesProcessed(id) == 0 {
			if time.Now().After(deadline) {
				tg.t.Fatalf("event %s not processed within %s", id, within)
			}
			time.Sleep(pollEvery)
		}
	}
}

// drained waits until the receiver's queue is empty and its workers have
// had the time to finish what they took from it.
func (tg *target) drained() {
	tg.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(tg.rcv.pool.queue) > 0 {
		if time.Now().After(deadline) {
			tg.t.Fatalf("%d events still queued after 30 s", len(tg.rcv.pool.queue))
		}
		time.Sleep(pollEvery)
	}
	time.Sleep(2*dropWorkCost + watchFor)
}

// countingBody counts the bytes a handler reads from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// splitTarget is a target whose webhook deliveries can arrive in segments
// that the receiver reads one at a time, as a network delivers them.
type splitTarget struct {
	*target
	read atomic.Int64 // bytes of the current delivery's body read so far
}

// newSplitTarget serves a receiver configured by cfg (with testSecret)
// behind a handler that counts what it reads of each body.
func newSplitTarget(t testing.TB, cfg Config) *splitTarget {
	t.Helper()
	cfg.Secrets = []harness.Secret{testSecret}
	rcv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	st := &splitTarget{}
	st.target = serveThrough(t, rcv, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == WebhookPath {
			req.Body = countingBody{req.Body, &st.read}
		}
		rcv.ServeHTTP(w, req)
	}), "")
	return st
}

// deliverSplit delivers body, signed now, on a connection of its own, cut
// where cuts say: each segment is written only once the receiver has read
// everything before it, so that no Read of the body spans a cut. It
// returns the status of the answer.
func (st *splitTarget) deliverSplit(body []byte, cuts ...int) int {
	st.t.Helper()
	addr := st.srv.Listener.Addr().String()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		st.t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	st.read.Store(0)
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s: %s\r\nConnection: close\r\n\r\n",
		WebhookPath, addr, harness.ContentType, len(body), harness.HeaderSignature, sigHeader(testSecret, time.Now(), body))
	out := []byte(head)
	from := 0
	for _, cut := range append(cuts, len(body)) {
		if _, err := conn.Write(append(out, body[from:cut]...)); err != nil {
			st.t.Fatalf("writing the body up to %d: %v", cut, err)
		}
		out, from = nil, cut
		if cut == len(body) {
			break
		}
		deadline := time.Now().Add(10 * time.Second)
		for st.read.Load() < int64(cut) {
			if time.Now().After(deadline) {
				st.t.Fatalf("the receiver read %d bytes of the body, not the %d sent", st.read.Load(), cut)
			}
			time.Sleep(time.Millisecond)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		st.t.Fatalf("reading the answer: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

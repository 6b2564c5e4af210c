package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

// The tests in this file show, one fault each, the planted bug directly
// against the request that the correct receiver handles right (see
// receiver_test.go for the correct side).

func TestFaultCatalogue(t *testing.T) {
	t.Parallel()
	all := Faults()
	if len(all) != 50 {
		t.Fatalf("Faults() has %d entries, want the 20 planned faults, ignore-unseen-job, drop-model-events, verify-reparsed, mark-before-verify, "+
			"the sixteen of catalogue v2, flaky, the eight of catalogue v3 and crash-on-malformed", len(all))
	}
	if all[0] != faultSkipVerify || all[len(all)-1] != faultExpiredCert {
		t.Errorf("Faults() is not in the planted-fault table's order: %v", all)
	}
	seen := map[Fault]bool{}
	for _, f := range all {
		if seen[f] {
			t.Errorf("fault %q listed twice", f)
		}
		seen[f] = true
		if f.Description() == "" {
			t.Errorf("fault %q has no description for --help", f)
		}
		got, err := ParseFault(" " + string(f) + " ")
		if err != nil || got != f {
			t.Errorf("ParseFault(%q) = %q, %v", f, got, err)
		}
	}
	_, err := ParseFault("skip-verfy")
	if !errors.Is(err, errUnknownFault) {
		t.Fatalf("ParseFault of a typo: %v, want ErrUnknownFault", err)
	}
	for _, f := range all {
		if !strings.Contains(err.Error(), string(f)) {
			t.Errorf("the error for a typo does not list the valid fault %q: %v", f, err)
		}
	}
	if Fault("nope").Description() != "" {
		t.Error("an unknown fault has a description")
	}
}

func TestFaultSkipVerify(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultSkipVerify}})
	id := newID("evt")
	r := tg.send(http.MethodPost, WebhookPath, eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil), nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("an unsigned delivery answered %d, want the bug: 202", r.status)
	}
	tg.processedOnce(id)
}

func TestFaultNoTolerance(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultNoTolerance}})
	id := newID("evt")
	body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
	r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader(testSecret, time.Now().Add(-10*time.Minute), body)})
	if r.status != http.StatusAccepted {
		t.Fatalf("a 10 min old signature answered %d, want the bug: 202", r.status)
	}
	tg.processedOnce(id)
	// Only the age check is gone: a wrong HMAC is still refused.
	r = tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader("whsec_wrong", time.Now(), body)})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("a wrong secret answered %d, want 401", r.status)
	}
}

func TestFaultFirstSignatureOnly(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultFirstSignatureOnly}})
	id := newID("evt")
	body := eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil)
	ts := time.Now().Unix()
	header := signing.FormatHeader(ts, signing.Sign("whsec_old", ts, body), signing.Sign(testSecret, ts, body))
	if r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: header}); r.status != http.StatusUnauthorized {
		t.Fatalf("a rotation header with only the last v1 valid answered %d, want the bug: 401", r.status)
	}
	tg.neverProcessed(id)
}

func TestFault5xxOnBadSignature(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{fault5xxOnBadSignature}})
	id := newID("evt")
	body := eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil)
	if r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader("whsec_wrong", time.Now(), body)}); r.status != http.StatusInternalServerError {
		t.Fatalf("a wrong secret answered %d, want the bug: 500", r.status)
	}
	tg.neverProcessed(id)
}

func TestFaultLeakSignature(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultLeakSignature}})
	body := eventBody(t, newID("evt"), harness.JobQueued, newID("job"), statusQueued, nil, nil)
	now := time.Now()
	r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader("whsec_wrong", now, body)})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("a wrong secret answered %d, want 401", r.status)
	}
	if want := signing.Sign(testSecret, now.Unix(), body); !strings.Contains(r.body, want) {
		t.Fatalf("the 401 body %q does not leak the expected signature %s", r.body, want)
	}
}

func TestFaultVerifyReparsed(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultVerifyReparsed}})
	// The compact body the factory writes reads back to the same bytes ...
	id := newID("evt")
	tg.mustAck(eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil))
	tg.processedOnce(id)
	// ... the same event indented does not, so its valid signature fails.
	pretty := newID("evt")
	var indented bytes.Buffer
	if err := json.Indent(&indented, eventBody(t, pretty, harness.JobCompleted, newID("job"), statusCompleted, nil, nil), "", "  "); err != nil {
		t.Fatal(err)
	}
	if r := tg.deliver(indented.Bytes()); r.status != http.StatusUnauthorized {
		t.Fatalf("a correctly signed indented body answered %d, want the bug: 401", r.status)
	}
	tg.neverProcessed(pretty)
}

func TestFaultMarkBeforeVerify(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultMarkBeforeVerify}})
	id := newID("evt")
	body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
	r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader("whsec_forger", time.Now(), body)})
	if r.status != http.StatusUnauthorized {
		t.Fatalf("a forged delivery answered %d, want 401", r.status)
	}
	// The forged copy took the id: the genuine delivery is a "duplicate".
	tg.mustAck(body)
	tg.neverProcessed(id)
}

func TestFaultDoubleProcess(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultDoubleProcess}})
	id := newID("evt")
	body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
	tg.mustAck(body)
	tg.mustAck(body)
	tg.waitTimes(id, 2)
}

func TestFault500OnDuplicate(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{fault500OnDuplicate}})
	id := newID("evt")
	body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
	tg.mustAck(body)
	if r := tg.deliver(body); r.status != http.StatusInternalServerError {
		t.Fatalf("the redelivery answered %d, want the bug: 500", r.status)
	}
	tg.processedOnce(id)
}

// TestFaultRacyDedupe allows a few rounds: the window is wide, but a noisy
// machine could serialise five requests past it once.
func TestFaultRacyDedupe(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultRacyDedupe}})
	for round := 0; round < 3; round++ {
		id := newID("evt")
		tg.concurrently(eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil), 5)
		tg.waitProcessed(id)
		time.Sleep(watchFor)
		if n := tg.times(id); n > 1 {
			return
		}
	}
	t.Fatal("5 concurrent copies were processed once in each of 3 rounds, want the bug: more than once")
}

func TestFaultDedupeByJob(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultDedupeByJob}})
	job := newID("job")
	a, b := newID("evt"), newID("evt")
	tg.mustAck(eventBody(t, a, harness.JobProcessing, job, statusProcessing, nil, nil))
	tg.mustAck(eventBody(t, b, harness.JobProcessing, job, statusProcessing, nil, nil))
	tg.processedOnce(a)
	tg.neverProcessed(b)
}

func TestFaultSlowAck(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultSlowAck}})
	id := newID("evt")
	r := tg.deliver(eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil))
	if r.status < 200 || r.status > 299 || r.latency < delaysFor(harness.DefaultTiming()).SlowAck {
		t.Fatalf("answered %d after %s, want the bug: 2xx after at least %s", r.status, r.latency, delaysFor(harness.DefaultTiming()).SlowAck)
	}
	// Processed before the acknowledgement, not after it.
	if n := tg.times(id); n != 1 {
		t.Fatalf("right after the ack the event was processed %d times, want 1", n)
	}
}

// TestFaultSlowAckSlots: six deliveries at once on two slots take three
// rounds of SlowAck. However busy the machine, the k-th answer comes no
// sooner than k/2+1 rounds after the first delivery was sent; every
// delivery is acknowledged, its event processed before the answer.
func TestFaultSlowAckSlots(t *testing.T) {
	t.Parallel()
	const slots, deliveries = 2, 6
	const slowAck = 100 * time.Millisecond
	for _, c := range []struct {
		cfg  Config
		want int
	}{
		{Config{Secrets: []harness.Secret{testSecret}, Faults: []Fault{faultSlowAck}}, slowAckSlots},
		{Config{Secrets: []harness.Secret{testSecret}}, 0},
	} {
		rcv, err := New(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		rcv.Close()
		if got := cap(rcv.ackSlots); got != c.want {
			t.Errorf("faults %v: %d slots, want %d", c.cfg.Faults, got, c.want)
		}
	}

	tg := newTarget(t, Config{Faults: []Fault{faultSlowAck}, AckSlots: slots, Delays: Delays{SlowAck: slowAck}})
	ids := make([]string, deliveries)
	bodies := make([][]byte, deliveries)
	for i := range ids {
		ids[i] = newID("evt")
		bodies[i] = eventBody(t, ids[i], harness.JobQueued, newID("job"), statusQueued, nil, nil)
	}
	start := time.Now()
	var after []time.Duration
	for i, a := range tg.deliverAll(bodies, deliveries) {
		if a.status != http.StatusOK {
			t.Fatalf("delivery %d answered %d, want 200 after processing", i, a.status)
		}
		if n := tg.times(ids[i]); n != 1 {
			t.Fatalf("right after its ack event %s was processed %d times, want 1", ids[i], n)
		}
		after = append(after, a.at.Sub(start))
	}
	slices.Sort(after)
	for k, d := range after {
		if least := time.Duration(k/slots+1) * slowAck; d < least {
			t.Errorf("answer %d of %d came %s after the first delivery was sent, sooner than %s: more than %d deliveries were processed at once (answers at %v)",
				k+1, deliveries, d, least, slots, after)
		}
	}
}

// TestFaultSlowAckWaitGivesUp: a delivery waiting for faultSlowAck's one
// slot leaves when its client goes, and when the receiver closes, without
// taking the slot or processing its event; its claim is forgotten, so that
// the retry is processed.
func TestFaultSlowAckWaitGivesUp(t *testing.T) {
	t.Parallel()
	logged := &logBuffer{}
	rcv, err := New(Config{
		Secrets: []harness.Secret{testSecret}, Faults: []Fault{faultSlowAck}, AckSlots: 1,
		// The holder's SlowAck is the time the waiting delivery has to
		// see its client gone; the receiver's close cuts it short.
		Delays: Delays{SlowAck: 2 * time.Second},
		Logger: slog.New(slog.NewJSONHandler(logged, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 1)
	tg := serveThrough(t, rcv, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == WebhookPath {
			entered <- struct{}{}
		}
		rcv.ServeHTTP(w, req)
	}), "")
	// post delivers body with ctx and returns, once the receiver has the
	// request, where its status will come (0 for no answer).
	post := func(ctx context.Context, body []byte) <-chan int {
		t.Helper()
		status := make(chan int, 1)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.url+WebhookPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(harness.HeaderSignature, sigHeader(testSecret, time.Now(), body))
		go func() {
			resp, err := tg.client.Do(req)
			if err != nil {
				status <- 0
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		}()
		<-entered
		return status
	}
	event := func() (string, []byte) {
		id := newID("evt")
		return id, eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil)
	}
	// holdSlot sends a delivery and returns once it holds the slot.
	holdSlot := func() (string, <-chan int) {
		t.Helper()
		id, body := event()
		done := post(context.Background(), body)
		deadline := time.Now().Add(settleTimeout)
		for len(rcv.ackSlots) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the first delivery never took the slot")
			}
			time.Sleep(pollEvery)
		}
		return id, done
	}

	// The client goes while its delivery waits.
	holder, held := holdSlot()
	gone, goneBody := event()
	ctx, cancel := context.WithCancel(context.Background())
	goneDone := post(ctx, goneBody)
	cancel()
	if st := <-goneDone; st != 0 {
		t.Fatalf("the canceled delivery was answered %d", st)
	}
	if st := logged.waitStatus(t, gone); st != http.StatusServiceUnavailable {
		t.Fatalf("the delivery whose client went was answered %d, want 503 without a slot", st)
	}
	if st := <-held; st != http.StatusOK {
		t.Fatalf("the delivery holding the slot answered %d, want 200", st)
	}
	tg.processedOnce(holder)
	if n := tg.times(gone); n != 0 {
		t.Fatalf("the event whose client went was processed %d times, want never", n)
	}
	// The slot is free and the claim forgotten: the retry is processed.
	if r := tg.deliver(goneBody); r.status != http.StatusOK {
		t.Fatalf("the retry of %s answered %d %q, want 200", gone, r.status, r.body)
	}
	tg.processedOnce(gone)

	// The receiver closes while a delivery waits.
	holder, held = holdSlot()
	waiting, waitingBody := event()
	waited := post(context.Background(), waitingBody)
	rcv.Close()
	if st := <-waited; st != http.StatusServiceUnavailable {
		t.Fatalf("the delivery waiting as the receiver closed answered %d, want 503", st)
	}
	if st := <-held; st != http.StatusOK {
		t.Fatalf("the delivery holding the slot as the receiver closed answered %d, want 200", st)
	}
	tg.processedOnce(holder)
	tg.neverProcessed(waiting)
}

// logBuffer collects a Receiver's JSON log while its handlers write it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// waitStatus polls the log until it holds the answer to a delivery of
// eventID, and returns its status.
func (l *logBuffer) waitStatus(t *testing.T, eventID string) int {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		l.mu.Lock()
		lines := strings.Split(l.buf.String(), "\n")
		l.mu.Unlock()
		for _, line := range lines {
			var rec struct {
				EventID string `json:"eventId"`
				Status  int    `json:"status"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.EventID == eventID {
				return rec.Status
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer to a delivery of %s was logged", eventID)
		}
		time.Sleep(pollEvery)
	}
}

func TestFaultLastWriteWins(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultLastWriteWins}})
	job := newID("job")
	done, late := newID("evt"), newID("evt")
	tg.mustAck(eventBody(t, done, harness.JobCompleted, job, statusCompleted, nil, nil))
	tg.waitTimes(done, 1)
	tg.mustAck(eventBody(t, late, harness.JobProcessing, job, statusProcessing, nil, nil))
	tg.waitTimes(late, 1)
	if got := tg.job(job); got != statusProcessing {
		t.Fatalf("job is %q after a late job.processing, want the bug: processing", got)
	}
}

func TestFaultIgnoreUnseenJob(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultIgnoreUnseenJob}})
	unseen, seen := newID("job"), newID("job")
	early := newID("evt")
	tg.mustAck(eventBody(t, early, harness.JobCanceled, unseen, statusCanceled, nil, nil))
	tg.waitTimes(early, 1)
	if got := tg.job(unseen); got != "" {
		t.Fatalf("a terminal event for an unseen job set it to %q, want the bug: ignored", got)
	}
	// A job that starts queued still moves forward as usual.
	for _, st := range []struct{ typ, status string }{{harness.JobQueued, statusQueued}, {harness.JobCompleted, statusCompleted}} {
		id := newID("evt")
		tg.mustAck(eventBody(t, id, st.typ, seen, st.status, nil, nil))
		tg.waitTimes(id, 1)
	}
	if got := tg.job(seen); got != statusCompleted {
		t.Fatalf("a job seen queued then completed is %q, want completed", got)
	}
}

func TestFaultRejectUnknownType(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultRejectUnknownType}})
	id := newID("evt")
	if r := tg.deliver(eventBody(t, id, "job.archived", newID("job"), "archived", nil, nil)); r.status != http.StatusBadRequest {
		t.Fatalf("an unknown type answered %d, want the bug: 400", r.status)
	}
	tg.mustAck(eventBody(t, newID("evt"), harness.JobQueued, newID("job"), statusQueued, nil, nil))
}

func TestFaultStrictFields(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultStrictFields}})
	tests := []struct {
		why             string
		extra, extraDat map[string]any
	}{
		{"an extra envelope field", map[string]any{"futureField": 1}, nil},
		{"an extra data field", nil, map[string]any{"futureField": 1}},
	}
	for _, tt := range tests {
		if r := tg.deliver(eventBody(t, newID("evt"), harness.JobQueued, newID("job"), statusQueued, tt.extra, tt.extraDat)); r.status != http.StatusBadRequest {
			t.Errorf("%s: answered %d, want the bug: 400", tt.why, r.status)
		}
	}
	// Every field of the catalogue is still accepted.
	tg.mustAck(eventBody(t, newID("evt"), harness.JobCompleted, newID("job"), statusCompleted, nil,
		map[string]any{"results": []any{map[string]any{"imageId": "img_1", "url": "https://x/1.png", "seed": 1}}, "completedAt": "2024-03-10T15:06:10Z"}))
	tg.mustAck(eventBody(t, newID("evt"), harness.ModelTrainingFailed, newID("job"), statusFailed, nil,
		map[string]any{"errorCode": "bad_images", "errorMessage": "too few"}))
}

func TestFault500OnMalformed(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{fault500OnMalformed}})
	for _, body := range []string{`{"eventId":`, `{"eventType":"job.queued","data":{}}`, ``} {
		if r := tg.deliver([]byte(body)); r.status != http.StatusInternalServerError {
			t.Errorf("body %q answered %d, want the bug: 500", body, r.status)
		}
	}
}

func TestFaultCrashOnMalformed(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultCrashOnMalformed}})
	for _, body := range []string{`{"eventId":`, `{"eventType":"job.queued","data":{}}`, ``} {
		req, err := http.NewRequest(http.MethodPost, tg.url+WebhookPath, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(harness.HeaderSignature, sigHeader(testSecret, time.Now(), []byte(body)))
		if resp, err := tg.client.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("body %q answered %d, want the bug: no answer at all", body, resp.StatusCode)
		}
	}
	// A valid event is still acknowledged and processed.
	id := newID("evt")
	tg.mustAck(eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil))
	tg.processedOnce(id)
}

func TestFaultAcceptAnyMethod(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultAcceptAnyMethod}})
	id := newID("evt")
	body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
	if r := tg.send(http.MethodGet, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader(testSecret, time.Now(), body)}); r.status != http.StatusAccepted {
		t.Fatalf("a signed GET answered %d, want the bug: 202", r.status)
	}
	tg.processedOnce(id)
}

func TestFaultNoSizeLimit(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultNoSizeLimit}})
	if r := tg.deliver(bytes.Repeat([]byte("x"), 5<<20)); r.status != http.StatusInternalServerError {
		t.Fatalf("a 5 MiB body answered %d, want the bug: 500", r.status)
	}
}

func TestFaultRedirect(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultRedirect}})
	id := newID("evt")
	r := tg.deliver(eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil))
	if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != redirectPath {
		t.Fatalf("answered %d to %q, want the bug: 307 to %s", r.status, r.header.Get("Location"), redirectPath)
	}
	if r := tg.send(http.MethodPost, redirectPath, nil, nil); r.status != http.StatusNotFound {
		t.Errorf("%s answered %d, want 404: it is not served", redirectPath, r.status)
	}
	tg.neverProcessed(id)
}

// TestFaultDropUnderLoad sends the same burst to a correct receiver and to
// the faulty one: both acknowledge everything, only the correct one
// processes everything.
func TestFaultDropUnderLoad(t *testing.T) {
	t.Parallel()
	const events, senders = 1000, 20
	burst := func(tg *target) (ids []string) {
		t.Helper()
		reqs := make([]*http.Request, events)
		for i := range reqs {
			ids = append(ids, newID("evt"))
			body := eventBody(t, ids[i], harness.JobQueued, newID("job"), statusQueued, nil, nil)
			req, err := http.NewRequest(http.MethodPost, tg.url+WebhookPath, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(harness.HeaderSignature, sigHeader(testSecret, time.Now(), body))
			reqs[i] = req
		}
		work := make(chan *http.Request)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []string
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for req := range work {
					resp, err := tg.client.Do(req)
					mu.Lock()
					switch {
					case err != nil:
						failures = append(failures, err.Error())
					case resp.StatusCode < 200 || resp.StatusCode > 299:
						failures = append(failures, resp.Status)
					}
					mu.Unlock()
					if err == nil {
						resp.Body.Close()
					}
				}
			}()
		}
		for _, req := range reqs {
			work <- req
		}
		close(work)
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%d of %d deliveries not acknowledged 2xx, first: %s", len(failures), events, failures[0])
		}
		return ids
	}
	processed := func(tg *target, ids []string) int {
		n := 0
		for _, id := range ids {
			if tg.rcv.TimesProcessed(id) == 1 {
				n++
			}
		}
		return n
	}

	correct := newTarget(t, Config{})
	ids := burst(correct)
	deadline := time.Now().Add(5 * time.Second)
	for processed(correct, ids) < events && time.Now().Before(deadline) {
		time.Sleep(pollEvery)
	}
	if n := processed(correct, ids); n != events {
		t.Fatalf("the correct receiver processed %d of %d acknowledged events", n, events)
	}

	// A queue smaller than dropQueueSize fills the same way and drains
	// sooner.
	const queue = 40
	faulty := newTarget(t, Config{Faults: []Fault{faultDropUnderLoad}, QueueSize: queue})
	ids = burst(faulty)
	// Let the queue drain: at most queue+workers events are left, served
	// defaultWorkers at a time.
	time.Sleep(time.Duration(queue/defaultWorkers+1)*dropWorkCost + time.Second)
	if n := processed(faulty, ids); n >= events {
		t.Fatalf("all %d acknowledged events were processed, want the bug: some dropped", n)
	} else {
		t.Logf("drop-under-load processed %d of %d acknowledged events", n, events)
	}
}

func TestFaultDropModelEvents(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultDropModelEvents}})
	model, job := newID("evt"), newID("evt")
	tg.mustAck(eventBody(t, model, harness.ModelTrainingCompleted, newID("job"), statusCompleted, nil, nil))
	tg.mustAck(eventBody(t, job, harness.JobQueued, newID("job"), statusQueued, nil, nil))
	deadline := time.Now().Add(5 * time.Second)
	for tg.times(job) == 0 && time.Now().Before(deadline) {
		time.Sleep(pollEvery)
	}
	if n := tg.times(job); n != 1 {
		t.Fatalf("a job event was processed %d times, want 1: only model events are dropped", n)
	}
	// The job event, queued after it, has been worked off: the model
	// event would have been too.
	if n := tg.times(model); n != 0 {
		t.Fatalf("an acknowledged model event was processed %d times, want the bug: never", n)
	}
}

// TestFaultFlaky sends 100 distinct events, eight at a time: exactly a
// flakyShare of them are refused 503 and never processed, and the retry
// of each is acknowledged and processed once. A first delivery is told by
// its eventId: none of these deliveries says which attempt it is, and ten
// more new events that all say they are a third attempt are counted as
// first deliveries all the same.
func TestFaultFlaky(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{Faults: []Fault{faultFlaky}})
	const events = 100
	ids := make([]string, events)
	bodies := make([][]byte, events)
	for i := range ids {
		ids[i] = newID("evt")
		bodies[i] = eventBody(t, ids[i], harness.JobQueued, newID("job"), statusQueued, nil, nil)
	}
	var refused, acked []int
	for i, a := range tg.deliverAll(bodies, 8) {
		switch a.status {
		case http.StatusServiceUnavailable:
			refused = append(refused, i)
		case http.StatusAccepted:
			acked = append(acked, i)
		default:
			t.Fatalf("delivery %d answered %d, want 202 or the bug's 503", i, a.status)
		}
	}
	if want := int(events * flakyShare); len(refused) != want {
		t.Fatalf("%d of %d first deliveries refused, want exactly %d", len(refused), events, want)
	}
	for _, i := range acked {
		tg.waitTimes(ids[i], 1)
	}
	tg.neverProcessed(ids[refused[0]])
	for _, i := range refused {
		if n := tg.times(ids[i]); n != 0 {
			t.Fatalf("refused event %s was processed %d times, want never", ids[i], n)
		}
	}

	// The retries: each acknowledged and processed once; a second retry
	// is a duplicate.
	for _, i := range refused {
		if r := tg.deliver(bodies[i]); r.status != http.StatusAccepted {
			t.Fatalf("the retry of refused %s answered %d %q, want 202", ids[i], r.status, r.body)
		}
		if r := tg.deliver(bodies[i]); r.status != http.StatusOK {
			t.Fatalf("a second retry of %s answered %d %q, want 200 as a duplicate", ids[i], r.status, r.body)
		}
	}
	for _, i := range refused {
		tg.waitTimes(ids[i], 1)
	}
	time.Sleep(watchFor)
	for _, i := range append(refused, acked...) {
		if n := tg.times(ids[i]); n != 1 {
			t.Fatalf("event %s processed %d times after the retries, want 1", ids[i], n)
		}
	}

	// Neither the retries nor the duplicates were first deliveries: of the
	// next flakyEvery new events the last is refused, whatever
	// X-Webhook-Attempt says.
	for i := 1; i <= flakyEvery; i++ {
		body := eventBody(t, newID("evt"), harness.JobQueued, newID("job"), statusQueued, nil, nil)
		r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{
			harness.HeaderSignature: sigHeader(testSecret, time.Now(), body),
			harness.HeaderAttempt:   "3",
		})
		want := http.StatusAccepted
		if i == flakyEvery {
			want = http.StatusServiceUnavailable
		}
		if r.status != want {
			t.Fatalf("new event %d after the retries answered %d, want %d", i, r.status, want)
		}
	}
}

// The faults of catalogue v3. Two of them only show under IDEM-06's
// volume, a sustained burst; volumeEvents at volumeRate is what it sends
// during the compressed dedupe gap of 2 s, volumeInFlight at most
// unanswered at once.
const (
	volumeEvents   = 400
	volumeRate     = 200
	volumeInFlight = 50
)

// ordinaryBurst is more than the largest burst of a conformance run: at
// its default concurrency its first checks start at once and send some
// 110 deliveries, ORD-05's 20 jobs of four events each among them.
const ordinaryBurst, ordinarySenders = 120, 20

// TestFaultDropWhenFull sends an ordinary burst and then IDEM-06's volume
// to the correct receiver and to the faulty one. Both acknowledge
// everything. The faulty one processes all of the ordinary burst, which
// fits its queue however slow its workers, and loses part of the volume:
// exactly the events it logged as dropped, each never processed, the
// others once.
func TestFaultDropWhenFull(t *testing.T) {
	t.Parallel()
	for _, faulty := range []bool{false, true} {
		t.Run(fmt.Sprintf("faulty=%v", faulty), func(t *testing.T) {
			t.Parallel()
			logged := &logBuffer{}
			tg := newTarget(t, planted(Config{Logger: slog.New(slog.NewJSONHandler(logged, nil))}, faultDropWhenFull, faulty))
			if want := map[bool]int{false: defaultQueueSize, true: fullQueueSize}[faulty]; cap(tg.rcv.pool.queue) != want {
				t.Fatalf("a queue of %d, want %d", cap(tg.rcv.pool.queue), want)
			}

			tg.sendOrdinaryBurst()
			ids, bodies := newEvents(t, volumeEvents)
			took := tg.paced(bodies, volumeRate, volumeInFlight)
			tg.drained()
			dropped := logged.reasons("queue full: dropped")
			for _, id := range ids {
				want := 1
				if dropped[id] {
					want = 0
				}
				if n := tg.rcv.TimesProcessed(id); n != want {
					t.Fatalf("event %s processed %d times, want %d (dropped: %v)", id, n, want, dropped[id])
				}
			}
			switch {
			case !faulty && len(dropped) > 0:
				t.Fatalf("the correct receiver dropped %d events", len(dropped))
			case faulty && len(dropped) == 0:
				t.Fatalf("%d events sent in %s (%.0f/s) all processed, want the bug: some dropped", volumeEvents, took, volumeEvents/took.Seconds())
			}
			t.Logf("%d of %d events dropped, sent in %s", len(dropped), volumeEvents, took)
		})
	}
}

// planted returns cfg with f planted when faulty: the tests of this file
// run each request against the faulty receiver and the correct one.
func planted(cfg Config, f Fault, faulty bool) Config {
	if faulty {
		cfg.Faults = append(cfg.Faults, f)
	}
	return cfg
}

// sendOrdinaryBurst sends ordinaryBurst events from ordinarySenders at once
// and checks that each is acknowledged 202 and processed once.
func (tg *target) sendOrdinaryBurst() {
	tg.t.Helper()
	ids, bodies := newEvents(tg.t, ordinaryBurst)
	for i, a := range tg.deliverAll(bodies, ordinarySenders) {
		if a.status != http.StatusAccepted {
			tg.t.Fatalf("ordinary delivery %d answered %d, want 202", i, a.status)
		}
	}
	tg.waitEach(ids, 10*time.Second)
	tg.drained()
	for _, id := range ids {
		if n := tg.times(id); n != 1 {
			tg.t.Fatalf("event %s of the ordinary burst processed %d times, want 1", id, n)
		}
	}
}

// reasons returns the eventIds of the deliveries logged with reason.
func (l *logBuffer) reasons(reason string) map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]bool{}
	for _, line := range strings.Split(l.buf.String(), "\n") {
		var rec struct {
			EventID string `json:"eventId"`
			Reason  string `json:"reason"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Reason == reason {
			out[rec.EventID] = true
		}
	}
	return out
}

// TestFaultRacyState sends the same two bursts as TestFaultDropWhenFull.
// The faulty receiver processes the ordinary burst once, event by event,
// and, past its backlog, some events of the volume twice; it loses none.
func TestFaultRacyState(t *testing.T) {
	t.Parallel()
	for _, faulty := range []bool{false, true} {
		t.Run(fmt.Sprintf("faulty=%v", faulty), func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t, planted(Config{}, faultRacyState, faulty))
			if want := map[bool]int{false: 0, true: racyBacklog}[faulty]; tg.rcv.pool.batchOver != want {
				t.Fatalf("batches past a backlog of %d, want %d", tg.rcv.pool.batchOver, want)
			}

			tg.sendOrdinaryBurst()
			ids, bodies := newEvents(t, volumeEvents)
			took := tg.paced(bodies, volumeRate, volumeInFlight)
			tg.waitEach(ids, 30*time.Second)
			tg.drained()
			twice := 0
			for _, id := range ids {
				switch n := tg.rcv.TimesProcessed(id); {
				case n == 2 && faulty:
					twice++
				case n != 1:
					t.Fatalf("event %s processed %d times, want 1 (or 2 under the bug)", id, n)
				}
			}
			if faulty && twice == 0 {
				t.Fatalf("%d events sent in %s (%.0f/s) each processed once, want the bug: some twice", volumeEvents, took, volumeEvents/took.Seconds())
			}
			t.Logf("%d of %d events processed twice, sent in %s", twice, volumeEvents, took)
		})
	}
}

// TestFaultProcessStale: a correctly signed delivery whose t is ten
// minutes old or ahead is refused 401 by both receivers; the faulty one
// has processed it. Neither processes a wrong signature.
func TestFaultProcessStale(t *testing.T) {
	t.Parallel()
	for _, faulty := range []bool{false, true} {
		tg := newTarget(t, planted(Config{}, faultProcessStale, faulty))
		now := time.Now()
		for _, tt := range []struct {
			why    string
			secret harness.Secret
			at     time.Time
			times  int // under the fault; the correct receiver never processes
		}{
			{"t ten minutes old", testSecret, now.Add(-10 * time.Minute), 1},
			{"t ten minutes ahead", testSecret, now.Add(10 * time.Minute), 1},
			{"a wrong secret", "whsec_wrong", now, 0},
			{"a wrong secret and t ten minutes old", "whsec_wrong", now.Add(-10 * time.Minute), 0},
		} {
			id := newID("evt")
			body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
			r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader(tt.secret, tt.at, body)})
			if r.status != http.StatusUnauthorized {
				t.Fatalf("faulty %v, %s: answered %d, want 401", faulty, tt.why, r.status)
			}
			want := 0
			if faulty {
				want = tt.times
			}
			time.Sleep(watchFor)
			if n := tg.times(id); n != want {
				t.Fatalf("faulty %v, %s: processed %d times, want %d", faulty, tt.why, n, want)
			}
		}
	}
}

// TestFaultDedupeWindow: with a window of five ids, a redelivery after
// four other events is a duplicate, after five it is processed again. The
// correct receiver remembers every id; the fault's window is 1,000 unless
// configured.
func TestFaultDedupeWindow(t *testing.T) {
	t.Parallel()
	const window = 5
	for _, tt := range []struct {
		why    string
		cfg    Config
		others int
		want   int
	}{
		{"within the window", Config{Faults: []Fault{faultDedupeWindow}, DedupeWindow: window}, window - 1, 1},
		{"past the window", Config{Faults: []Fault{faultDedupeWindow}, DedupeWindow: window}, window, 2},
		{"the correct receiver remembers every id", Config{DedupeWindow: window}, 3 * window, 1},
	} {
		tg := newTarget(t, tt.cfg)
		id := newID("evt")
		body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
		tg.mustAck(body)
		tg.waitTimes(id, 1)
		_, others := newEvents(t, tt.others)
		for _, b := range others {
			tg.mustAck(b)
		}
		tg.mustAck(body)
		if tt.want > 1 {
			tg.waitTimes(id, tt.want)
		}
		time.Sleep(watchFor)
		if n := tg.times(id); n != tt.want {
			t.Fatalf("%s: the redelivery after %d other events left the event processed %d times, want %d", tt.why, tt.others, n, tt.want)
		}
	}
	tg := newTarget(t, Config{Faults: []Fault{faultDedupeWindow}})
	if tg.rcv.dedupeWindow != defaultDedupeWindow {
		t.Fatalf("a window of %d ids, want %d", tg.rcv.dedupeWindow, defaultDedupeWindow)
	}
}

// TestFaultDecodeChunks delivers an event with multi-byte text as the
// network would: in one piece, and cut inside a character, the receiver
// reading each piece before the next is written. The faulty receiver
// refuses the cut one (its text, decoded read by read, no longer matches
// the signature) and never processes it; the correct one accepts both.
func TestFaultDecodeChunks(t *testing.T) {
	t.Parallel()
	for _, faulty := range []bool{false, true} {
		st := newSplitTarget(t, planted(Config{}, faultDecodeChunks, faulty))
		body := func() (string, []byte) {
			id := newID("evt")
			return id, eventBody(t, id, harness.JobFailed, newID("job"), statusFailed, nil,
				map[string]any{"errorCode": "invalid_input", "errorMessage": "l'entrée « 日本語 » est refusée 🚫"})
		}
		whole, b := body()
		if st := st.deliverSplit(b); st != http.StatusAccepted {
			t.Fatalf("faulty %v: the body in one piece answered %d, want 202", faulty, st)
		}
		st.processedOnce(whole)

		cut, b := body()
		at := bytes.IndexRune(b, '日') + 1
		if st.deliverSplit(b, at) != map[bool]int{false: http.StatusAccepted, true: http.StatusUnauthorized}[faulty] {
			t.Fatalf("faulty %v: the body cut inside 日 answered wrong", faulty)
		}
		if faulty {
			st.neverProcessed(cut)
		} else {
			st.processedOnce(cut)
		}
	}
}

// TestFaultLastSignatureOnly sends rotation headers, the valid signature
// first or last among wrong ones, in each scheme that can carry several
// (REALM v1, stripe, standard-webhooks). The faulty receiver accepts only
// the valid one last; the correct one accepts both.
func TestFaultLastSignatureOnly(t *testing.T) {
	t.Parallel()
	for _, name := range []string{signing.DefaultScheme, "stripe", "standard-webhooks"} {
		sc, err := signing.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		const secret harness.Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		const other harness.Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
		key, _ := sc.KeyOf(secret)
		wrong, _ := sc.KeyOf(other)
		for _, faulty := range []bool{false, true} {
			cfg := planted(Config{Secrets: []harness.Secret{secret}, Scheme: sc}, faultLastSignatureOnly, faulty)
			if name == signing.DefaultScheme {
				cfg.Scheme = nil // the receiver's own REALM v1 path
			}
			tg := newTarget(t, cfg)
			for _, tt := range []struct {
				why   string
				keys  [][]byte
				extra string // an entry the scheme does not know, appended
				want  int    // under the fault; the correct receiver accepts all
			}{
				{"valid first", [][]byte{key, wrong, wrong}, "", http.StatusUnauthorized},
				{"valid in the middle", [][]byte{wrong, key, wrong}, "", http.StatusUnauthorized},
				{"valid last", [][]byte{wrong, wrong, key}, "", http.StatusAccepted},
				{"valid last, before an unknown entry", [][]byte{wrong, key}, "v0=00", http.StatusAccepted},
			} {
				id := newID("evt")
				body := eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil)
				h := map[string]string{}
				for _, l := range sc.HeaderLines(signing.Delivery{ID: id, T: time.Now().Unix(), Body: body}, tt.keys...) {
					h[l.Name] = l.Value
				}
				if tt.extra != "" {
					h[sc.Signature.Header] += sc.Signature.Separator + tt.extra
				}
				want := http.StatusAccepted
				if faulty {
					want = tt.want
				}
				if r := tg.send(http.MethodPost, WebhookPath, body, h); r.status != want {
					t.Fatalf("%s, faulty %v, %s: answered %d %q, want %d", name, faulty, tt.why, r.status, r.body, want)
				}
				if want == http.StatusAccepted {
					tg.processedOnce(id)
				} else {
					tg.neverProcessed(id)
				}
			}
		}
	}
}

// sizedBody returns an event of exactly size bytes, its errorMessage
// padded.
func sizedBody(t *testing.T, id string, size int) []byte {
	t.Helper()
	// One job id: two fresh ones can differ in length (a counter passing
	// 99 between them, say), and the padding with them.
	job := newID("job")
	pad := func(n int) []byte {
		return eventBody(t, id, harness.JobFailed, job, statusFailed, nil, map[string]any{"errorMessage": strings.Repeat("x", n)})
	}
	b := pad(size - len(pad(0)))
	if len(b) != size {
		t.Fatalf("built an event of %d bytes, want %d", len(b), size)
	}
	return b
}

// TestFaultLimit100K: an event of exactly 102,400 bytes is accepted, one
// byte more refused 413, declared or chunked, and so is REALM's 250 KiB
// event; the correct receiver accepts them all.
func TestFaultLimit100K(t *testing.T) {
	t.Parallel()
	for _, faulty := range []bool{false, true} {
		tg := newTarget(t, planted(Config{}, faultLimit100K, faulty))
		for _, tt := range []struct {
			size    int
			chunked bool
			want    int // under the fault
		}{
			{limit100K, false, http.StatusAccepted},
			{limit100K, true, http.StatusAccepted},
			{limit100K + 1, false, http.StatusRequestEntityTooLarge},
			{limit100K + 1, true, http.StatusRequestEntityTooLarge},
			{250 << 10, false, http.StatusRequestEntityTooLarge},
		} {
			id := newID("evt")
			body := sizedBody(t, id, tt.size)
			var rd io.Reader = bytes.NewReader(body)
			if tt.chunked {
				rd = io.MultiReader(rd) // no length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, tg.url+WebhookPath, rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(harness.HeaderSignature, sigHeader(testSecret, time.Now(), body))
			resp, err := tg.client.Do(req)
			if err != nil {
				t.Fatalf("%d bytes: %v", tt.size, err)
			}
			resp.Body.Close()
			want := http.StatusAccepted
			if faulty {
				want = tt.want
			}
			if resp.StatusCode != want {
				t.Fatalf("faulty %v: %d bytes (chunked %v) answered %d, want %d", faulty, tt.size, tt.chunked, resp.StatusCode, want)
			}
			if want == http.StatusAccepted {
				tg.processedOnce(id)
			} else {
				tg.neverProcessed(id)
			}
		}
	}
}

// TestFaultSlowModelAck: the faulty receiver answers a model.training.*
// delivery 200 after SlowAck, its event processed before the answer, and
// a job.* delivery 202 from the queue as the correct receiver answers
// both.
func TestFaultSlowModelAck(t *testing.T) {
	t.Parallel()
	const slowAck = 300 * time.Millisecond
	for _, faulty := range []bool{false, true} {
		tg := newTarget(t, planted(Config{Delays: Delays{SlowAck: slowAck}}, faultSlowModelAck, faulty))
		if want := map[bool]int{false: 0, true: slowAckSlots}[faulty]; cap(tg.rcv.ackSlots) != want {
			t.Fatalf("faulty %v: %d slots, want %d", faulty, cap(tg.rcv.ackSlots), want)
		}
		for _, typ := range harness.EventTypes() {
			id := newID("evt")
			r := tg.deliver(eventBody(t, id, typ, newID("job"), typeStatus(typ), nil, nil))
			slow := faulty && strings.HasPrefix(typ, "model.")
			switch {
			case slow && (r.status != http.StatusOK || r.latency < slowAck):
				t.Fatalf("%s answered %d after %s, want the bug: 200 after at least %s", typ, r.status, r.latency, slowAck)
			case slow && tg.times(id) != 1:
				t.Fatalf("%s was not processed before its acknowledgement", typ)
			case !slow && r.status != http.StatusAccepted:
				t.Fatalf("faulty %v: %s answered %d, want 202 from the queue", faulty, typ, r.status)
			}
			tg.processedOnce(id)
		}
	}
}

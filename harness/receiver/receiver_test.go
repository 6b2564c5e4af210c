package receiver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/signing"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		why  string
		cfg  Config
		want error
	}{
		{"a receiver without a secret cannot authenticate anything", Config{}, errNoSecret},
		{"an empty secret would accept signatures anyone can compute", Config{Secrets: []harness.Secret{"ok", ""}}, errNoSecret},
		{"a mistyped fault must not silently run the correct receiver", Config{Secrets: []harness.Secret{"s"}, Faults: []Fault{"skip-verfy"}}, errUnknownFault},
	}
	for _, tt := range tests {
		rcv, err := New(tt.cfg)
		if !errors.Is(err, tt.want) {
			if rcv != nil {
				rcv.Close()
			}
			t.Errorf("%s: New error %v, want %v", tt.why, err, tt.want)
		}
	}
}

// TestDesignTestVector delivers the REALM v1 signing test vector with the
// clock fixed at its t: the receiver must agree with the spec, not only with
// our own signing code.
func TestDesignTestVector(t *testing.T) {
	t.Parallel()
	body := []byte(`{"eventId":"evt_webhook_12345","eventType":"job.completed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_img_gen_123","jobType":"image_generation","status":"completed","results":[{"imageId":"img_abc","url":"https://cdn.realm.ai/images/img_abc.png","seed":123456789}],"completedAt":"2024-03-10T15:06:10Z"}}`)
	at := time.Unix(1710083175, 0)
	tests := []struct {
		why    string
		secret harness.Secret
		v1     string
	}{
		{"the current secret", "realm_test_secret", "99f5b03e4352de5b6385fcddb1ef785a8a04d3eda2427d62b4bf086e227cc462"},
		{"the rotated secret", "realm_rotated_secret", "c4adccb38a5217cd503d543d495e886cc8674631a4c26c22390674bf9214ac39"},
	}
	for _, tt := range tests {
		tg := newTarget(t, Config{Secrets: []harness.Secret{tt.secret}, Clock: func() time.Time { return at.Add(42 * time.Second) }})
		r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: "t=1710083175,v1=" + tt.v1})
		if r.status != http.StatusAccepted {
			t.Fatalf("%s: answered %d %q, want 202", tt.why, r.status, r.body)
		}
		tg.processedOnce("evt_webhook_12345")
		tg.waitJob("job_img_gen_123", statusCompleted)
	}
}

func TestSignedDeliveryIsProcessed(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	id, job := newID("evt"), newID("job")
	r := tg.deliver(eventBody(t, id, harness.JobCompleted, job, statusCompleted, nil, nil))
	if r.status != http.StatusAccepted {
		t.Fatalf("answered %d %q, want 202", r.status, r.body)
	}
	tg.processedOnce(id)
	tg.waitJob(job, statusCompleted)
}

// TestIndependentHMAC signs with crypto/hmac directly, not with the signing
// package the receiver uses, so a shared bug cannot hide.
func TestIndependentHMAC(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	id := newID("evt")
	body := eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte("whsec_receiver_test_secret"))
	mac.Write([]byte(ts + "." + string(body)))
	header := "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
	if r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: header}); r.status != http.StatusAccepted {
		t.Fatalf("answered %d %q, want 202", r.status, r.body)
	}
	tg.processedOnce(id)
}

func TestBadSignaturesAreRejected(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	now := time.Now()
	good := func(body []byte) string { return signing.Sign(testSecret, now.Unix(), body) }
	ts := strconv.FormatInt(now.Unix(), 10)
	tests := []struct {
		why    string
		header func(body []byte) (string, bool) // value, present
		tamper bool
	}{
		{"SIG-02: no header at all", func([]byte) (string, bool) { return "", false }, false},
		{"SIG-03: signed with the wrong secret", func(b []byte) (string, bool) { return sigHeader("whsec_wrong", now, b), true }, false},
		{"SIG-04: body altered after signing", func(b []byte) (string, bool) { return sigHeader(testSecret, now, b), true }, true},
		{"SIG-05: empty header", func([]byte) (string, bool) { return "", true }, false},
		{"SIG-05: garbage", func([]byte) (string, bool) { return "garbage", true }, false},
		{"SIG-05: no v1 entry", func([]byte) (string, bool) { return "t=" + ts, true }, false},
		{"SIG-05: v1 not hex", func([]byte) (string, bool) { return "t=" + ts + ",v1=" + strings.Repeat("zz", 32), true }, false},
		{"SIG-05: v1 truncated", func(b []byte) (string, bool) { return "t=" + ts + ",v1=" + good(b)[:40], true }, false},
		{"SIG-05: t missing", func(b []byte) (string, bool) { return "v1=" + good(b), true }, false},
		{"SIG-05: t not a number", func(b []byte) (string, bool) { return "t=soon,v1=" + good(b), true }, false},
		{"SIG-06: t ten minutes old (replay)", func(b []byte) (string, bool) { return sigHeader(testSecret, now.Add(-10*time.Minute), b), true }, false},
		{"SIG-07: t ten minutes ahead", func(b []byte) (string, bool) { return sigHeader(testSecret, now.Add(10*time.Minute), b), true }, false},
	}
	for _, tt := range tests {
		id := newID("evt")
		body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
		h := map[string]string{}
		if v, ok := tt.header(body); ok {
			h[harness.HeaderSignature] = v
		}
		if tt.tamper {
			body = bytes.Replace(body, []byte(`"completed"`), []byte(`"failed"`), 1)
		}
		r := tg.send(http.MethodPost, WebhookPath, body, h)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: answered %d, want 401", tt.why, r.status)
		}
		// SIG-09: nothing in the answer may help forge a signature.
		if expected := signing.Sign(testSecret, now.Unix(), body); strings.Contains(r.body, expected) || strings.Contains(r.body, expected[:16]) {
			t.Errorf("%s: the 401 body %q reveals the expected signature", tt.why, r.body)
		}
		tg.neverProcessed(id)
	}
}

// TestRotation: during a secret rotation REALM sends one v1 per secret, and
// the receiver may know only one of them.
func TestRotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		why     string
		secrets []harness.Secret
		header  func(now time.Time, body []byte) string
	}{
		{"SIG-08: only the last of several v1 entries is valid", []harness.Secret{testSecret}, func(now time.Time, b []byte) string {
			return signing.FormatHeader(now.Unix(), signing.Sign("whsec_old", now.Unix(), b), signing.Sign(testSecret, now.Unix(), b))
		}},
		{"the receiver holds old and new secret, REALM signs with the new one only", []harness.Secret{"whsec_old", testSecret}, func(now time.Time, b []byte) string {
			return sigHeader(testSecret, now, b)
		}},
	}
	for _, tt := range tests {
		tg := newTarget(t, Config{Secrets: tt.secrets})
		id := newID("evt")
		body := eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil)
		r := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: tt.header(time.Now(), body)})
		if r.status != http.StatusAccepted {
			t.Fatalf("%s: answered %d %q, want 202", tt.why, r.status, r.body)
		}
		tg.processedOnce(id)
	}
}

func TestRedeliveryIsProcessedOnce(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	id := newID("evt")
	body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
	header := sigHeader(testSecret, time.Now(), body)
	first := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: header, harness.HeaderAttempt: "1"})
	// IDEM-01: the identical redelivery; IDEM-03: re-signed a second later.
	same := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: header, harness.HeaderAttempt: "2"})
	resigned := tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader(testSecret, time.Now().Add(time.Second), body), harness.HeaderAttempt: "3"})
	for i, r := range []response{first, same, resigned} {
		if r.status < 200 || r.status > 299 {
			t.Errorf("delivery %d answered %d, want 2xx", i+1, r.status)
		}
	}
	tg.processedOnce(id)
}

func TestConcurrentCopiesAreProcessedOnce(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	id := newID("evt")
	for i, st := range tg.concurrently(eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil), 5) {
		if st < 200 || st > 299 {
			t.Errorf("copy %d answered %d, want 2xx", i, st)
		}
	}
	tg.processedOnce(id)
}

func TestDistinctEventsOfOneJobAreEachProcessed(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	job := newID("job")
	a, b := newID("evt"), newID("evt")
	tg.mustAck(eventBody(t, a, harness.JobProcessing, job, statusProcessing, nil, nil))
	tg.mustAck(eventBody(t, b, harness.JobProcessing, job, statusProcessing, nil, nil))
	tg.processedOnce(a)
	tg.processedOnce(b)
}

// TestLifecycleNeverRegresses delivers each sequence in order, waiting for
// each event to be processed before the next, so the receiver sees the late
// events late.
func TestLifecycleNeverRegresses(t *testing.T) {
	t.Parallel()
	type step struct{ typ, status string }
	tests := []struct {
		why   string
		steps []step
		want  string
	}{
		{"ORD-02: a late job.processing must not undo job.completed",
			[]step{{harness.JobCompleted, statusCompleted}, {harness.JobProcessing, statusProcessing}}, statusCompleted},
		{"ORD-03: failed is final, late queued and processing change nothing",
			[]step{{harness.JobFailed, statusFailed}, {harness.JobQueued, statusQueued}, {harness.JobProcessing, statusProcessing}}, statusFailed},
		{"ORD-04: a terminal event for a job never seen is applied",
			[]step{{harness.JobCompleted, statusCompleted}}, statusCompleted},
		{"the lifecycle in order moves forward",
			[]step{{harness.JobQueued, statusQueued}, {harness.JobProcessing, statusProcessing}, {harness.JobCompleted, statusCompleted}}, statusCompleted},
		{"two terminals: the first one stays",
			[]step{{harness.JobCanceled, statusCanceled}, {harness.JobCompleted, statusCompleted}}, statusCanceled},
		{"model training events move their job by the same rule",
			[]step{{harness.ModelTrainingCompleted, statusCompleted}, {harness.ModelTrainingStarted, statusProcessing}}, statusCompleted},
	}
	tg := newTarget(t, Config{})
	for _, tt := range tests {
		job := newID("job")
		for _, s := range tt.steps {
			id := newID("evt")
			tg.mustAck(eventBody(t, id, s.typ, job, s.status, nil, nil))
			tg.waitTimes(id, 1)
		}
		if got := tg.job(job); got != tt.want {
			t.Errorf("%s: job is %q, want %q", tt.why, got, tt.want)
		}
	}
}

func TestForwardCompatibility(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})

	// ACK-04: an unknown type is acknowledged and counted, and changes no job.
	id, job := newID("evt"), newID("job")
	tg.mustAck(eventBody(t, id, "job.archived", job, "archived", nil, nil))
	tg.processedOnce(id)
	if got := tg.job(job); got != "" {
		t.Errorf("unknown event type set the job to %q", got)
	}

	// ACK-05: unknown fields in envelope and data are ignored.
	id, job = newID("evt"), newID("job")
	tg.mustAck(eventBody(t, id, harness.JobCompleted, job, statusCompleted,
		map[string]any{"futureEnvelopeField": map[string]any{"x": 1}},
		map[string]any{"futureDataField": []int{1, 2}}))
	tg.processedOnce(id)
	tg.waitJob(job, statusCompleted)
}

// TestMalformedBodiesAre400: a signed but unusable body is the sender's
// fault; a 5xx would make REALM retry a poison message forever.
func TestMalformedBodiesAre400(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	tests := []struct {
		why  string
		body string
	}{
		{"ROB-01: invalid JSON", `{"eventId":"evt_x","eventType":`},
		{"ROB-01: a JSON array, not an object", `[1,2,3]`},
		{"ROB-01: JSON null", `null`},
		{"ROB-02: eventId missing", `{"eventType":"job.queued","data":{}}`},
		{"ROB-02: eventId not a string", `{"eventId":42,"eventType":"job.queued","data":{}}`},
		{"ROB-02: eventId empty", `{"eventId":"","eventType":"job.queued","data":{}}`},
		{"ROB-02: eventType missing", `{"eventId":"evt_x","data":{}}`},
		{"ROB-02: data missing", `{"eventId":"evt_x","eventType":"job.queued"}`},
		{"ROB-02: data not an object", `{"eventId":"evt_x","eventType":"job.queued","data":"queued"}`},
		{"ROB-03: empty body", ``},
	}
	for _, tt := range tests {
		if r := tg.deliver([]byte(tt.body)); r.status != http.StatusBadRequest {
			t.Errorf("%s: answered %d %q, want 400", tt.why, r.status, r.body)
		}
	}
	tg.neverProcessed("evt_x")
}

// TestOtherMethodsAreRefused (ROB-04): a GET with a valid signed body must
// still not run business logic.
func TestOtherMethodsAreRefused(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		id := newID("evt")
		body := eventBody(t, id, harness.JobCompleted, newID("job"), statusCompleted, nil, nil)
		r := tg.send(method, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader(testSecret, time.Now(), body)})
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != http.MethodPost {
			t.Errorf("%s: answered %d with Allow %q, want 405 with Allow POST", method, r.status, r.header.Get("Allow"))
		}
		tg.neverProcessed(id)
	}
}

// TestOversizeBodyIs413 (ROB-05) sends 5 MiB declared and, chunked,
// undeclared: both must be refused 413 without a 5xx, hang or reset.
func TestOversizeBodyIs413(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, Config{})
	big := bytes.Repeat([]byte("x"), 5<<20)
	for _, chunked := range []bool{false, true} {
		req, err := http.NewRequest(http.MethodPost, tg.url+WebhookPath, bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		if chunked {
			req.ContentLength = -1
			req.Body = io.NopCloser(struct{ io.Reader }{bytes.NewReader(big)})
		}
		req.Header.Set(harness.HeaderSignature, sigHeader(testSecret, time.Now(), big))
		resp, err := tg.client.Do(req)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked=%v: answered %d, want 413", chunked, resp.StatusCode)
		}
	}
}

func TestProbeToken(t *testing.T) {
	t.Parallel()
	const token = "probe-token-123"
	tg := newTarget(t, Config{ProbeToken: token})
	id := newID("evt")
	tg.mustAck(eventBody(t, id, harness.JobQueued, newID("job"), statusQueued, nil, nil))
	tests := []struct {
		why    string
		header map[string]string
		want   int
	}{
		{"no Authorization header", nil, http.StatusUnauthorized},
		{"a wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"the token without the Bearer scheme", map[string]string{"Authorization": token}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		for _, path := range []string{"/events/" + id, "/jobs/job_x"} {
			if r := tg.send(http.MethodGet, ProbePath+path, nil, tt.header); r.status != tt.want {
				t.Errorf("%s on %s: answered %d, want %d", tt.why, path, r.status, tt.want)
			}
		}
	}
	// With the token the probe works (target.probe sends it).
	tg.processedOnce(id)
}

// TestLogsRevealNoSecret: the secret and the expected signature must not
// reach the log, not even for a rejected delivery.
func TestLogsRevealNoSecret(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rcv, err := New(Config{Secrets: []harness.Secret{testSecret}, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tg := serve(t, rcv, "")
	now := time.Now()
	body := eventBody(t, newID("evt"), harness.JobQueued, newID("job"), statusQueued, nil, nil)
	tg.send(http.MethodPost, WebhookPath, body, map[string]string{harness.HeaderSignature: sigHeader("whsec_wrong", now, body)})
	tg.mustAck(body)
	// Closing the server waits for its handlers, so the log is complete and
	// no longer written.
	tg.srv.Close()
	logged := buf.String()
	if !strings.Contains(logged, "status=401") || !strings.Contains(logged, "status=202") {
		t.Fatalf("log lacks the deliveries: %q", logged)
	}
	if strings.Contains(logged, testSecret.Reveal()) || strings.Contains(logged, signing.Sign(testSecret, now.Unix(), body)) {
		t.Fatalf("log reveals the secret or the expected signature: %q", logged)
	}
}

func TestPrintingTheReceiverRevealsNoSecret(t *testing.T) {
	const secret, token = "whsec_print_test_41", "probe_print_test_17"
	rcv, err := New(Config{Secrets: []harness.Secret{secret}, ProbeToken: token, Faults: []Fault{" double-process "}})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	cfg := Config{Secrets: []harness.Secret{secret}, ProbeToken: token}
	for _, out := range []string{
		fmt.Sprintf("%v %+v %#v %s", rcv, rcv, rcv, rcv),
		fmt.Sprintf("%v %+v %#v %d %x %q", cfg, cfg, cfg, cfg.Secrets[0], cfg.ProbeToken, cfg.Secrets),
	} {
		if strings.Contains(out, secret) || strings.Contains(out, token) {
			t.Fatalf("printed a secret: %s", out)
		}
	}
	// The fault named with spaces around it is planted all the same.
	if !strings.Contains(rcv.String(), "double-process") {
		t.Fatalf("%v: the fault was not planted", rcv)
	}
}

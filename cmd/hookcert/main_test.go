package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// The REALM v1 signing test vector, verbatim.
const (
	vectorSecret  = "realm_test_secret"
	vectorT       = "1710083175"
	vectorBody    = `{"eventId":"evt_webhook_12345","eventType":"job.completed","apiVersion":"v1","createdAt":"2024-03-10T15:06:15Z","data":{"object":"job","jobId":"job_img_gen_123","jobType":"image_generation","status":"completed","results":[{"imageId":"img_abc","url":"https://cdn.realm.ai/images/img_abc.png","seed":123456789}],"completedAt":"2024-03-10T15:06:10Z"}}`
	vectorV1      = "99f5b03e4352de5b6385fcddb1ef785a8a04d3eda2427d62b4bf086e227cc462"
	vectorRotated = "c4adccb38a5217cd503d543d495e886cc8674631a4c26c22390674bf9214ac39"
)

// binPath is the hookcert binary built once for the subprocess tests.
var binPath string

func TestMain(m *testing.M) {
	// The end-to-end tests spend their time waiting on make, on
	// subprocesses and on the sender's schedule, not on the CPU: run more
	// of them at once than the default (one per core), unless -parallel
	// was given.
	flag.Parse()
	if !parallelGiven() {
		_ = flag.Set("test.parallel", "4")
	}
	dir, err := os.MkdirTemp("", "hookcert-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "hookcert")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hookcert:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// parallelGiven reports whether -test.parallel was on the command line.
func parallelGiven() (given bool) {
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	return given
}

// result is what one hookcert run printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// hookcert runs the built binary with a deadline and returns its output.
func hookcert(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running hookcert %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

func TestSignReproducesTheTestVector(t *testing.T) {
	if len(vectorBody) != 348 {
		t.Fatalf("test vector body is %d bytes, want 348", len(vectorBody))
	}
	want := "X-Webhook-Signature: t=" + vectorT + ",v1=" + vectorV1 + "\n"
	r := hookcert(t, vectorBody, nil, "sign", "--secret", vectorSecret, "--timestamp", vectorT)
	if r.code != 0 || r.stdout != want {
		t.Fatalf("sign from stdin: exit %d, stdout %q, stderr %q; want exit 0 and %q", r.code, r.stdout, r.stderr, want)
	}

	file := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(file, []byte(vectorBody), 0o600); err != nil {
		t.Fatal(err)
	}
	r = hookcert(t, "", []string{harness.SecretEnv + "=realm_rotated_secret"}, "sign", "--timestamp", vectorT, "--file", file)
	want = "X-Webhook-Signature: t=" + vectorT + ",v1=" + vectorRotated + "\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("sign --file with the secret from %s: exit %d, stdout %q; want %q", harness.SecretEnv, r.code, r.stdout, want)
	}
}

// TestSignReproducesTheSchemeVectors prints every built-in scheme's headers
// for the test vector body, byte for byte (README "Signing schemes"), signs
// with a scheme file of the user's (Slack's, checked with openssl), and
// refuses a broken one saying where.
func TestSignReproducesTheSchemeVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scheme, secret, want string
		extra                []string
	}{
		{"realm-v1", vectorSecret, "X-Webhook-Signature: t=" + vectorT + ",v1=" + vectorV1 + "\nX-Webhook-Id: evt_webhook_12345\nX-Webhook-Event: job.completed\nX-Webhook-Attempt: 1\n", nil},
		{"standard-webhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "webhook-signature: v1,wqiAZb0tkT++6oK/cCGpzOgY9dKdCz8gtZw0TCaY8JI=\nwebhook-id: evt_webhook_12345\nwebhook-timestamp: " + vectorT + "\n", nil},
		{"stripe", "whsec_realm_stripe_test", "Stripe-Signature: t=" + vectorT + ",v1=9e0c23995962835c04388205f8e09278837f8a2ace0344b1b1021e7a5ffb1a76\n", nil},
		{"github", vectorSecret, "X-Hub-Signature-256: sha256=875caa318f09ab4a98a3c0bd5bb436ba0ea4ea08d40e7f7ef82951e81e30d48f\nX-GitHub-Delivery: evt_webhook_12345\nX-GitHub-Event: job.completed\n", nil},
		{"github", vectorSecret, "X-Hub-Signature-256: sha256=875caa318f09ab4a98a3c0bd5bb436ba0ea4ea08d40e7f7ef82951e81e30d48f\nX-GitHub-Delivery: dlv_1\nX-GitHub-Event: job.completed\n", []string{"--id", "dlv_1"}},
	} {
		args := append([]string{"sign", "--scheme", tc.scheme, "--secret", tc.secret, "--timestamp", vectorT}, tc.extra...)
		if r := hookcert(t, vectorBody, nil, args...); r.code != 0 || r.stdout != tc.want {
			t.Errorf("sign --scheme %s: exit %d, stdout %q, stderr %q; want %q", tc.scheme, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	dir := t.TempDir()
	slack := filepath.Join(dir, "slack.yaml")
	if err := os.WriteFile(slack, []byte("name: slack\nsignature: {header: X-Slack-Signature, entry: \"v0={signature}\"}\nmessage: \"v0:{t}:{body}\"\nmac: hmac-sha256\nencoding: hex\ntimestamp: {tolerance: 5m}\nheaders:\n  - {name: X-Slack-Request-Timestamp, value: \"{t}\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// printf 'v0:1531420618:{"token":"x","team_id":"T1"}' | openssl dgst -sha256 -hmac 8f742231b10e8888abcd99yyyzzz85a5
	want := "X-Slack-Signature: v0=52829b3d2f64470ba3650b8c612b0186c5e52c47d1de8a55d4a6afe4aeab3a6a\nX-Slack-Request-Timestamp: 1531420618\n"
	if r := hookcert(t, `{"token":"x","team_id":"T1"}`, nil, "sign", "--scheme", slack, "--secret", "8f742231b10e8888abcd99yyyzzz85a5", "--timestamp", "1531420618"); r.code != 0 || r.stdout != want {
		t.Errorf("sign with a Slack scheme file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("name: x\nsignature: {header: S, entry: v1}\nmessage: \"{body}\"\nmac: md5\nencoding: hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := hookcert(t, "x", nil, "sign", "--scheme", broken, "--secret", "s"); r.code != 2 || !strings.Contains(r.stderr, "broken.yaml:4:") || r.stdout != "" {
		t.Errorf("a broken scheme file: exit %d, stderr %q; want 2 naming broken.yaml:4 (mac) and nothing signed", r.code, r.stderr)
	}
	if r := hookcert(t, "x", nil, "sign", "--scheme", "standard-webhooks", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); r.code != 2 || !strings.Contains(r.stderr, "--id") || r.stdout != "" {
		t.Errorf("standard-webhooks without an id: exit %d, stdout %q, stderr %q; want 2 asking for --id", r.code, r.stdout, r.stderr)
	}
}

// TestReceiverAndTriggerTakeAScheme runs the reference receiver verifying
// each built-in scheme and triggers an event signed in that scheme (202,
// exit 0) and in REALM v1 (refused, exit 1, where the schemes differ).
func TestReceiverAndTriggerTakeAScheme(t *testing.T) {
	t.Parallel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, scheme := range []string{"standard-webhooks", "stripe", "github"} {
		webhook, _ := startReceiver(t, secret, "--scheme", scheme)
		if r := hookcert(t, "", nil, "trigger", "job.completed", "--url", webhook, "--secret", secret, "--scheme", scheme); r.code != 0 || !strings.Contains(r.stdout, "status  202") {
			t.Errorf("trigger --scheme %s against a %s receiver: exit %d, stdout %q, stderr %q", scheme, scheme, r.code, r.stdout, r.stderr)
		}
		if r := hookcert(t, "", nil, "trigger", "job.completed", "--url", webhook, "--secret", secret); r.code != 1 {
			t.Errorf("a REALM v1 delivery to a %s receiver: exit %d, stdout %q; want it refused (exit 1)", scheme, r.code, r.stdout)
		}
	}
	if r := hookcert(t, "", nil, "receiver", "--secret", secret, "--scheme", "nope"); r.code != 2 || !strings.Contains(r.stderr, "standard-webhooks") {
		t.Errorf("an unknown scheme: exit %d, stderr %q; want 2 listing the built-in ones", r.code, r.stderr)
	}
}

func TestUsageErrorsExit2WithAMessage(t *testing.T) {
	tests := []struct {
		why  string
		args []string
		say  string
	}{
		{"no command at all", nil, "no command"},
		{"a command that does not exist", []string{"frobnicate"}, "unknown command"},
		{"sign without any secret", []string{"sign", "--timestamp", "1"}, harness.SecretEnv},
		{"sign with a timestamp that is not a number", []string{"sign", "--secret", "s", "--timestamp", "yesterday"}, "--timestamp"},
		{"a flag that does not exist", []string{"sign", "--secrett", "s"}, "flag provided but not defined"},
		{"trigger without a URL", []string{"trigger", "job.completed", "--secret", "s"}, "--url"},
		{"trigger of a type outside the catalogue", []string{"trigger", "job.exploded", "--url", "http://127.0.0.1:1/webhook", "--secret", "s"}, "unknown event type"},
		{"trigger with a URL of another scheme", []string{"trigger", "job.completed", "--url", "ftp://127.0.0.1/webhook", "--secret", "s"}, "trigger"},
		{"receiver with a fault that does not exist", []string{"receiver", "--secret", "s", "--fault", "nope"}, "nope"},
		{"validate without a file", []string{"validate"}, "file"},
	}
	for _, tc := range tests {
		t.Run(tc.why, func(t *testing.T) {
			r := hookcert(t, "", []string{harness.SecretEnv + "="}, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.say) {
				t.Fatalf("stderr %q does not say %q", r.stderr, tc.say)
			}
		})
	}
}

// startReceiver runs `hookcert receiver` on a free port and returns its
// webhook and probe URLs; the process is stopped when the test ends.
func startReceiver(t *testing.T, secret string, extra ...string) (webhook, probe string) {
	t.Helper()
	return startReceiverFor(t, 2*time.Minute, secret, extra...)
}

// startReceiverFor is startReceiver for a receiver that must live up to
// life, killed after it.
func startReceiverFor(t *testing.T, life time.Duration, secret string, extra ...string) (webhook, probe string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), life)
	args := append([]string{"receiver", "--addr", "127.0.0.1:0", "--secret", secret}, extra...)
	cmd := exec.CommandContext(ctx, binPath, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("receiver did not stop on interrupt; stderr: %s", stderr.String())
		}
		cancel()
	})
	lines := make(chan string, 2)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for i, dst := range []*string{&webhook, &probe} {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("receiver printed %d lines and stopped; stderr: %s", i, stderr.String())
			}
			*dst = l
		case <-time.After(15 * time.Second):
			t.Fatalf("receiver printed no URL in time; stderr: %s", stderr.String())
		}
	}
	return webhook, probe
}

// opensslSign signs "<t>.<body>" with the openssl CLI, independently of the
// project's signing package.
func opensslSign(t *testing.T, secret, ts, body string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		missingTool(t, "openssl is not installed (.ci/run installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", "dgst", "-sha256", "-hmac", secret, "-r")
	cmd.Stdin = strings.NewReader(ts + "." + body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl dgst: %v", err)
	}
	hexsig, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if len(hexsig) != 64 {
		t.Fatalf("openssl printed %q, not a SHA-256 hex digest", out)
	}
	return hexsig
}

// post delivers body with the given signature header by plain net/http.
func post(t *testing.T, url, eventID, sig, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Webhook-Id", eventID)
	req.Header.Set("X-Webhook-Event", "job.completed")
	req.Header.Set("X-Webhook-Attempt", "1")
	if sig != "" {
		req.Header.Set("X-Webhook-Signature", sig)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// timesProcessed polls the probe until the count reaches at least want or
// two seconds pass, then returns the last count seen.
func timesProcessed(t *testing.T, probe, eventID string, want int) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	got := 0
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := c.Get(probe + "/events/" + eventID)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		var st struct {
			TimesProcessed int `json:"timesProcessed"`
		}
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				t.Fatalf("probe body: %v", err)
			}
		}
		resp.Body.Close()
		got = st.TimesProcessed
		if got >= want {
			break
		}
	}
	// Watch a little longer for late extra processing.
	time.Sleep(300 * time.Millisecond)
	resp, err := c.Get(probe + "/events/" + eventID)
	if err == nil {
		var st struct {
			TimesProcessed int `json:"timesProcessed"`
		}
		if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil {
			got = st.TimesProcessed
		}
		resp.Body.Close()
	}
	return got
}

func TestReceiverAcceptsOpenSSLSignatureAndDedupes(t *testing.T) {
	tests := []struct {
		why   string
		fault []string
		times int
	}{
		{"the correct receiver processes a duplicate once", nil, 1},
		{"with double-process a duplicate is processed twice", []string{"--fault", "double-process"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.why, func(t *testing.T) {
			const secret = "whsec_cli_test"
			webhook, probe := startReceiver(t, secret, tc.fault...)
			id := fmt.Sprintf("evt_cli_%d", time.Now().UnixNano())
			body := strings.Replace(vectorBody, "evt_webhook_12345", id, 1)
			body = strings.Replace(body, "2024-03-10T15:06:15Z", time.Now().UTC().Format(time.RFC3339), 1)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			sig := "t=" + ts + ",v1=" + opensslSign(t, secret, ts, body)

			if code := post(t, webhook, id, sig, body); code < 200 || code > 299 {
				t.Fatalf("openssl-signed delivery answered %d, want 2xx", code)
			}
			wrong := "t=" + ts + ",v1=" + opensslSign(t, secret+"x", ts, body)
			if code := post(t, webhook, id+"_bad", wrong, strings.Replace(body, id, id+"_bad", 1)); code != http.StatusUnauthorized {
				t.Fatalf("wrongly signed delivery answered %d, want 401", code)
			}
			if code := post(t, webhook, id, sig, body); code < 200 || code > 299 {
				t.Fatalf("duplicate delivery answered %d, want 2xx", code)
			}
			if got := timesProcessed(t, probe, id, tc.times); got != tc.times {
				t.Fatalf("probe says timesProcessed %d, want %d", got, tc.times)
			}
			if got := timesProcessed(t, probe, id+"_bad", 0); got != 0 {
				t.Fatalf("the wrongly signed delivery was processed %d times", got)
			}
		})
	}
}

// independentReceiver is a minimal REALM receiver written from the v1
// signature (README "The hookcert command") with crypto/hmac alone, to show trigger works against receivers
// other than ours.
type independentReceiver struct {
	mu   sync.Mutex
	seen map[string]string // eventId -> eventType
}

func (r *independentReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	const secret = "independent_secret"
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var ts string
	var sigs []string
	for _, part := range strings.Split(req.Header.Get("X-Webhook-Signature"), ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(n, 0)).Abs() > 5*time.Minute {
		http.Error(w, "stale", http.StatusUnauthorized)
		return
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	ok := false
	for _, s := range sigs {
		ok = ok || hmac.Equal([]byte(s), []byte(want))
	}
	var ev struct {
		EventID   string `json:"eventId"`
		EventType string `json:"eventType"`
	}
	if !ok || json.Unmarshal(body, &ev) != nil || ev.EventID != req.Header.Get("X-Webhook-Id") ||
		ev.EventType != req.Header.Get("X-Webhook-Event") || req.Header.Get("User-Agent") != "REALM-Webhooks/1.0" ||
		req.Header.Get("X-Webhook-Attempt") != "1" || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad delivery", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.seen[ev.EventID] = ev.EventType
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func TestTriggerEveryTypeAgainstIndependentAndReferenceReceivers(t *testing.T) {
	ind := &independentReceiver{seen: map[string]string{}}
	srv := httptest.NewServer(ind)
	defer srv.Close()
	ref, _ := startReceiver(t, "reference_secret")

	targets := []struct {
		name, url, secret string
	}{
		{"independent receiver", srv.URL + "/hooks", "independent_secret"},
		{"reference receiver", ref, "reference_secret"},
	}
	for _, tg := range targets {
		for _, typ := range harness.EventTypes() {
			t.Run(tg.name+"/"+typ, func(t *testing.T) {
				r := hookcert(t, "", []string{harness.SecretEnv + "=" + tg.secret}, "trigger", typ, "--url", tg.url, "--job-id", "job_cli_trigger")
				if r.code != 0 {
					t.Fatalf("trigger %s: exit %d\nstdout: %s\nstderr: %s", typ, r.code, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stdout, "status  2") || !strings.Contains(r.stdout, "evt_") {
					t.Fatalf("trigger output does not show the event id and a 2xx status:\n%s", r.stdout)
				}
				if strings.Contains(r.stdout+r.stderr, tg.secret) {
					t.Fatal("trigger printed the secret")
				}
			})
		}
	}
	ind.mu.Lock()
	defer ind.mu.Unlock()
	if len(ind.seen) != len(harness.EventTypes()) {
		t.Fatalf("independent receiver accepted %d events, want %d", len(ind.seen), len(harness.EventTypes()))
	}
}

func TestTriggerExits1WhenNotAcknowledged(t *testing.T) {
	webhook, _ := startReceiver(t, "right_secret")
	r := hookcert(t, "", nil, "trigger", "job.failed", "--url", webhook, "--secret", "wrong_secret")
	if r.code != 1 || !strings.Contains(r.stdout, "status  401") {
		t.Fatalf("trigger with the wrong secret: exit %d, stdout %q; want exit 1 and status 401", r.code, r.stdout)
	}
	r = hookcert(t, "", nil, "trigger", "job.failed", "--url", "http://127.0.0.1:1/webhook", "--secret", "s", "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.stdout, "no response") {
		t.Fatalf("trigger to a closed port: exit %d, stdout %q; want exit 1 and 'no response'", r.code, r.stdout)
	}
	// A certificate the trigger cannot verify: the hint names its flags.
	tlsHook, _ := startReceiver(t, "right_secret", "--tls")
	r = hookcert(t, "", nil, "trigger", "job.failed", "--url", tlsHook, "--secret", "right_secret")
	if r.code != 1 || !strings.Contains(r.stdout, "--ca-cert") || !strings.Contains(r.stdout, "--insecure") || strings.Contains(r.stdout, "CA_CERT") {
		t.Fatalf("trigger to an unknown certificate: exit %d, stdout %q; want exit 1 and a hint naming --ca-cert and --insecure", r.code, r.stdout)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(vectorBody), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(vectorBody, `"status":"completed"`, `"status":"queued"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := hookcert(t, "", nil, "validate", good)
	if r.code != 0 || !strings.Contains(r.stdout, "valid job.completed") {
		t.Fatalf("validate of the test vector's body: exit %d, stdout %q", r.code, r.stdout)
	}
	r = hookcert(t, "", nil, "validate", bad)
	if r.code != 1 || !strings.Contains(r.stdout, "/data/status") {
		t.Fatalf("validate of a wrong status: exit %d, stdout %q; want exit 1 naming /data/status", r.code, r.stdout)
	}
	// The probe's answers are checked against the probe's schemas.
	r = hookcert(t, "", nil, "validate", "../../schemas/probe-event.example.json", "../../schemas/probe-job.example.json")
	if r.code != 0 || !strings.Contains(r.stdout, "valid probe-event answer") || !strings.Contains(r.stdout, "valid probe-job answer") {
		t.Fatalf("validate of the probe's examples: exit %d, stdout %q; want both valid probe answers", r.code, r.stdout)
	}
	negative := filepath.Join(dir, "negative.json")
	if err := os.WriteFile(negative, []byte(`{"eventId":"evt_1","timesProcessed":-1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r = hookcert(t, "", nil, "validate", negative); r.code != 1 || !strings.Contains(r.stdout, "/timesProcessed") {
		t.Fatalf("validate of a negative count: exit %d, stdout %q; want exit 1 naming /timesProcessed", r.code, r.stdout)
	}

	typo := filepath.Join(dir, "typo.yaml")
	scenarioText := "id: MY-01\ntitle: t\nlevel: MUST\ncategory: custom\nrequirement: r\nseed: s\nsteps:\n  - send:\n      build: {type: job.completed}\n      signatur: {missing: true}\n    expect: {status: 4xx}\n"
	if err := os.WriteFile(typo, []byte(scenarioText), 0o600); err != nil {
		t.Fatal(err)
	}
	r = hookcert(t, "", nil, "validate", typo, "../../scenarios/sig-02.yaml")
	if r.code != 1 || !strings.Contains(r.stdout, "typo.yaml:10:7") || !strings.Contains(r.stdout, "valid scenario SIG-02") {
		t.Fatalf("validate of a scenario with a typo and a good one: exit %d, stdout %q; want exit 1, the typo's line and SIG-02 valid", r.code, r.stdout)
	}
}

// missingTool skips a test whose external tool is not installed, or fails
// it where .ci/run installed the tools and says so with
// HOOKCERT_REQUIRE_TOOLS=1, so CI cannot go green on a skipped check.
func missingTool(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("HOOKCERT_REQUIRE_TOOLS") != "" {
		t.Fatal(msg + " (HOOKCERT_REQUIRE_TOOLS is set)")
	}
	t.Skip(msg)
}

package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/receiver"
)

// keyedReceiver is a receiver reached with its key in the URL, as a
// serverless function is (?code=KEY) and a probe behind basic auth: the
// reference receiver with planted faults, so that checks fail and their
// evidence, curl commands and fix hints are written, behind a gate that
// answers 404 without the key, and that echoes the request URI in a
// header of every answer and in the body of every refusal, as careless
// receivers do.
func keyedReceiver(t *testing.T, secret, key, user, pass string) (webhook, probe string) {
	t.Helper()
	rcv, err := receiver.New(receiver.Config{
		Secrets: []harness.Secret{harness.Secret(secret)},
		Faults:  []receiver.Fault{receiver.Fault("500-on-malformed"), receiver.Fault("leak-signature")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rcv.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Uri", r.RequestURI)
		if r.URL.Query().Get("code") != key {
			http.Error(w, "no such function: "+r.RequestURI, http.StatusNotFound)
			return
		}
		if strings.HasPrefix(r.URL.Path, receiver.ProbePath) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				http.Error(w, "who are you? "+r.RequestURI, http.StatusUnauthorized)
				return
			}
		}
		rec := httptest.NewRecorder()
		rcv.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		if rec.Code >= 400 {
			rec.Body.WriteString(" (you called " + r.RequestURI + ")")
		}
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	return "http://" + host + "/webhook?code=" + key, "http://" + user + ":" + pass + "@" + host + receiver.ProbePath + "?code=" + key
}

// TestNoOutputHoldsTheURLsKey certifies a receiver whose webhook URL
// carries a function key and whose probe URL a user and password, with
// checks failing, through conformance, load, certify and summary, and
// searches every file written and everything printed for the key, the
// password and the user: none of them appears, while the runs did reach
// the receiver (the key is sent as given).
func TestNoOutputHoldsTheURLsKey(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the catalogue and a load")
	}
	const (
		secret = "whsec_url_key_secret_0123"
		key    = "fnKEY7fQ2x9LmZpR4tW8sAzure"
		user   = "probeuser-kept-private"
		pass   = "probe-pass-Zq81"
	)
	webhook, probe := keyedReceiver(t, secret, key, user, pass)
	root := t.TempDir()
	env := []string{"REALM_WEBHOOK_SECRET=" + secret, "HOOKCERT_SETTLE=2s", "HOOKCERT_DEDUPE_GAP=1s",
		"HOOKCERT_ACK_DEADLINE=3s", "HOOKCERT_SENDER_TIMEOUT=6s", "HOOKCERT_RETRY_SCHEDULE=250ms,500ms,1s"}
	var printed strings.Builder
	// The exit statuses only show that each run was made: what is judged
	// is what they printed and wrote.
	run := func(want int, args ...string) {
		t.Helper()
		r := hookcert(t, "", env, args...)
		printed.WriteString(r.stdout + r.stderr)
		if r.code != want && (want != 0 || r.code != 1) {
			t.Fatalf("hookcert %s: exit %d, want %d\n%s\n%s", args[0], r.code, want, r.stdout, r.stderr)
		}
	}
	run(1, "conformance", "--url", webhook, "--probe-url", probe, "--report-dir", filepath.Join(root, "conformance"))
	// A load's verdict is not what this test judges: 0 or 1 will do.
	run(0, "load", "--url", webhook, "--probe-url", probe, "--rate", "20", "--duration", "1s", "--report-dir", filepath.Join(root, "load"))
	run(1, "certify", "--url", webhook, "--probe-url", probe, "--labels", "robustness", "--rate", "20", "--duration", "1s",
		"--report-dir", filepath.Join(root, "certify"))
	run(0, "summary", filepath.Join(root, "conformance"))
	run(0, "report", "--from", filepath.Join(root, "conformance"), "--from", filepath.Join(root, "load"), "--out", filepath.Join(root, "merged"))
	// A run that cannot be made names the URL too.
	run(2, "conformance", "--url", strings.Replace(webhook, "127.0.0.1", "127.0.0.1:1", 1), "--report-dir", filepath.Join(root, "unmade"))

	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range []string{key, pass, user} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds %q", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{key, pass, user} {
		if strings.Contains(printed.String(), s) {
			t.Errorf("the console holds %q", s)
		}
	}
	// The runs reached the receiver and found its faults: the key was
	// sent, only never shown.
	for _, want := range []string{"FAIL ROB-01", "code=[redacted]"} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("the console lacks %q: the runs did not reach the receiver as intended", want)
		}
	}
	if files < 15 {
		t.Errorf("only %d files were written", files)
	}
}

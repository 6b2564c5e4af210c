package report_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/probe"
	"github.com/realm-ai/hookcert/harness/report"
)

// resendRE finds the re-send commands of a page, by the check ID and
// exchange number in their id.
var resendRE = regexp.MustCompile(`<pre id="resend-([^"]+)">([^<]*)</pre>`)

// commands returns the re-send commands of a page as a reader copies
// them, keyed "ID-N".
func commands(page []byte) map[string]string {
	out := map[string]string{}
	for _, m := range resendRE.FindAllSubmatch(page, -1) {
		out[string(m[1])] = html.UnescapeString(string(m[2]))
	}
	return out
}

// curlPath returns the curl binary, or skips: .ci/run installs it.
func curlPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("curl")
	if err != nil {
		missingTool(t, "curl is not installed (apt-get install curl; .ci/run installs it)")
	}
	return p
}

// received is a request as the receiver saw it.
type received struct {
	Method, URI, Proto string
	Header             http.Header
	ContentLength      int64
	Body               []byte
}

// recorder answers every request 500, as a failing receiver does, and
// hands what it received to the test.
func recorder() (http.Handler, <-chan received) {
	ch := make(chan received, 4)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- received{r.Method, r.RequestURI, r.Proto, r.Header.Clone(), r.ContentLength, body}
		http.Error(w, "boom", http.StatusInternalServerError)
	}), ch
}

func next(t *testing.T, ch <-chan received) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got no request")
		return received{}
	}
}

// resendRow is a request of a shape the checks send: a delivery the
// sender sends, or a probe call.
type resendRow struct {
	why     string
	attempt delivery.Attempt
	probe   bool
}

// resendRows returns the requests TestResendIsExact sends, each re-sent
// with the command the page offers for it.
func resendRows() []resendRow {
	empty := ""
	return []resendRow{
		{why: "a signed delivery, as most checks send", attempt: delivery.Attempt{Body: []byte(`{"eventId":"evt_1","eventType":"job.completed"}`), EventID: "evt_1", EventType: "job.completed"}},
		{why: "quotes, $, backquotes, backslashes and newlines the shell must leave alone", attempt: delivery.Attempt{Body: []byte("{\"a\":\"it's \\\"q\\\" $HOME `id` \\\\n\",\n  \"b\": '\\''\n}\n"), EventID: "evt_2", EventType: "job.failed", Number: 3}},
		{why: "SIG-10's multi-byte UTF-8 text", attempt: delivery.Attempt{Body: []byte(`{"errorMessage":"Le modèle a refusé l'invite « portrait » — réessayez 🎨"}`), EventID: "evt_3", EventType: "job.failed"}},
		{why: "a body that starts with @, which curl would read as a file name", attempt: delivery.Attempt{Body: []byte("@/etc/hostname"), EventID: "evt_4", EventType: "job.completed"}},
		{why: "ACK-09's 100 KiB event, longer than the excerpt: sent from its file", attempt: delivery.Attempt{Body: append([]byte(`{"pad":"`), append(bytes.Repeat([]byte("é"), 50<<10), `"}`...)...), EventID: "evt_5", EventType: "job.failed"}},
		{why: "a carriage return, which a page cannot carry: sent from its file", attempt: delivery.Attempt{Body: []byte("{\"a\":1}\r\n"), EventID: "evt_6", EventType: "job.completed"}},
		{why: "ROB-03's signed empty body, declared Content-Length: 0", attempt: delivery.Attempt{Body: []byte{}, EventID: "evt_7", EventType: "job.completed"}},
		{why: "ROB-04's GET, with the event as its body", attempt: delivery.Attempt{Method: http.MethodGet, Body: []byte(`{"eventId":"evt_8"}`), EventID: "evt_8", EventType: "job.completed"}},
		{why: "SIG-05's empty signature header, which curl must send empty, not drop", attempt: delivery.Attempt{Body: []byte(`{"eventId":"evt_9"}`), EventID: "evt_9", EventType: "job.completed", Signature: &empty}},
		{why: "RETRY-01's abandoned attempt", attempt: delivery.Attempt{Body: []byte(`{"eventId":"evt_10"}`), EventID: "evt_10", EventType: "job.completed", Abandon: true}},
		{why: "a probe call, its token read from PROBE_TOKEN", probe: true},
	}
}

// resendServers are the receivers TestResendIsExact sends to, one for
// each HTTP version curl must re-send in, and the sender's setting.
var resendServers = []struct {
	name    string
	start   func(h http.Handler) *httptest.Server
	version harness.HTTPVersion
}{
	{"HTTP/1.1", httptest.NewServer, harness.HTTPAuto},
	{"HTTP/2 over TLS", func(h http.Handler) *httptest.Server {
		srv := httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		return srv
	}, harness.HTTPAuto},
	{"h2c", func(h http.Handler) *httptest.Server {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
		return srv
	}, harness.HTTP2},
}

// TestResendIsExact sends requests of every shape the checks send with
// the real sender (and a probe call with the real probe client) to a
// receiver that answers 500, writes the report of the failed check as a
// run does (scrubbed, then written), runs each command the page offers
// with sh and the real curl, in the report directory, and compares what
// the receiver got: the same method, target, HTTP version, headers and
// body bytes. Over HTTP/1.1, HTTP/2 over TLS and h2c.
func TestResendIsExact(t *testing.T) {
	curlPath(t)
	const secret harness.Secret = "whsec_resend_exact_5c1d"
	const token harness.Secret = "probe_token_resend_77"
	rows := resendRows()
	for _, srvCase := range resendServers {
		t.Run(srvCase.name, func(t *testing.T) {
			h, got := recorder()
			srv := srvCase.start(h)
			defer srv.Close()
			dir := t.TempDir()
			env := append(os.Environ(), "PROBE_TOKEN="+token.Reveal())
			opts := []delivery.Option{delivery.WithHTTPVersion(srvCase.version)}
			popts := []probe.Option{probe.WithToken(token), probe.WithHTTPVersion(srvCase.version)}
			if srv.TLS != nil {
				ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
				caFile := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(caFile, ca, 0o600); err != nil {
					t.Fatal(err)
				}
				env = append(env, "CURL_CA_BUNDLE="+caFile)
				opts = append(opts, delivery.WithCAFile(caFile))
			}
			sender, err := delivery.NewSender(srv.URL+"/hooks/realm?src=test", secret, opts...)
			if err != nil {
				t.Fatal(err)
			}
			pc, err := probe.New(srv.URL+"/_probe", append(popts, probe.WithTLSConfig(sender.TLSConfig()))...)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var evidence []harness.Exchange
			var first []received
			for _, row := range rows {
				var ex harness.Exchange
				if row.probe {
					_, ex, _ = pc.Event(ctx, "evt_probe")
				} else {
					ex = sender.Send(ctx, row.attempt)
				}
				evidence = append(evidence, ex)
				first = append(first, next(t, got))
			}
			r := report.New(srv.URL, report.Settings{HTTPVersion: srvCase.version})
			r.Finish([]harness.Result{{ID: "TEST-01", Title: "t", Level: harness.Must, Category: "test", Verdict: harness.Fail, Evidence: evidence}}, true, nil)
			r.Scrub(secret, token)
			if err := r.Write(dir); err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
			if err != nil {
				t.Fatal(err)
			}
			cmds := commands(page)
			for i, row := range rows {
				cmd := cmds["TEST-01-"+strconv.Itoa(i+1)]
				if cmd == "" {
					t.Errorf("%s: the page offers no command", row.why)
					continue
				}
				// The URL's query value is a credential the report hides;
				// the user puts it back, as the command's note says.
				if !row.probe && !strings.Contains(cmd, "put them back where it says") {
					t.Errorf("%s: the command does not say the URL's credentials were hidden:\n%s", row.why, cmd)
				}
				cmd = strings.ReplaceAll(cmd, "src="+harness.Redacted, "src=test")
				run := exec.Command("sh", "-c", cmd)
				run.Dir, run.Env = dir, env
				out, err := run.CombinedOutput()
				if err != nil {
					t.Errorf("%s: the command failed: %v\n%s\n%s", row.why, err, cmd, out)
					continue
				}
				if !bytes.Contains(out, []byte(" 500")) {
					t.Errorf("%s: curl did not show the receiver's 500:\n%s", row.why, out)
				}
				checkResent(t, row.why, cmd, next(t, got), first[i], evidence[i].Request.Header)
			}
		})
	}
}

// checkResent checks that what curl sent again, running cmd, the page's
// command for the request why, is what the sender sent (want, whose
// evidence recorded its headers): the same method, target, HTTP version,
// headers and body bytes.
func checkResent(t *testing.T, why, cmd string, again, want received, recorded http.Header) {
	t.Helper()
	// Go's transport adds what the evidence never recorded (the probe
	// client's Accept-Encoding: gzip); curl must add nothing.
	for k := range want.Header {
		if k != "Content-Length" && recorded.Values(k) == nil {
			want.Header.Del(k)
		}
	}
	if again.Method != want.Method || again.URI != want.URI || again.Proto != want.Proto || again.ContentLength != want.ContentLength {
		t.Errorf("%s: curl sent %s %s %s (length %d), the sender %s %s %s (length %d)\n%s", why,
			again.Method, again.URI, again.Proto, again.ContentLength, want.Method, want.URI, want.Proto, want.ContentLength, cmd)
	}
	if !equalHeaders(again.Header, want.Header) {
		t.Errorf("%s: curl sent the headers\n%v\nthe sender\n%v\n%s", why, again.Header, want.Header, cmd)
	}
	if !bytes.Equal(again.Body, want.Body) {
		t.Errorf("%s: curl sent a body of %d bytes that differs from the sender's %d\n%s", why, len(again.Body), len(want.Body), cmd)
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, vs := range a {
		if strings.Join(vs, "\n") != strings.Join(b[k], "\n") || b[k] == nil {
			return false
		}
	}
	return true
}

// TestResendCommands covers what a command says beside the request, and
// what it leaves out, for exchanges the servers above do not produce.
func TestResendCommands(t *testing.T) {
	signed := http.Header{"Content-Type": {"application/json"}, "User-Agent": {harness.UserAgent}, "X-Webhook-Signature": {"t=1,v1=ab"}}
	post := func(url, proto string) harness.Exchange {
		return harness.Exchange{Attempt: 1, Proto: proto, Request: harness.Request{Method: "POST", URL: url, Header: signed, Body: "{}", BodySize: 2}}
	}
	with := func(ex harness.Exchange, edit func(*harness.Exchange)) harness.Exchange {
		ex.Request.Header = ex.Request.Header.Clone()
		edit(&ex)
		return ex
	}
	const https, http1 = "https://hooks.example.com/realm", "http://127.0.0.1:8080/webhook"
	for _, tc := range []struct {
		why      string
		ex       harness.Exchange
		settings report.Settings
		verdict  harness.Verdict
		want     []string
		not      []string
	}{
		{why: "HTTP/2 over TLS is offered again, as the sender offered it", ex: post(https, "HTTP/2.0"), want: []string{"curl -sS -i --globoff --http2 -X POST 'https://hooks.example.com/realm'"}},
		{why: "h2c over http:// is spoken with prior knowledge, as the sender speaks it", ex: post(http1, "HTTP/2.0"), want: []string{" --http2-prior-knowledge "}},
		{why: "an HTTP/1.1 exchange stays HTTP/1.1", ex: post(https, "HTTP/1.1"), want: []string{" --http1.1 "}},
		{why: "no answer shows no version: curl negotiates as the sender did", ex: post(https, ""), not: []string{"--http"}},
		{why: "no answer under HTTP_VERSION=2 speaks HTTP/2", ex: post(https, ""), settings: report.Settings{HTTPVersion: harness.HTTP2}, want: []string{" --http2 "}},
		{why: "an insecure run offers -k in a comment, never in the command", ex: post(https, "HTTP/2.0"), settings: report.Settings{Insecure: true},
			want: []string{"# The run did not verify certificates (INSECURE=1): add -k if curl refuses this one."}, not: []string{" -k \\", "-i -k", "--insecure"}},
		{why: "a delivery's signature goes stale: the command says so and how to sign again", ex: post(https, "HTTP/2.0"), want: []string{"refuses it once it is over 300 s old; hookcert sign makes a fresh signature header"}},
		{why: "a probe call carries no signature to go stale", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Attempt = 0 }), not: []string{"300 s"}},
		{why: "a body the report holds only an excerpt of is not sent as if whole", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Request.Body, ex.Request.BodySize = strings.Repeat("a", 4096), 10000 }),
			want: []string{"# NOT EXACT: the report holds 4096 of the 10000 body bytes sent; this sends those 4096."}},
		{why: "ROB-05's generated 5 MiB body is not kept, and the command says so", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Request.Body, ex.Request.BodySize = strings.Repeat("a", 4096), 5<<20 }),
			want: []string{"# NOT EXACT: bodies over 262144 bytes are not kept, and this one had 5242880; this sends its first 4096 bytes only."}},
		{why: "headers curl writes itself, or that belong to one connection, are curl's", ex: with(post(https, ""), func(ex *harness.Exchange) {
			ex.Request.Header.Set("Content-Length", "2")
			ex.Request.Header.Set("Host", "elsewhere.example.com")
			ex.Request.Header.Set("Connection", "close")
			ex.Request.Header.Set("Transfer-Encoding", "chunked")
		}), not: []string{"Content-Length", "Host:", "Connection", "Transfer-Encoding"}},
		{why: "a header that is empty on purpose is sent empty, not dropped", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Request.Header.Set("X-Webhook-Signature", "") }),
			want: []string{"-H 'X-Webhook-Signature;'"}},
		{why: "a single quote in a header is escaped for the shell", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Request.Header.Set("X-Note", "it's") }),
			want: []string{`-H 'X-Note: it'\''s'`}},
		{why: "redacted URL credentials are read from the environment, never printed", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Request.Header.Set("Authorization", "Basic "+harness.Redacted) }),
			want: []string{`-H "Authorization: ${AUTHORIZATION:?set AUTHORIZATION to the Authorization value}"`, "# The report never holds credentials"}},
		{why: "a GET without a body sends no data", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Request.Method, ex.Request.Body, ex.Request.BodySize = "GET", "", 0 }),
			want: []string{"-X GET"}, not: []string{"--data"}},
		{why: "a body a page cannot carry is read from a file beside it", ex: with(post(https, ""), func(ex *harness.Exchange) { ex.Request.Body, ex.Request.BodySize = "a\r\nb", 4 }),
			want: []string{"--data-binary @request-TEST-01-1.body", "# Run it in the report directory"}},
		{why: "a warning is reproduced as a failure is", ex: post(https, ""), verdict: harness.Warn, want: []string{"curl -sS -i"}},
		{why: "a passing check has nothing to reproduce", ex: post(https, "HTTP/2.0"), verdict: harness.Pass},
	} {
		t.Run(tc.why, func(t *testing.T) {
			v := tc.verdict
			if v == "" {
				v = harness.Fail
			}
			r := report.New(https, tc.settings)
			r.Finish([]harness.Result{{ID: "TEST-01", Title: "t", Level: harness.Must, Category: "test", Verdict: v, Evidence: []harness.Exchange{tc.ex}}}, true, nil)
			page, err := r.HTML()
			if err != nil {
				t.Fatal(err)
			}
			cmd, ok := commands(page)["TEST-01-1"]
			if ok != (v != harness.Pass) {
				t.Fatalf("a %s check offers a command: %v, want %v", v, ok, v != harness.Pass)
			}
			for _, w := range tc.want {
				if !strings.Contains(cmd, w) {
					t.Errorf("the command lacks %q:\n%s", w, cmd)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(cmd, n) {
					t.Errorf("the command holds %q:\n%s", n, cmd)
				}
			}
			if label := `<h5>Re-send this request</h5><pre id="resend-TEST-01-1">`; ok && !strings.Contains(string(page), label) {
				t.Errorf("the command is not labelled %q", label)
			}
		})
	}
}

// TestResendNeverShowsTheSecret plants the secret where a receiver's echo
// or a bug could put it, in a header and in a body that is only excerpted
// (so the command reads it from a file), scrubs the report as a run does,
// writes it and renders it again from report.json: no file holds the
// secret, and the commands show the redaction in its place.
func TestResendNeverShowsTheSecret(t *testing.T) {
	const secret harness.Secret = "whsec_resend_never_3f9a"
	long := strings.Repeat("x", 5000) + secret.Reveal() + "\n"
	ex := harness.Exchange{Attempt: 1, Request: harness.Request{
		Method: "POST", URL: "https://hooks.example.com/realm",
		Header: http.Header{"X-Echo": {"a " + secret.Reveal()}, "X-Webhook-Signature": {"t=1,v1=ab"}},
		Body:   long[:4096], BodySize: len(long),
	}}
	ex.Request.KeepBody([]byte(long))
	short := harness.Exchange{Attempt: 1, Request: harness.Request{Method: "POST", URL: "https://hooks.example.com/realm", Body: `{"s":"` + secret.Reveal() + `"}`, BodySize: 32}}
	r := report.New("https://hooks.example.com/realm", report.Settings{})
	r.Finish([]harness.Result{{ID: "SIG-09", Title: "t", Level: harness.Must, Category: "signature", Verdict: harness.Fail, Evidence: []harness.Exchange{ex, short}}}, true, nil)
	r.Scrub(secret)
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	writeAgain(t, dir)
	assertNoSecret(t, dir, secret.Reveal())
	page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	cmds := commands(page)
	if c := cmds["SIG-09-1"]; !strings.Contains(c, "-H 'X-Echo: a "+harness.Redacted+"'") || !strings.Contains(c, "@request-SIG-09-1.body") {
		t.Errorf("the command of the long body does not show the redacted header and read its file:\n%s", c)
	}
	body, err := os.ReadFile(filepath.Join(dir, "request-SIG-09-1.body"))
	if err != nil || !strings.Contains(string(body), harness.Redacted) {
		t.Errorf("the body file does not show where the secret was (%v)", err)
	}
	if c := cmds["SIG-09-2"]; !strings.Contains(c, harness.Redacted) {
		t.Errorf("the command of the short body does not show where the secret was:\n%s", c)
	}
}

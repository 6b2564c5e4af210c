package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
)

// recorder is a loopback receiver that checks every delivery's signature
// and remembers the eventIds it acknowledged.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	ids    []string
	bad    int
	answer int
	delay  time.Duration
	verify func(h http.Header, body []byte, now time.Time) error
}

func newRecorder(t *testing.T, answer int, delay time.Duration) *recorder {
	t.Helper()
	r := &recorder{answer: answer, delay: delay, verify: realmVerifier(t)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		if req.URL.Path != "/webhook" || r.verify(req.Header, body, time.Now()) != nil {
			r.bad++
		} else {
			r.ids = append(r.ids, req.Header.Get(harness.HeaderID))
		}
		r.mu.Unlock()
		time.Sleep(r.delay)
		if r.answer == http.StatusTemporaryRedirect {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(r.answer)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) seen() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids), r.bad
}

func newTestGenerator(t *testing.T, url string, opts ...Option) *Generator {
	t.Helper()
	g, err := NewGenerator(url, testSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

func TestAttack(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, http.StatusAccepted, 0)
	// Credentials in the URL must not reach the results file.
	target := strings.Replace(rec.URL, "http://", "http://hook:s3cret@", 1) + "/webhook"
	g := newTestGenerator(t, target, WithAttacker("gen-a"))
	var buf bytes.Buffer
	run, err := g.attackFor(context.Background(), 50, time.Second, vegeta.NewEncoder(&buf))
	if err != nil {
		t.Fatal(err)
	}
	ids, bad := rec.seen()
	if bad != 0 {
		t.Fatalf("%d deliveries did not verify or went elsewhere", bad)
	}
	n := run.Metrics.firstAttempts()
	if n > 50 || n < 45 || len(ids) != n {
		t.Fatalf("%d results and %d deliveries received, want the same, at most rate × duration = 50", n, len(ids))
	}
	// Every result is in the file, named after the attacker, without
	// headers and, for a 2xx, without body.
	dec := vegeta.NewDecoder(&buf)
	decoded := 0
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		decoded++
		if r.Attack != "gen-a" || r.Code != http.StatusAccepted || r.Headers != nil || r.Body != nil || strings.Contains(r.URL, "s3cret") {
			t.Fatalf("result %+v", r)
		}
	}
	if decoded != n {
		t.Fatalf("%d results in the file, want %d", decoded, n)
	}
	// The sample holds exactly the acknowledged events (fewer than the
	// sample size).
	got := slices.Sorted(slices.Values(run.Acknowledged))
	slices.Sort(ids)
	if run.sampled() || !slices.Equal(got, ids) {
		t.Fatalf("acknowledged %d ids (sampled %v), want the %d the receiver saw", len(got), run.sampled(), len(ids))
	}
	l := run.load()
	if l.Success != 1 || l.Rate != 50 || l.Attackers[0] != "gen-a" || len(l.OverTime) == 0 {
		t.Fatalf("load section %+v", l)
	}
	if h := Headline(l); !strings.Contains(h, "at 50/s by gen-a") || !strings.Contains(h, "100.00 % answered 2xx") {
		t.Fatalf("headline %q", h)
	}
}

// TestAttackRedirectIsAFailure: vegeta counts a 3xx as a success and may
// follow it; REALM does neither.
func TestAttackRedirectIsAFailure(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, http.StatusTemporaryRedirect, 0)
	g := newTestGenerator(t, rec.URL+"/webhook", WithRetries(shortSchedule))
	run, err := g.attackFor(context.Background(), 20, 500*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, bad := rec.seen(); bad != 0 {
		t.Fatalf("%d requests reached another path: a redirect was followed", bad)
	}
	l := run.load()
	if l.Success != 0 || run.AcknowledgedTotal != 0 {
		t.Fatalf("success %v and %d acknowledged, want none: 307 is not an acknowledgement", l.Success, run.AcknowledgedTotal)
	}
	if r := evaluate(l, false)[1]; r.Verdict != harness.Fail || !strings.Contains(r.Observed, "307") {
		t.Fatalf("LOAD-02 %s: %s", r.Verdict, r.Observed)
	}
}

// TestAttackKeepsTheSecretOutOfResults: a receiver that echoes the secret
// in its status line and body must not get it into the metrics or the
// results file.
func TestAttackKeepsTheSecretOutOfResults(t *testing.T) {
	t.Parallel()
	raw := testSecret.Reveal()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		body := "expected key " + raw
		fmt.Fprintf(buf, "HTTP/1.1 500 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", raw, len(body), body)
		_ = buf.Flush()
	}))
	defer srv.Close()
	g := newTestGenerator(t, srv.URL+"/webhook", WithRetries(shortSchedule))
	var gob bytes.Buffer
	run, err := g.attackFor(context.Background(), 20, 300*time.Millisecond, vegeta.NewEncoder(&gob))
	if err != nil {
		t.Fatal(err)
	}
	l := run.load()
	if l.Requests == 0 || l.Success != 0 {
		t.Fatalf("%d requests, success %v: want every one a failure", l.Requests, l.Success)
	}
	text, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), raw) || bytes.Contains(gob.Bytes(), []byte(raw)) {
		t.Fatal("the echoed secret reached the load figures or the results file")
	}
}

func TestAttackSenderTimeout(t *testing.T) {
	t.Parallel()
	// The receiver answers after 3 s, so an attempt that was not abandoned
	// at the 200 ms timeout cannot pass for one a busy machine made late.
	rec := newRecorder(t, http.StatusOK, 3*time.Second)
	g := newTestGenerator(t, rec.URL+"/webhook", WithTimeout(200*time.Millisecond), WithRetries(nil))
	run, err := g.attackFor(context.Background(), 10, 500*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := run.load()
	if l.PastTimeout != l.Requests || l.Requests == 0 || l.Success != 0 {
		t.Fatalf("%d of %d past the timeout, success %v: want every one abandoned", l.PastTimeout, l.Requests, l.Success)
	}
	if d := time.Duration(l.Latencies.Max); d > 1500*time.Millisecond {
		t.Fatalf("max latency %s: the attempt was not abandoned at the 200ms sender timeout", d)
	}
}

func TestAttackStopsWhenCanceled(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, http.StatusOK, 50*time.Millisecond)
	g := newTestGenerator(t, rec.URL+"/webhook")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	run, err := g.attackFor(ctx, 50, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Interrupted || time.Since(start) > 5*time.Second {
		t.Fatalf("interrupted %v after %s: the attack did not stop with its context", run.Interrupted, time.Since(start))
	}
}

func TestAttackRefusesUnsafeLoad(t *testing.T) {
	rec := newRecorder(t, http.StatusOK, 0)
	g := newTestGenerator(t, rec.URL+"/webhook", WithLimits(Limits{MaxRate: 100, MaxDuration: time.Minute}))
	cases := []struct {
		why          string
		rate         int
		d            time.Duration
		setting      LimitSetting
		asked, limit int64
		want         string
	}{
		{"over the rate limit", 101, time.Second, LimitRate, 101, 100, "above the safety limit of 100/s"},
		{"over the duration limit", 10, 2 * time.Minute, LimitDuration, int64(2 * time.Minute), int64(time.Minute), "above the safety limit of 1m0s"},
		{"an attack without end", 10, 0, LimitDuration, 0, 0, "ends by itself"},
		{"no rate", 0, time.Second, LimitRate, 0, 0, "positive"},
	}
	for _, c := range cases {
		run, err := g.attackFor(context.Background(), c.rate, c.d, nil)
		var le *LimitError
		if !errors.Is(err, errUnsafe) || run != nil || !errors.As(err, &le) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: run %v, error %v: want a LimitError (errUnsafe) mentioning %s", c.why, run, err, c.want)
			continue
		}
		if le.Setting != c.setting || le.Asked != c.asked || le.Limit != c.limit {
			t.Errorf("%s: %+v, want setting %d, asked %d, limit %d", c.why, *le, c.setting, c.asked, c.limit)
		}
	}
	if ids, _ := rec.seen(); len(ids) != 0 {
		t.Fatalf("%d deliveries sent by refused attacks", len(ids))
	}
}

func TestReservoir(t *testing.T) {
	r := newReservoir(10, options{seed: 1}.rand())
	for i := range 1000 {
		r.offer(string(rune('a' + i%26)))
	}
	ids, seen := r.sample()
	if len(ids) != 10 || seen != 1000 {
		t.Fatalf("%d kept of %d seen, want 10 of 1000", len(ids), seen)
	}
	// Uniform: over many runs each of 100 offered ids is kept about
	// size/100 of the time.
	counts := make([]int, 100)
	for seed := range uint64(2000) {
		r := newReservoir(10, options{seed: seed}.rand())
		for i := range 100 {
			r.offer(string(rune(i)))
		}
		ids, _ := r.sample()
		for _, id := range ids {
			counts[[]rune(id)[0]]++
		}
	}
	for i, c := range counts {
		if c < 120 || c > 280 { // expected 200
			t.Fatalf("id %d kept %d times of 2000, want about 200: the sample is not uniform", i, c)
		}
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, http.StatusOK, 0)
	for _, live := range []bool{false, true} {
		var out syncBuffer
		g := newTestGenerator(t, rec.URL+"/webhook", WithAttacker("gen-p"), WithProgress(&out, live), withProgressInterval(100*time.Millisecond))
		run, err := g.attackFor(context.Background(), 40, 600*time.Millisecond, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := out.String()
		for _, want := range []string{"gen-p", "requests", "/s", "p99", "errors 0"} {
			if !strings.Contains(s, want) {
				t.Fatalf("live %v: progress %q lacks %q", live, s, want)
			}
		}
		lines := strings.Count(s, "\n")
		switch {
		case live && (!strings.Contains(s, "\r\x1b[K") || lines != 1 || !strings.HasSuffix(s, "\n")):
			t.Fatalf("a live line is redrawn in place and ends once: %q", s)
		case !live && (strings.Contains(s, "\r") || lines < 3):
			t.Fatalf("plain progress is one line per interval: %q", s)
		}
		counts := regexp.MustCompile(`(\d+) requests`).FindAllStringSubmatch(s, -1)
		if last := counts[len(counts)-1][1]; last != strconv.Itoa(run.Metrics.firstAttempts()) {
			t.Fatalf("the last line counts %s requests, want all %d: %q", last, run.Metrics.firstAttempts(), s)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestResultsReadByVegetaCLI writes a results file and runs the vegeta
// command of the pinned version (built from the module cache) on it:
// `vegeta report` must count every result and `vegeta plot` draw them.
func TestResultsReadByVegetaCLI(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, http.StatusAccepted, 0)
	g := newTestGenerator(t, rec.URL+"/webhook", WithAttacker("cli"))
	dir := t.TempDir()
	name := filepath.Join(dir, ResultsFile("cli"))
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	run, err := g.attackFor(context.Background(), 40, 500*time.Millisecond, vegeta.NewEncoder(f))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(dir, "vegeta")
	build := exec.Command("go", "build", "-o", bin, "github.com/tsenart/vegeta/v12")
	// Offline and without touching go.mod: from the module cache, as a
	// dependency of this module.
	build.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("the vegeta command cannot be built offline here (%v: %s); Recompute's tests read the file with vegeta.NewDecoder instead", err, out)
	}
	out, err := exec.Command(bin, "report", "-type", "json", name).Output()
	if err != nil {
		t.Fatalf("vegeta report: %v", err)
	}
	var rep struct {
		Requests    int            `json:"requests"`
		StatusCodes map[string]int `json:"status_codes"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("vegeta report -type json: %v\n%s", err, out)
	}
	if n := run.Metrics.firstAttempts(); rep.Requests != n || rep.StatusCodes["202"] != n {
		t.Fatalf("vegeta report counts %d requests (%v), want %d", rep.Requests, rep.StatusCodes, n)
	}
	plot, err := exec.Command(bin, "plot", name).Output()
	if err != nil || !bytes.Contains(plot, []byte("<html")) || !bytes.Contains(plot, []byte("cli")) {
		t.Fatalf("vegeta plot: %v (%d bytes)", err, len(plot))
	}
}

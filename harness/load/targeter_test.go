package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/schema"
	"github.com/realm-ai/hookcert/harness/signing"
)

const testSecret = harness.Secret("whsec_load_test")

// TestTargeterConcurrent calls one targeter from many goroutines, as
// vegeta's workers do, and checks every target: a valid event of the
// catalogue, a fresh eventId and jobId, createdAt and a signature at the
// clock's time, the REALM headers. Most of the 400 bodies are rewritten
// templates (defaultRebuild), so this is also the proof that rewriting
// keeps events valid and distinct.
func TestTargeterConcurrent(t *testing.T) {
	at := time.Unix(1710083175, 0)
	tr, err := eventTargeter("http://127.0.0.1:1/webhook", testSecret, withClock(func() time.Time { return at }), withSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	targets := make(chan vegeta.Target, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				var tgt vegeta.Target
				if err := tr(&tgt); err != nil {
					t.Error(err)
					return
				}
				targets <- tgt
			}
		}()
	}
	wg.Wait()
	close(targets)

	verify := realmVerifier(t)
	ids, jobs, models, types := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int{}
	for tgt := range targets {
		if tgt.Method != http.MethodPost || tgt.URL != "http://127.0.0.1:1/webhook" {
			t.Fatalf("target %s %s, want POST to the webhook", tgt.Method, tgt.URL)
		}
		if err := schema.Default().ValidateEvent(tgt.Body); err != nil {
			t.Fatalf("the body is not a valid event: %v\n%s", err, tgt.Body)
		}
		h := tgt.Header
		for name, want := range map[string]string{
			harness.HeaderContentType: harness.ContentType,
			harness.HeaderUserAgent:   harness.UserAgent,
			harness.HeaderAttempt:     "1",
		} {
			if got := h.Get(name); got != want {
				t.Fatalf("%s: %q, want %q", name, got, want)
			}
		}
		if err := verify(h, tgt.Body, at); err != nil {
			t.Fatalf("the signature does not verify: %v", err)
		}
		if !strings.HasPrefix(h.Get(harness.HeaderSignature), "t=1710083175,") {
			t.Fatalf("signed at %q, not at the clock's time", h.Get(harness.HeaderSignature))
		}
		if !strings.Contains(string(tgt.Body), `"createdAt":"2024-03-10T15:06:15Z"`) {
			t.Fatalf("createdAt is not the clock's time: %s", tgt.Body)
		}
		id, typ := h.Get(harness.HeaderID), h.Get(harness.HeaderEvent)
		if !strings.Contains(string(tgt.Body), `"eventId":"`+id+`"`) || !strings.Contains(string(tgt.Body), `"eventType":"`+typ+`"`) {
			t.Fatalf("X-Webhook-Id %s and X-Webhook-Event %s do not match the body", id, typ)
		}
		if ids[id] {
			t.Fatalf("eventId %s sent twice", id)
		}
		ids[id] = true
		job := between(string(tgt.Body), `"jobId":"`, `"`)
		if job == "" || jobs[job] {
			t.Fatalf("jobId %q is missing or repeated", job)
		}
		jobs[job] = true
		if strings.HasPrefix(typ, "model.") {
			model := between(string(tgt.Body), `"modelId":"`, `"`)
			if model == "" || models[model] {
				t.Fatalf("modelId %q is missing or repeated", model)
			}
			models[model] = true
		}
		types[typ]++
	}
	if len(ids) != workers*each {
		t.Fatalf("%d targets, want %d", len(ids), workers*each)
	}
	// 400 targets are four turns of the default mix (weights sum to 100):
	// each type exactly four times its weight.
	for _, s := range defaultMix() {
		if types[s.Type] != 4*s.Weight {
			t.Errorf("%s sent %d times, want %d", s.Type, types[s.Type], 4*s.Weight)
		}
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

func TestTargeterMix(t *testing.T) {
	tr, err := eventTargeter("http://x/", testSecret, withMix(mix{{harness.ModelTrainingFailed, 1}, {harness.JobCanceled, 0}}))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		var tgt vegeta.Target
		if err := tr(&tgt); err != nil {
			t.Fatal(err)
		}
		if got := tgt.Header.Get(harness.HeaderEvent); got != harness.ModelTrainingFailed {
			t.Fatalf("sent %s, but the mix has only model.training.failed", got)
		}
	}
}

func TestTargeterRefusesBadSettings(t *testing.T) {
	cases := []struct {
		why    string
		secret harness.Secret
		mix    mix
		want   error
	}{
		{"an unknown type would be a harness bug on every request", testSecret, mix{{"job.archived", 1}}, errInvalidMix},
		{"a mix of zero weights sends nothing", testSecret, mix{{harness.JobQueued, 0}}, errInvalidMix},
		{"a negative weight is meaningless", testSecret, mix{{harness.JobQueued, -1}}, errInvalidMix},
	}
	for _, c := range cases {
		if _, err := eventTargeter("http://x/", c.secret, withMix(c.mix)); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.why, err, c.want)
		}
	}
	if _, err := eventTargeter("http://x/", testSecret, withRebuild(0)); !errors.Is(err, errInvalidOption) {
		t.Errorf("rebuilding every 0 events: error %v, want ErrInvalidOption", err)
	}
	if _, err := eventTargeter("http://x/", "", withMix(defaultMix())); err == nil || !strings.Contains(err.Error(), "signing secret") {
		t.Errorf("an empty secret: error %v, want one that asks for the signing secret", err)
	}
}

// TestRealmSignerHeaders checks every header of a REALM v1 target of the
// fast path, a first delivery from the targeter and a retry from the
// signer: exactly the six headers of a delivery, one value each, the id
// and type those of the body, and a signature that harness/signing
// verifies at the clock's time.
func TestRealmSignerHeaders(t *testing.T) {
	at := time.Unix(1710083175, 0)
	clock := func() time.Time { return at }
	const url = "http://127.0.0.1:1/webhook"
	tr, err := eventTargeter(url, testSecret, withClock(clock), withSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	sign, err := newSigner(url, testSecret, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	verify := realmVerifier(t)
	check := func(tgt vegeta.Target, attempt string) {
		t.Helper()
		if tgt.Method != http.MethodPost || tgt.URL != url {
			t.Fatalf("target %s %s, want POST %s", tgt.Method, tgt.URL, url)
		}
		var ev struct {
			ID   string `json:"eventId"`
			Type string `json:"eventType"`
		}
		if err := json.Unmarshal(tgt.Body, &ev); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			harness.HeaderContentType: harness.ContentType,
			harness.HeaderUserAgent:   harness.UserAgent,
			harness.HeaderID:          ev.ID,
			harness.HeaderEvent:       ev.Type,
			harness.HeaderAttempt:     attempt,
			harness.HeaderSignature:   signing.FormatHeader(at.Unix(), signing.Sign(testSecret, at.Unix(), tgt.Body)),
		}
		if len(tgt.Header) != len(want) {
			t.Fatalf("headers %v, want exactly %v", tgt.Header, want)
		}
		for name, v := range want {
			if got := tgt.Header[name]; len(got) != 1 || got[0] != v {
				t.Fatalf("%s: %q, want [%q]", name, got, v)
			}
		}
		if err := verify(tgt.Header, tgt.Body, at); err != nil {
			t.Fatalf("the signature does not verify: %v", err)
		}
		// The values share one array: appending to one must not write
		// over the next.
		tgt.Header.Add(harness.HeaderID, "evt_other")
		if got := tgt.Header.Get(harness.HeaderEvent); got != ev.Type {
			t.Fatalf("adding to X-Webhook-Id changed X-Webhook-Event to %q", got)
		}
	}
	// Past defaultRebuild, so that both built and rewritten events are
	// seen.
	for i := range defaultRebuild + 10 {
		var tgt vegeta.Target
		if err := tr(&tgt); err != nil {
			t.Fatal(err)
		}
		check(tgt, "1")
		if i%50 == 0 {
			var retry vegeta.Target
			sign(&retry, tgt.Body, tgt.Header.Get(harness.HeaderID), tgt.Header.Get(harness.HeaderEvent), 3)
			check(retry, "3")
		}
	}
}

// TestRewrittenIDs: the identifiers a template's rewriting writes have the
// factory's shape and alphabet, so that they are as valid and as unlikely
// to collide as the factory's own.
func TestRewrittenIDs(t *testing.T) {
	f := events.NewFactory()
	factory := map[rune]bool{}
	// 4000 random letters: each of the 32 is seen but with a chance of
	// about e^-127 of missing.
	for range 200 {
		_, rnd, _ := strings.Cut(f.NewID("evt"), "_")
		for _, c := range rnd {
			factory[c] = true
		}
	}
	ours := map[rune]bool{}
	for _, c := range idAlphabet {
		ours[c] = true
	}
	if !maps.Equal(factory, ours) {
		t.Fatalf("the factory writes ids of %d letters, the targeter of %q", len(factory), idAlphabet)
	}
	ev, err := f.New(harness.ModelTrainingCompleted)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := newTemplate(ev)
	if err != nil {
		t.Fatal(err)
	}
	body, id := tpl.instance(new(source).stampOf(time.Now()))
	for _, old := range []string{ev.ID, ev.JobID, ev.ModelID} {
		prefix, _, _ := strings.Cut(old, "_")
		fresh := between(string(body), `"`+prefix+"_", `"`)
		if strings.Contains(string(body), old) || len(fresh) != events.IDLength || strings.Trim(fresh, idAlphabet) != "" {
			t.Fatalf("%s rewritten as %s_%s in\n%s", old, prefix, fresh, body)
		}
	}
	if want := between(string(body), `"eventId":"`, `"`); string(id) != want {
		t.Fatalf("instance says the eventId is %q, the body %q", id, want)
	}
}

// TestTargeterAllocs holds the targeter to its budget of allocations per
// request (issue "Generator cost": at most 10), the vegeta.Target that
// vegeta allocates for each hit included. The race detector drops some of
// what goes back to a sync.Pool, so it is not counted under it.
func TestTargeterAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector empties the MAC pool at random")
	}
	const budget = 10
	sc, err := signing.Builtin("standard-webhooks")
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]Option{"realm-v1 fast path": nil, "scheme standard-webhooks": {WithScheme(sc)}} {
		tr, err := eventTargeter("http://127.0.0.1:1/webhook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", opts...)
		if err != nil {
			t.Fatal(err)
		}
		// 4096 requests: 32 rebuilds and validations of each template
		// (defaultRebuild) are counted too.
		got := testing.AllocsPerRun(4096, func() {
			var tgt vegeta.Target
			if err := tr(&tgt); err != nil {
				t.Fatal(err)
			}
		})
		if got > budget {
			t.Errorf("%s: %.0f allocations per request, want at most %d", name, got, budget)
		}
	}
}

// raceEnabled reports whether the test binary runs under the race
// detector.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// BenchmarkTargeter is the cost of one request's target: a fresh event and
// its signature; by default (defaultRebuild) mostly a rewritten template, with
// rebuild=1 every event built and validated by the factory.
func BenchmarkTargeter(b *testing.B) {
	run := func(name string, secret harness.Secret, opts ...Option) {
		b.Run(name, func(b *testing.B) {
			tr, err := eventTargeter("http://127.0.0.1:1/webhook", secret, opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				var tgt vegeta.Target
				if err := tr(&tgt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range []int{defaultRebuild, 1} {
		run(fmt.Sprintf("rebuild=%d", n), testSecret, withRebuild(n))
	}
	// Each built-in scheme by the general path (REALM v1 too, to compare
	// with the fast signer above).
	for _, name := range signing.BuiltinSchemes() {
		sc, err := signing.Builtin(name)
		if err != nil {
			b.Fatal(err)
		}
		// A secret that every scheme's key rule takes.
		run("scheme="+name, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WithScheme(sc))
	}
}

// BenchmarkTargeterParallel is BenchmarkTargeter from GOMAXPROCS
// goroutines, as vegeta's workers call it.
func BenchmarkTargeterParallel(b *testing.B) {
	tr, err := eventTargeter("http://127.0.0.1:1/webhook", testSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var tgt vegeta.Target
			if err := tr(&tgt); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestSchemeTargeter: in every built-in scheme, each target verifies with
// the scheme, carries its event id where the acknowledgements are sampled
// from, and has exactly the scheme's headers (HeaderLines) besides
// Content-Type, User-Agent and, where the scheme has no id header,
// X-Webhook-Id; so has a retry signed by the signer, as its attempt.
func TestSchemeTargeter(t *testing.T) {
	const secret harness.Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	at := time.Unix(1710083175, 0)
	clock := func() time.Time { return at }
	for _, name := range signing.BuiltinSchemes() {
		sc, err := signing.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		key, err := sc.KeyOf(secret)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := eventTargeter("http://127.0.0.1:1/webhook", secret, WithScheme(sc), withClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		sign, err := newSigner("http://127.0.0.1:1/webhook", secret, sc, clock)
		if err != nil {
			t.Fatal(err)
		}
		g := &Generator{o: newOptions([]Option{WithScheme(sc)})}
		check := func(tgt vegeta.Target, attempt int) {
			t.Helper()
			if err := sc.Verify([][]byte{key}, tgt.Header, tgt.Body, at); err != nil {
				t.Fatalf("%s: a target does not verify: %v (%v)", name, err, tgt.Header)
			}
			var ev struct {
				ID   string `json:"eventId"`
				Type string `json:"eventType"`
			}
			if err := json.Unmarshal(tgt.Body, &ev); err != nil || tgt.Header.Get(g.idHeader()) != ev.ID {
				t.Fatalf("%s: the id header %s holds %q, the event %q", name, g.idHeader(), tgt.Header.Get(g.idHeader()), ev.ID)
			}
			want := http.Header{}
			want.Set(harness.HeaderContentType, harness.ContentType)
			want.Set(harness.HeaderUserAgent, harness.UserAgent)
			for _, l := range sc.HeaderLines(signing.Delivery{ID: ev.ID, Type: ev.Type, Attempt: attempt, T: at.Unix(), Body: tgt.Body}, key) {
				want.Set(l.Name, l.Value)
			}
			if sc.IDHeader() == "" {
				want.Set(harness.HeaderID, ev.ID)
			}
			if !maps.EqualFunc(tgt.Header, want, slices.Equal) {
				t.Fatalf("%s: headers\n%v\nwant\n%v", name, tgt.Header, want)
			}
		}
		for range 20 {
			var tgt vegeta.Target
			if err := tr(&tgt); err != nil {
				t.Fatal(err)
			}
			check(tgt, 1)
			var retry vegeta.Target
			sign(&retry, tgt.Body, tgt.Header.Get(g.idHeader()), between(string(tgt.Body), `"eventType":"`, `"`), 2)
			check(retry, 2)
		}
	}
}

// realmVerifier verifies a REALM v1 delivery signed with the test secret
// through the built-in scheme file, code the targeter's signing path does
// not share.
func realmVerifier(t *testing.T) func(h http.Header, body []byte, now time.Time) error {
	t.Helper()
	sc, err := signing.Builtin("realm-v1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := sc.KeyOf(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return func(h http.Header, body []byte, now time.Time) error { return sc.Verify([][]byte{key}, h, body, now) }
}

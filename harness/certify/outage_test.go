package certify_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/certify"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/report"
)

// restartingProxy is a TCP proxy on loopback in front of a receiver, which
// goes away once, as a receiver does that restarts mid-run: at its at-th
// accepted connection it closes its listener (new connections are
// refused) and resets every open connection, that one included
// (SetLinger(0), then Close); down later it listens again on the same
// port. The receiver behind it keeps its state, as behind a rolling deploy
// or a supervisor, unless restart, called as the proxy goes away, replaces
// it with a new one to forward to: a process that died with its state.
// The probe, served by the same receiver, goes away with it, as a real
// restart takes it away.
type restartingProxy struct {
	addr    string
	at      int
	down    time.Duration
	restart func() string
	done    chan struct{}

	mu       sync.Mutex
	ln       net.Listener
	backend  string
	open     map[net.Conn]bool
	accepted int
	went     time.Time
}

// newRestartingProxy listens on a free loopback port in front of backend
// (host:port) until the test ends. at 0 never goes away.
func newRestartingProxy(t *testing.T, backend string, at int, down time.Duration, restart func() string) *restartingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &restartingProxy{addr: ln.Addr().String(), at: at, down: down, restart: restart, done: make(chan struct{}),
		ln: ln, backend: backend, open: map[net.Conn]bool{}}
	t.Cleanup(func() {
		close(p.done)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.ln.Close()
		for c := range p.open {
			c.Close()
		}
	})
	go p.serve(ln)
	return p
}

// serve accepts connections on ln until it is closed, and pipes each to
// the receiver; the at-th takes the proxy away.
func (p *restartingProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		p.open[c] = true
		backend, gone := p.backend, p.accepted == p.at
		p.mu.Unlock()
		if gone {
			p.goAway()
			go p.comeBack()
			return
		}
		go p.pipe(c, backend)
	}
}

// goAway closes the listener and resets every open connection.
func (p *restartingProxy) goAway() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.went = time.Now()
	p.ln.Close()
	for c := range p.open {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
	clear(p.open)
}

// comeBack restarts the receiver, if it is to lose its state, and
// listens again on the same port once the outage is over.
func (p *restartingProxy) comeBack() {
	backend := ""
	if p.restart != nil {
		backend = p.restart()
	}
	select {
	case <-p.done:
		return
	case <-time.After(p.down):
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		// The port stays closed: the run then sees an outage to its end,
		// which the test's verdicts show.
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		ln.Close()
		return
	default:
	}
	if backend != "" {
		p.backend = backend
	}
	p.ln = ln
	go p.serve(ln)
}

// pipe copies c to a connection of its own to the receiver and back, until
// either side closes.
func (p *restartingProxy) pipe(c net.Conn, backend string) {
	b, err := net.Dial("tcp", backend)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	p.open[b] = true
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(b, c); b.Close() })
	_, _ = io.Copy(c, b)
	c.Close()
	wg.Wait()
	p.drop(c, b)
}

// drop closes connections and forgets them.
func (p *restartingProxy) drop(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.open, c)
	}
}

// wentAt is when the proxy went away, zero if it did not.
func (p *restartingProxy) wentAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.went
}

// hostPort is the address a URL of srv dials.
func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// outageRun is one certification of the reference receiver through a
// restartingProxy: its report and how long the run took.
type outageRun struct {
	rep  *report.Report
	took time.Duration
	went time.Time
}

// outageLabels selects the checks of the outage tests: those that keep a
// receiver busy with deliveries and probe calls at every moment of a run,
// and the three that judge the whole run. It leaves out the TLS checks,
// which an http:// URL skips, and the robustness checks, whose 5 MiB
// bodies cost CPU and prove nothing here.
const outageLabels = "signature || idempotency || ordering || retry || ACK-10 || ACK-11 || ACK-12"

// certifyThrough certifies a reference receiver over plain HTTP through a
// proxy that goes away at its at-th connection (never for 0) for 2 s;
// with lose, the receiver that comes back is a new one, its state lost.
func certifyThrough(t *testing.T, at int, lose bool) outageRun {
	t.Helper()
	const sec harness.Secret = "whsec_outage"
	start := func() (*receiver.Server, error) {
		return receiver.Start("127.0.0.1:0", receiver.Config{Secrets: []harness.Secret{sec}, Timing: fast}, false)
	}
	var mu sync.Mutex
	srv, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mu.Lock(); defer mu.Unlock(); srv.Close() })
	var restart func() string
	if lose {
		// On the proxy's goroutine: an error is reported, and the proxy
		// then forwards to the receiver that is gone.
		restart = func() string {
			mu.Lock()
			defer mu.Unlock()
			srv.Close()
			next, err := start()
			if err != nil {
				t.Errorf("restarting the receiver: %v", err)
				return ""
			}
			srv = next
			return strings.TrimPrefix(srv.URL, "http://")
		}
	}
	p := newRestartingProxy(t, hostPort(t, srv.URL), at, outageDown, restart)
	base := "http://" + p.addr
	began := time.Now()
	s, err := certify.Conformance(context.Background(), certify.Settings{URL: base + receiver.WebhookPath, ProbeURL: base + receiver.ProbePath,
		Secret: sec, ReportDir: t.TempDir(), Timing: fast, Labels: outageLabels, Concurrency: outageConcurrency}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return outageRun{rep: s.Report, took: time.Since(began), went: p.wentAt()}
}

// outageDown is how long the proxy stays away: a restart's 2 s.
const outageDown = 2 * time.Second

// outageConcurrency runs two checks at once, so that the proxy's 8th
// connection comes while the checks are under way (0.8 to 3.5 s into a run
// of about 9 s), not with the first ones as sixteen at once make it, and
// deliveries come before the outage, one to be named as its lead.
const outageConcurrency = 2

// byVerdict lists the checks of a report with verdict v.
func byVerdict(r *report.Report, v harness.Verdict) []string {
	var out []string
	for _, res := range r.Results {
		if res.Verdict == v {
			out = append(out, res.ID)
		}
	}
	return out
}

// TestAReceiverThatRestartsMidRun certifies the reference receiver
// through a proxy that goes away for 2 s at its 8th connection (a rolling
// deploy, a supervisor's restart), deliveries and probe calls alike. With
// the receiver's state kept, the outage is one finding: ACK-12 fails
// once, naming the window and the delivery sent just before it, the
// checks it met are AFFECTED, no other requirement fails, and the run
// ends within its usual time, measured beside it without an outage, plus
// the outage and a margin. Without the outage, ACK-12 passes and nothing
// is AFFECTED. With the state lost in the restart, the checks whose state
// was lost still fail beside ACK-12: that is the honest verdict.
func TestAReceiverThatRestartsMidRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("certifies three receivers through a proxy")
	}
	runs := map[string]outageRun{}
	var mu sync.Mutex
	// The runs wait on the receiver and the proxy, not on the CPU: all
	// three at once, not -parallel's one per core, so that they share
	// the machine alike and their durations compare.
	var all sync.WaitGroup
	for name, tc := range map[string]struct {
		at   int
		lose bool
	}{"usual": {0, false}, "restart": {8, false}, "restart losing state": {8, true}} {
		all.Go(func() {
			t.Run(name, func(t *testing.T) {
				r := certifyThrough(t, tc.at, tc.lose)
				mu.Lock()
				runs[name] = r
				mu.Unlock()
				t.Logf("%s: %s in %s, %v; FAIL %v; AFFECTED %v", name, r.rep.Overall, r.took.Round(time.Millisecond), r.rep.Counts,
					byVerdict(r.rep, harness.Fail), byVerdict(r.rep, harness.Affected))
			})
		})
	}
	all.Wait()
	if t.Failed() {
		return
	}
	usual, restart, lost := runs["usual"], runs["restart"], runs["restart losing state"]
	if got := byVerdict(usual.rep, harness.Fail); len(got) > 0 || usual.rep.Counts[harness.Affected] > 0 || !usual.went.IsZero() ||
		!slices.Contains(byVerdict(usual.rep, harness.Pass), "ACK-12") {
		t.Errorf("without an outage: FAIL %v, AFFECTED %v; want none of either, ACK-12 passed", got, byVerdict(usual.rep, harness.Affected))
	}
	if restart.went.IsZero() || lost.went.IsZero() {
		t.Fatal("the proxy never went away: the run made fewer than 8 connections")
	}
	if got := byVerdict(restart.rep, harness.Fail); !slices.Equal(got, []string{"ACK-12"}) {
		for _, r := range restart.rep.Results {
			if r.Verdict == harness.Fail {
				t.Logf("%s", report.Failure(r))
			}
		}
		t.Errorf("a restart keeping the state: FAIL %v, want exactly ACK-12", got)
	}
	if restart.rep.Counts[harness.Affected] == 0 || restart.rep.Overall != harness.NotCompliant || restart.rep.ExitCode != 1 {
		t.Errorf("a restart: %d AFFECTED, %s exit %d; want some AFFECTED, NOT COMPLIANT exit 1", restart.rep.Counts[harness.Affected], restart.rep.Overall, restart.rep.ExitCode)
	}
	assertOutageNamed(t, restart.rep)
	if bound := usual.took + outageDown + outageMargin; restart.took > bound {
		t.Errorf("the run with a 2 s outage took %s, want at most %s: the usual %s, the outage and %s", restart.took, bound, usual.took, outageMargin)
	}
	fails := byVerdict(lost.rep, harness.Fail)
	if !slices.Contains(fails, "ACK-12") || len(fails) < 2 {
		t.Errorf("a restart losing the state: FAIL %v, want ACK-12 and the checks whose state was lost", fails)
	}
}

// outageMargin is what a run with an outage may take past its usual time
// and the outage: the checks not started wait out the outage, and those it
// stopped are judged from what was seen, so it takes about the two, but
// two shared cores are no clock.
const outageMargin = 5 * time.Second

// assertOutageNamed checks ACK-12's finding: the window in times and
// counts, the first and the last delivery it met, the lead, the evidence;
// and that each AFFECTED check points to it and keeps its evidence.
func assertOutageNamed(t *testing.T, r *report.Report) {
	t.Helper()
	i := slices.IndexFunc(r.Results, func(res harness.Result) bool { return res.ID == "ACK-12" })
	if i < 0 {
		t.Fatal("no ACK-12 in the report")
	}
	ack := r.Results[i]
	for _, want := range []string{"found no receiver to answer them", "s into the run (deliveries ", "the first, ", "Just before the first came ",
		"(connection refused)", "met the outage and"} {
		if !strings.Contains(ack.Observed, want) {
			t.Errorf("ACK-12 observed %q, want it to say %q", ack.Observed, want)
		}
	}
	if len(ack.Evidence) < 2 {
		t.Errorf("ACK-12 has %d exchanges of evidence, want the lead and the first delivery the outage met at least", len(ack.Evidence))
	}
	for _, res := range r.Results {
		if res.Verdict == harness.Affected && (!strings.Contains(res.Observed, "affected by the outage reported by ACK-12 from ") || len(res.Evidence) == 0) {
			t.Errorf("%s is AFFECTED, observed %q with %d exchanges; want it to point to ACK-12 and keep its evidence", res.ID, res.Observed, len(res.Evidence))
		}
	}
}

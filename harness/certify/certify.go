// Package certify prepares and carries out one certification run: it reads
// the user's settings, starts the bundled reference receiver when no URL is
// given, checks that the run can be made at all (secret, reachable target,
// usable probe, loadable scenarios), runs the selected scenarios through the
// engine and writes the report. The Ginkgo suites, the hookcert command
// and the project's tests drive it; it never exits the process.
//
// It is what a Go program imports to certify a receiver: Conformance runs
// the catalogue, LoadTest a load test or a capacity search, each from
// Settings (start from Defaults, or read them with FromEnv). A receiver
// written in Go is certified from its own tests by serving its handler
// with httptest (ExampleConformance). Package harness/receiver is the
// reference receiver, and harness/report reads and renders reports; the
// other packages are the suite's own.
package certify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/delivery"
	"github.com/realm-ai/hookcert/harness/dial"
	"github.com/realm-ai/hookcert/harness/engine"
	"github.com/realm-ai/hookcert/harness/events"
	"github.com/realm-ai/hookcert/harness/poll"
	"github.com/realm-ai/hookcert/harness/probe"
	"github.com/realm-ai/hookcert/harness/receiver"
	"github.com/realm-ai/hookcert/harness/redact"
	"github.com/realm-ai/hookcert/harness/report"
	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/signing"
)

func cannotRun(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCannotRun, fmt.Sprintf(format, args...))
}

// Session is one prepared run.
type Session struct {
	// Settings are the run's settings, defaults filled in.
	Settings Settings
	// Report is filled as the run goes; it exists even when prepare fails.
	Report    *report.Report
	Engine    *engine.Engine
	Scenarios []*scenario.Scenario
	// notRun notes the slow checks the labels leave out, for a
	// conformance run's report.
	notRun []string
	// ReportDir is where the reports go.
	ReportDir string
	// Secret is the secret in use (generated for the reference receiver),
	// so tests can check that no report contains it.
	Secret harness.Secret
	// URL and ProbeURL are the resolved target (the reference receiver's
	// when no URL was given); Sender and Probe reach it with the run's
	// trust settings (Probe is nil without a probe). The load test uses
	// them.
	URL, ProbeURL string
	// ProbeToken is scrubbed from the report like the secret.
	ProbeToken harness.Secret
	Sender     *delivery.Sender
	Probe      *probe.Client

	ref *receiver.Server
	// tls is the run's trust: system roots, CA_CERT and the reference
	// receiver's certificate, without verification under INSECURE=1 or
	// when the certificate did not verify.
	tls *tls.Config
}

// prepare checks the settings and readies the run. On error it still
// returns a Session whose Report can be written; the error wraps
// ErrCannotRun.
func prepare(ctx context.Context, set Settings) (*Session, error) {
	set = set.withDefaults()
	s := &Session{Settings: set, ReportDir: set.ReportDir, Secret: set.Secret, ProbeToken: set.ProbeToken}
	s.Report = report.New(report.Redact(set.URL), set.record())
	err := s.prepare(ctx)
	if err != nil {
		s.close()
	}
	return s, err
}

// record is what the report says of the settings: each recorded row of
// the settings table writes its part.
func (set Settings) record() report.Settings {
	var r report.Settings
	for _, o := range Options() {
		if o.Recorded {
			o.record(&set, &r)
		}
	}
	return r
}

func (s *Session) prepare(ctx context.Context) error {
	o := &s.Settings
	if err := o.Timing.Validate(); err != nil {
		return cannotRun("%v", err)
	}
	// A run whose report cannot be written is not worth making.
	if err := writable(o.ReportDir); err != nil {
		return o.Bad(SetReportDir, "the reports cannot be written there: %v", err)
	}
	// The roots to trust: nil is the system's, which crypto/tls loads when
	// a handshake first needs them; a CA file or the reference receiver's
	// certificate is added to a copy of them.
	var roots *x509.CertPool
	trust := func(pem []byte) bool {
		if roots == nil {
			if roots, _ = x509.SystemCertPool(); roots == nil {
				roots = x509.NewCertPool()
			}
		}
		return roots.AppendCertsFromPEM(pem)
	}
	if o.CACert != "" {
		caPEM, err := os.ReadFile(o.CACert)
		if err != nil {
			return o.Bad(setCACert, "%v", err)
		}
		if !trust(caPEM) {
			return o.Bad(setCACert, "%s holds no PEM certificate", o.CACert)
		}
	}

	scheme, err := LoadScheme(o.Scheme)
	if err != nil {
		return o.Bad(setScheme, "%v", err)
	}
	// REALM v1 signs by its fast path; another scheme by its file.
	if o.Scheme == "" || o.Scheme == signing.DefaultScheme {
		o.scheme = nil
	} else {
		o.scheme = scheme
		s.Report.Settings.Scheme = scheme.Name
	}
	if o.URL == "" {
		if err := s.startReference(o); err != nil {
			return err
		}
		if len(s.ref.CertPEM) > 0 {
			trust(s.ref.CertPEM)
		}
	} else if len(o.Faults) > 0 {
		return o.Bad(setFaults, "plants bugs in the bundled reference receiver: leave %s empty to use it", o.name(setURL))
	}
	if strings.TrimSpace(o.Secret.Reveal()) == "" {
		return cannotRun("the secret is empty: give it with %s (the environment variable %s keeps it out of logs)", o.name(setSecret), harness.SecretEnv)
	}
	s.Secret = o.Secret
	s.Report.Target = report.Redact(o.URL)
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o.Bad(setURL, "%q is not an http:// or https:// URL of the receiver's webhook", report.Redact(o.URL))
	}
	s.Report.Settings.Probe = o.ProbeURL != ""

	sender, err := s.newSender(ctx, u, roots)
	if err != nil {
		return err
	}

	pc, err := s.newProbe(ctx)
	if err != nil {
		return err
	}
	if err := s.preflight(ctx, sender, pc); err != nil {
		return err
	}
	if err := s.selectCatalogue(); err != nil {
		return err
	}
	s.URL, s.ProbeURL, s.Sender, s.Probe = o.URL, o.ProbeURL, sender, pc

	eng, err := engine.New(engine.Config{
		Sender:      sender,
		Probe:       pc,
		Secret:      o.Secret,
		Scheme:      scheme,
		Timing:      o.Timing,
		Strict:      o.Strict,
		Insecure:    o.Insecure,
		RootCAs:     roots,
		Concurrency: o.Concurrency,
		Volume:      volume(o.DedupeVolume),
		VolumeRate:  o.DedupeRate,
	})
	if err != nil {
		return cannotRun("%v", err)
	}
	s.Engine = eng
	return nil
}

// newSender returns the sender to the target u, once it is reachable, and
// builds the run's trust, which the sender, the probe, the TLS checks and
// the load generator all share: roots, and no verification when the user
// chose none or the certificate did not verify.
func (s *Session) newSender(ctx context.Context, u *url.URL, roots *x509.CertPool) (*delivery.Sender, error) {
	o := &s.Settings
	// Reachable at all? A closed port or an unknown host cannot be
	// certified: that is exit 2, not a failing receiver.
	if err := reachable(ctx, u, o.Timing.SenderTimeout); dial.OutOfFiles(err) {
		return nil, fmt.Errorf("%w: %w", ErrCannotRun, dial.RanOut(err))
	} else if err != nil {
		return nil, cannotRun("the target %s is unreachable: %v; is the receiver running and the URL right?", report.Redact(o.URL), err)
	}
	insecure := o.Insecure
	if u.Scheme == "https" && !insecure {
		if err := verifies(ctx, u, roots, o.Timing.SenderTimeout); err != nil {
			// TLS-02 fails and says why; the other checks still run, without
			// verification, so one bad certificate does not hide the rest
			// of the receiver's behaviour.
			s.Report.Notes = append(s.Report.Notes, fmt.Sprintf(
				"the certificate did not verify (%v): TLS-02 fails, and the other checks ran without certificate verification", err))
			insecure = true
		}
	}
	s.tls = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, InsecureSkipVerify: insecure}
	opts := []delivery.Option{delivery.WithTimeout(o.Timing.SenderTimeout), delivery.WithTLSConfig(s.tls), delivery.WithHTTPVersion(o.HTTPVersion)}
	if o.scheme != nil {
		opts = append(opts, delivery.WithScheme(o.scheme))
	}
	sender, err := delivery.NewSender(o.URL, o.Secret, opts...)
	if err != nil {
		return nil, cannotRun("%v", err)
	}
	return sender, nil
}

// newProbe returns the client of the run's probe, trusted as the webhook
// is, once it answers as a probe must; nil without a probe URL.
func (s *Session) newProbe(ctx context.Context) (*probe.Client, error) {
	o := &s.Settings
	if o.ProbeURL == "" {
		return nil, nil
	}
	opts := []probe.Option{probe.WithTimeout(o.Timing.SenderTimeout),
		probe.WithSettle(o.Timing.Settle), probe.WithWatch(o.Timing.Watch), probe.WithHTTPVersion(o.HTTPVersion),
		probe.WithTLSConfig(s.tls)}
	if o.ProbeToken.Reveal() != "" {
		opts = append(opts, probe.WithToken(o.ProbeToken))
	}
	pc, err := probe.New(o.ProbeURL, opts...)
	if err != nil {
		return nil, o.Bad(setProbeURL, "%v", err)
	}
	// The probe package names no setting; say which one to fix.
	if err := pc.Check(ctx); err != nil {
		return nil, o.Bad(probeSetting(err), "the probe at %s is not usable: %v", report.Redact(o.ProbeURL), err)
	}
	return pc, nil
}

// selectCatalogue sets the session's checks: the catalogue, the slow
// checks left out unless the label filter names them. A slow check waits
// minutes: a conformance run says it was left out (Run), when the filter
// would otherwise have selected it; a load run has nothing to say.
func (s *Session) selectCatalogue() error {
	o := &s.Settings
	scs, notes, err := o.catalogue()
	if err != nil {
		return err
	}
	s.Report.Notes = append(s.Report.Notes, notes...)
	match, _ := o.match()
	for _, sc := range scs {
		if !sc.Runs(o.Labels) && (match == nil || match(Labels(sc))) {
			s.notRun = append(s.notRun, fmt.Sprintf("%s (%s) was not run: it takes minutes; %s=%s or %s=%s runs it",
				sc.ID, scenario.SlowLabel, o.name(setLabels), scenario.SlowLabel, o.name(setLabels), sc.ID))
		}
	}
	s.Scenarios = slices.DeleteFunc(scs, func(sc *scenario.Scenario) bool { return !sc.Runs(o.Labels) })
	return nil
}

// preflight delivers one correctly signed event before the checks. A
// receiver that refuses it with 401 or 403 does not accept the secret the
// run signs with, and one that answers 404 or 405 is not at that URL:
// every check would fail for a reason that is the settings', not the
// receiver's, so the run cannot be made. Any other answer goes on to the
// checks, which will show it.
//
// With a probe, it then waits for the probe to report the event processed.
// Check alone cannot tell a probe from any server that answers 404 to
// everything; a probe that never sees an acknowledged event would make
// every "processed once" check fail for the wrong reason.
func (s *Session) preflight(ctx context.Context, sender *delivery.Sender, pc *probe.Client) error {
	o := &s.Settings
	ev, err := events.NewFactory().New(harness.JobQueued)
	if err != nil {
		return cannotRun("the first delivery could not be built: %v", err)
	}
	ex := sender.Send(ctx, sender.Attempt(ev))
	if st := ex.Status(); st == http.StatusNotFound || st == http.StatusMethodNotAllowed {
		// No receiver answers a correctly signed POST so: the URL names
		// another path (or another server), and every check would fail
		// for that.
		return o.Bad(setURL, "the receiver answered %d to a correctly signed POST of a valid event: check that %s is the path of its webhook (%s)",
			st, o.name(setURL), report.Redact(o.URL))
	}
	if st := ex.Status(); st == http.StatusUnauthorized || st == http.StatusForbidden {
		return o.Bad(setSecret, "the receiver refused a correctly signed delivery with %d: check that it is the secret the receiver verifies with, "+
			"used as it is (no trimming, no decoding), and that %s names the signing scheme it verifies", st, o.name(setScheme))
	}
	if pc == nil || !ex.OK() {
		return nil
	}
	err = poll.Until(ctx, probe.DefaultInterval, time.Now().Add(pc.Settle()), func() (bool, error) {
		st, _, err := pc.Event(ctx, ev.ID)
		return st.Found, err
	})
	switch {
	case errors.Is(err, probe.ErrProbe):
		return o.Bad(probeSetting(err), "the probe at %s is not usable: %v", report.Redact(o.ProbeURL), err)
	case ctx.Err() != nil:
		return cannotRun("interrupted before the checks began")
	case err != nil:
		// The settle time passed.
		return o.Bad(setProbeURL, "the probe at %s never reported event %s, which the receiver acknowledged, within %s: "+
			"is it the probe of this receiver? If the receiver processes later than that, raise %s",
			report.Redact(o.ProbeURL), ev.ID, pc.Settle(), o.name(SetSettle))
	}
	return nil
}

// probeSetting is the setting to fix for a probe that is not usable: the
// token when the probe refused it, else the probe URL.
func probeSetting(err error) Setting {
	if errors.Is(err, probe.ErrUnauthorized) {
		return setProbeToken
	}
	return setProbeURL
}

// placeholder returns a session for a run whose settings could not even be
// read, so that a report saying why is still written into set.ReportDir.
func placeholder(set Settings) *Session {
	target := set.URL
	if target == "" {
		target = "(the bundled reference receiver)"
	}
	return &Session{Settings: set, ReportDir: set.ReportDir, Secret: set.Secret, ProbeToken: set.ProbeToken,
		Report: report.New(target, report.Settings{Reference: set.URL == ""})}
}

// Catalogue returns the checks of a run: the built-in scenarios, merged with
// the user's directory when Scenarios is not empty (a user's scenario
// replaces the built-in one of the same ID). Errors wrap ErrCannotRun.
// The conformance suite calls it while it builds its spec tree.
func (set Settings) Catalogue() ([]*scenario.Scenario, error) {
	scs, _, err := set.catalogue()
	return scs, err
}

// catalogue is Catalogue with notes saying which built-in checks a user's
// scenario replaced.
func (set *Settings) catalogue() ([]*scenario.Scenario, []string, error) {
	dir := set.Scenarios
	scs, err := scenario.Builtin()
	if err != nil {
		return nil, nil, cannotRun("built-in scenarios: %v", err)
	}
	if dir == "" {
		return scs, nil, nil
	}
	own, err := scenario.LoadDir(dir)
	if err != nil {
		return nil, nil, set.Bad(setScenarios, "%v", err)
	}
	merged, replaced, err := scenario.Merge(scs, own)
	if err != nil {
		return nil, nil, set.Bad(setScenarios, "%v", err)
	}
	var notes []string
	for _, r := range replaced {
		notes = append(notes, fmt.Sprintf("%s: %s from %s replaces the built-in check of the same ID", set.name(setScenarios), r.New.ID, r.New.Source))
	}
	return merged, notes, nil
}

// startReference starts the bundled reference receiver on a free loopback
// port, over HTTPS with a generated certificate, with a generated secret.
func (s *Session) startReference(o *Settings) error {
	if o.Secret.Reveal() == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return cannotRun("generating a secret: %v", err)
		}
		// Base64 after whsec_, so that every scheme takes it as a key.
		o.Secret = harness.Secret("whsec_" + base64.StdEncoding.EncodeToString(b))
	}
	srv, err := receiver.Start("127.0.0.1:0", receiver.Config{
		Secrets: []harness.Secret{o.Secret},
		Faults:  o.Faults,
		Timing:  o.Timing,
		Delays:  o.FaultDelays,
		Scheme:  o.scheme,
	}, !o.PlainHTTP)
	if err != nil {
		return cannotRun("starting the reference receiver: %v", err)
	}
	s.ref = srv
	o.URL = srv.WebhookURL
	if o.ProbeURL == "" {
		o.ProbeURL = srv.ProbeURL
	}
	return nil
}

// run runs the given scenarios (normally a selection of s.Scenarios). The
// report notes the slow checks the labels left out.
func (s *Session) run(ctx context.Context, scs []*scenario.Scenario) []harness.Result {
	s.Report.Notes = append(s.Report.Notes, s.notRun...)
	s.notRun = nil
	return s.Engine.RunAll(ctx, scs)
}

// finish records the results and writes report.json and index.html.
// complete says whether every selected check ran; runErr is why the run
// could not be made, if it could not.
func (s *Session) finish(results []harness.Result, complete bool, runErr error) error {
	s.Report.Finish(results, complete, runErr)
	s.Report.Scrub(s.Secret, s.ProbeToken)
	// The URLs as the user gave them: a key in the query or the userinfo
	// is as secret as the signing secret.
	s.Report.ScrubURLs(redact.NewURLs(s.Settings.URL, s.Settings.ProbeURL))
	return s.Report.Write(s.ReportDir)
}

// close stops the reference receiver, if one was started.
func (s *Session) close() {
	// Idle keep-alive connections would make the reference receiver's
	// graceful shutdown wait for them.
	s.closeIdle()
	if s.ref != nil {
		s.ref.Close()
		s.ref = nil
	}
}

// closeIdle closes the sender's and the probe's kept-alive connections.
func (s *Session) closeIdle() {
	if s.Probe != nil {
		s.Probe.CloseIdleConnections()
	}
	if s.Sender != nil {
		s.Sender.CloseIdleConnections()
	}
}

// writable makes dir if need be and checks that a file can be written in
// it.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".hookcert-write-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func reachable(ctx context.Context, u *url.URL, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", dial.HostPort(u))
	if errors.Is(err, syscall.ECONNRESET) {
		// Something listens there and reset the connection at once: a
		// receiver that misbehaves, which the checks will show, not a
		// target that is not there.
		return nil
	}
	if err != nil {
		return err
	}
	return c.Close()
}

func verifies(ctx context.Context, u *url.URL, roots *x509.CertPool, timeout time.Duration) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: &tls.Config{RootCAs: roots, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", dial.HostPort(u))
	if err != nil {
		var ce *tls.CertificateVerificationError
		if errors.As(err, &ce) {
			return err
		}
		// Not a certificate problem (plain HTTP on an https URL, say):
		// TLS-01 reports it; nothing to change here.
		return nil
	}
	return c.Close()
}

// volume is the engine's burst size for DEDUPE_VOLUME: none for 0, which
// the engine would read as its default.
func volume(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

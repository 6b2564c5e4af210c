package certify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/load"
)

// LoadTest is one whole load run (or capacity search, when search is
// true), as `make load` and `hookcert load` make it: the session
// prepared, the attack made and judged, the reports written. The session
// it returns is closed; its Report is what was written, with the load's
// figures, saying why the run could not be made or did not end, if so.
// The outcome is nil when nothing was sent. The error is only that of
// writing the reports. Started, when set, is called once the session is
// ready, before the attack.
func LoadTest(ctx context.Context, set Settings, search bool, started func(*Session)) (*Session, *load.Outcome, error) {
	ctx, stop := stopOnFiles(ctx)
	defer stop()
	s, err := prepare(ctx, set)
	defer s.close()
	var out *load.Outcome
	if err == nil {
		ready := func() {
			if started != nil {
				started(s)
			}
		}
		if search {
			out, err = s.capacity(ctx, ready)
		} else {
			out, err = s.runLoad(ctx, ready)
		}
	}
	if rerr := ranOut(ctx); err == nil && rerr != nil {
		err = rerr
	}
	s.closeIdle()
	var results []harness.Result
	if out != nil {
		s.Report.Load = out.Load
		results = out.Results
		if err == nil && !out.Complete {
			err = errLoadInterrupted
		}
	}
	return s, out, s.finish(results, err == nil && out != nil, err)
}

// errLoadInterrupted is why a load run that was made did not end.
var errLoadInterrupted = errors.New("interrupted before the load test ended")

// runLoad load-tests the session's target (LOAD-01..04): it attacks at the
// settings' rate for their duration with signed events, streaming the
// results to REPORT_DIR/results-<attacker>.gob, asks the probe (if any)
// about the acknowledged events, and judges. An error wraps ErrCannotRun:
// the run could not be made (or its results not written); the Outcome is
// nil only when nothing was sent.
func (s *Session) runLoad(ctx context.Context, ready func()) (*load.Outcome, error) {
	if err := s.Settings.checkLoad(false); err != nil {
		return nil, err
	}
	set := s.Settings.Load
	return s.attack(ctx, set.Rate, ready, func(g *load.Generator, enc io.Writer) (*load.Outcome, error) {
		return g.Test(ctx, set.Rate, set.Duration, enc, s.Probe, s.Settings.Strict)
	})
}

// capacity searches for the highest rate the session's target
// acknowledges within the deadline: from the settings' rate, doubled up to
// the rate limit, each rate held the step duration. Its outcome holds one
// INFO check, CAP-01. An error wraps ErrCannotRun.
func (s *Session) capacity(ctx context.Context, ready func()) (*load.Outcome, error) {
	if err := s.Settings.checkLoad(true); err != nil {
		return nil, err
	}
	set := s.Settings.Load
	search := load.DefaultSearch()
	search.Start, search.Max, search.Step = set.Rate, set.Limits.MaxRate, set.StepDuration
	// A short step leaves the receiver less to drain before the next.
	search.Cooldown = min(search.Cooldown, set.StepDuration)
	if err := search.Check(set.Limits, s.Settings.Timing.SenderTimeout, s.retrySchedule()); err != nil {
		return nil, s.Settings.unsafe(err)
	}
	return s.attack(ctx, search.Max, ready, func(g *load.Generator, enc io.Writer) (*load.Outcome, error) {
		return g.CapacityCheck(ctx, search, enc)
	})
}

// attack builds the generator for the session's target with its trust and
// timing, checks that the process may open the files an attack at up to
// top per second needs to certify a compliant receiver, opens the results
// file, calls ready, runs do and closes the file. A slower receiver may
// still make it run out: it then stops, and says so.
func (s *Session) attack(ctx context.Context, top int, ready func(), do func(*load.Generator, io.Writer) (*load.Outcome, error)) (*load.Outcome, error) {
	set := s.Settings.Load
	opts := []load.Option{
		load.WithAttacker(set.Attacker),
		load.WithTLSConfig(s.tls),
		load.WithTimeout(s.Settings.Timing.SenderTimeout),
		load.WithAckDeadline(s.Settings.Timing.AckDeadline),
		load.WithSampleSize(set.SampleSize),
		load.WithLimits(set.Limits),
		load.WithScheme(s.Settings.scheme),
		load.WithRetries(s.retrySchedule()),
		load.WithHTTPVersion(s.Settings.HTTPVersion),
	}
	if set.Progress != nil {
		opts = append(opts, load.WithProgress(set.Progress, set.Live))
	}
	g, err := load.NewGenerator(s.URL, s.Secret, opts...)
	if err != nil {
		return nil, s.cannotRunErr(err)
	}
	defer g.Close()
	at := fmt.Sprintf("%d events/s each answered within the %s ack deadline, as a compliant receiver answers them, and the probe's calls", top, s.Settings.Timing.AckDeadline)
	if err := s.checkFiles(g.InFlight(top), 0, at); err != nil {
		return nil, err
	}
	enc, closeResults, err := s.results(set.Attacker)
	if err != nil {
		return nil, err
	}
	ready()
	out, err := do(g, enc)
	if cerr := closeResults(); err == nil && cerr != nil {
		err = fmt.Errorf("load: writing the results: %w", cerr)
	}
	if err != nil {
		return out, s.cannotRunErr(err)
	}
	return out, nil
}

// retrySchedule is the load's retry schedule.
func (s *Session) retrySchedule() []time.Duration {
	return retrySchedule(s.Settings.Timing.RetrySchedule, s.Settings.Load.Retries)
}

// results opens the results file for streaming; close flushes and closes
// it.
func (s *Session) results(attacker string) (io.Writer, func() error, error) {
	if err := os.MkdirAll(s.ReportDir, 0o755); err != nil {
		return nil, nil, s.Settings.Bad(SetReportDir, "%v", err)
	}
	f, err := os.Create(filepath.Join(s.ReportDir, load.ResultsFile(attacker)))
	if err != nil {
		return nil, nil, cannotRun("the results file: %v", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	closeFn := func() error {
		return errors.Join(w.Flush(), f.Close())
	}
	return w, closeFn, nil
}

// cannotRunErr wraps err in ErrCannotRun, in the user's words when it is
// about a safety limit, keeping its own chain (a *load.LimitError) for
// errors.As.
func (s *Session) cannotRunErr(err error) error {
	if errors.Is(err, ErrCannotRun) {
		return err
	}
	if uerr := s.Settings.unsafe(err); errors.Is(uerr, ErrCannotRun) {
		return uerr
	}
	return fmt.Errorf("%w: %w", ErrCannotRun, err)
}

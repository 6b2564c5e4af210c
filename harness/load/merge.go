package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/realm-ai/hookcert/harness"
	"github.com/realm-ai/hookcert/harness/report"
)

// ErrNoResults means a results file named by a report could not be read,
// so the figures could not be recomputed from the raw results.
var ErrNoResults = errors.New("results file unavailable")

// Recompute reads vegeta results files (gob, as the load test writes them;
// from one generator or several) and returns the measured side of their
// load section, exactly as if one attack had made every request: the time
// slices start at the earliest request of any file. It makes two passes
// and keeps no result, so memory does not grow with the files. A file cut
// short (an interrupted run) counts up to where it ends.
func Recompute(files []string, senderTimeout, ackDeadline time.Duration) (*report.Load, error) {
	var first, last time.Time
	var attackers []string
	err := eachResult(files, func(r *vegeta.Result) {
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if r.Timestamp.After(last) {
			last = r.Timestamp
		}
		if !slices.Contains(attackers, r.Attack) && len(attackers) < 1000 {
			attackers = append(attackers, r.Attack)
		}
	})
	if err != nil {
		return nil, err
	}
	m := NewMetrics(first, last.Sub(first), senderTimeout, ackDeadline)
	if err := eachResult(files, m.Add); err != nil {
		return nil, err
	}
	l := m.Load()
	l.Attackers = attackers
	return l, nil
}

// eachResult decodes every result of the files in turn.
func eachResult(files []string, fn func(*vegeta.Result)) error {
	for _, name := range files {
		if err := eachInFile(name, fn); err != nil {
			return err
		}
	}
	return nil
}

func eachInFile(name string, fn func(*vegeta.Result)) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("load: %w: %w", ErrNoResults, err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	for {
		// gob leaves out zero fields: decode into a fresh value each time,
		// or a result would inherit the last one's error.
		var r vegeta.Result
		switch err := dec.Decode(&r); {
		case err == nil:
			fn(&r)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		default:
			return fmt.Errorf("load: %w: %s is not a vegeta results file (gob): %w", ErrNoResults, name, err)
		}
	}
}

// Refine improves a report that report.Merge made of several generators'
// load reports: it recomputes the load section exactly from the results
// files it lists (relative to dir, where the report is written), replacing
// the percentiles Merge can only bound, and judges LOAD-01..04 again on the
// merged figures, so that the verdicts are those of the whole load rather
// than of the last generator merged. The requested rates, the probe's
// account and the notes of the parts are kept. A report without a load
// section, or of a capacity search, is left alone. When a results file
// cannot be read, the report is left as Merge made it and the error wraps
// ErrNoResults.
func Refine(r *report.Report, dir string) error {
	l := r.Load
	if l == nil || l.Capacity != nil || len(l.ResultsFiles) == 0 {
		return nil
	}
	files := make([]string, len(l.ResultsFiles))
	for i, f := range l.ResultsFiles {
		files[i] = f
		if !filepath.IsAbs(f) {
			files[i] = filepath.Join(dir, filepath.FromSlash(f))
		}
	}
	fresh, err := Recompute(files, time.Duration(l.SenderTimeout), time.Duration(l.AckDeadline))
	if err != nil {
		return err
	}
	fresh.Attackers = l.Attackers
	fresh.Rate, fresh.Duration = l.Rate, l.Duration
	fresh.Processed, fresh.ResultsFiles = l.Processed, l.ResultsFiles
	r.Load = fresh

	judged := Evaluate(fresh, r.Settings.Strict)
	for i, res := range r.Results {
		for _, j := range judged {
			if res.ID != j.ID {
				continue
			}
			j.Start, j.Duration = res.Start, res.Duration
			if j.ID == Load03 && j.Verdict != harness.Skip {
				j.Evidence = res.Evidence
			}
			if len(fresh.Attackers) > 1 {
				j.Notes = append(j.Notes, fmt.Sprintf("judged on the merged results of %d generators", len(fresh.Attackers)))
			}
			r.Results[i] = j
			// Judged on all the results: no report's result replaced
			// another's.
			r.Notes = slices.DeleteFunc(r.Notes, func(n string) bool { return n == report.ReplacedNote(j.ID) })
		}
	}
	r.Conclude()
	return nil
}

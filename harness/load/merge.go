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

// recompute reads vegeta results files (gob, as the load test writes them;
// from one generator or several) and returns the measured side of their
// load section, exactly as if one attack had made every request: the time
// slices start at the earliest request of any file. It makes two passes
// and keeps no result, so memory does not grow with the files. A file cut
// short (an interrupted run) counts up to where it ends.
func recompute(files []string, senderTimeout, ackDeadline time.Duration) (*report.Load, error) {
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
	m := newMetrics(first, last.Sub(first), senderTimeout, ackDeadline)
	if err := eachResult(files, m.Add); err != nil {
		return nil, err
	}
	l := m.load()
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

// Merge merges the reports of one target (report.MergeWith) with the
// load sections of several generators measured once, exactly, from the
// raw results files they list (relative to dir, where the merged report is
// written), and LOAD-01..04 judged again on the whole, so that the verdicts
// are those of the whole load rather than of the last generator merged.
// When a results file cannot be read, the merged report holds
// report.Merge's bounds and the verdicts of the parts, and the error wraps
// ErrNoResults; any other error comes with no report.
func Merge(dir string, reps ...*report.Report) (*report.Report, error) {
	measure := func(files []string, senderTimeout, ackDeadline time.Duration) (*report.Load, error) {
		paths := make([]string, len(files))
		for i, f := range files {
			paths[i] = f
			if !filepath.IsAbs(f) {
				paths[i] = filepath.Join(dir, filepath.FromSlash(f))
			}
		}
		return recompute(paths, senderTimeout, ackDeadline)
	}
	merged, err := report.MergeWith(measure, reps...)
	if errors.Is(err, ErrNoResults) {
		bounded, err2 := report.Merge(reps...)
		if err2 != nil {
			return nil, err2
		}
		return bounded, err
	}
	if err != nil {
		return nil, err
	}
	generators := 0
	for _, r := range reps {
		if r.Load != nil && r.Load.Capacity == nil {
			generators++
		}
	}
	if generators > 1 {
		judgeWhole(merged)
	}
	return merged, nil
}

// judgeWhole judges LOAD-01..04 on r's merged load section, in place of the
// parts' verdicts.
func judgeWhole(r *report.Report) {
	judged := evaluate(r.Load, r.Settings.Strict)
	for i, res := range r.Results {
		for _, j := range judged {
			if res.ID != j.ID {
				continue
			}
			j.Start, j.Duration = res.Start, res.Duration
			if j.ID == load03 && j.Verdict != harness.Skip {
				j.Evidence = res.Evidence
			}
			j.Notes = append(j.Notes, fmt.Sprintf("judged on the merged results of %d generators", len(r.Load.Attackers)))
			r.Results[i] = j
			// Judged on all the results: no report's result replaced
			// another's.
			r.Notes = slices.DeleteFunc(r.Notes, func(n string) bool { return n == report.ReplacedNote(j.ID) })
		}
	}
	r.Conclude()
}

package load

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/realm-ai/hookcert/harness/figure"
)

// progress writes what an attack has done so far: on a terminal one line
// redrawn in place, otherwise (CI logs) a plain line every interval. Each
// line gives the elapsed time, the requests answered, the current rate
// (answers per second since the last line; the last line gives the average),
// p99 so far and the errors, all of first attempts, and the retries sent
// with the amplification they make.
type progress struct {
	w        io.Writer
	live     bool
	name     string
	began    time.Time
	m        *metrics
	ticker   *time.Ticker
	done     chan struct{}
	finished sync.WaitGroup

	lastN int
	lastT time.Time
}

func startProgress(w io.Writer, live bool, every time.Duration, name string, began time.Time, m *metrics) *progress {
	p := &progress{
		w: w, live: live, name: name, began: began, m: m,
		ticker: time.NewTicker(every),
		done:   make(chan struct{}),
		lastT:  began,
	}
	p.finished.Add(1)
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer p.finished.Done()
	for {
		select {
		case now := <-p.ticker.C:
			p.write(now)
		case <-p.done:
			return
		}
	}
}

// stop writes the final line, with the average rate of the whole attack,
// and ends a live line with a newline.
func (p *progress) stop() {
	p.ticker.Stop()
	close(p.done)
	p.finished.Wait()
	p.lastN, p.lastT = 0, p.began
	p.write(time.Now())
	if p.live {
		fmt.Fprintln(p.w)
	}
}

// write writes one line; the rate is that of the answers since the last
// line.
func (p *progress) write(now time.Time) {
	s := p.m.snapshot()
	rate := 0.0
	if dt := now.Sub(p.lastT).Seconds(); dt > 0 {
		rate = float64(s.Requests-p.lastN) / dt
	}
	p.lastN, p.lastT = s.Requests, now
	line := progressLine(p.name, now.Sub(p.began), s, rate)
	if p.live {
		// Carriage return and erase-line: redraw in place.
		fmt.Fprint(p.w, "\r\x1b[K"+line)
		return
	}
	fmt.Fprintln(p.w, line)
}

func progressLine(name string, elapsed time.Duration, s snapshot, rate float64) string {
	errShare := 0.0
	if s.Requests > 0 {
		errShare = float64(s.Errors) / float64(s.Requests)
	}
	line := fmt.Sprintf("%s  %6.1fs  %7d requests  %7.1f/s  p99 %-9s  errors %d (%s)",
		name, elapsed.Seconds(), s.Requests, rate, figure.Latency(s.P99), s.Errors, figure.Percent(errShare))
	if retries := s.Deliveries - s.Requests; retries > 0 {
		line += fmt.Sprintf("  retries %d (amplification %.3f)", retries, float64(s.Deliveries)/float64(s.Requests))
	}
	return line
}

// IsTerminal reports whether f is a character device (a terminal), where
// progress is a live line rather than periodic log lines.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

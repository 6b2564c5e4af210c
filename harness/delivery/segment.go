package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// A real network delivers a body in segments of about one TCP packet, so a
// receiver's reads see it split, sometimes inside a multi-byte character;
// on loopback a body handed over whole arrives in one or two reads, and a
// receiver that decodes each read on its own (Node's `data += chunk`)
// would never show its bug. Every attempt's body is therefore written in
// segments, each in a write of its own, with short pauses between them so
// that the receiver has read one segment before the next arrives.
//
// A delivery's latency includes its upload, and the ack deadline must stay
// the receiver's to use, so a body's pauses share a budget, paceBudget,
// whatever its size. Each pause is drawn from pauseMin..pauseMax, but the
// runtime's timers sleep about a millisecond at least on an idle Linux
// machine: a body of up to about 100 KiB pauses between every two
// segments within the budget; a larger one skips the pause that would
// put it past its share of the budget, but never two in a row, so that a
// receiver that keeps up reads at most two segments at once. Past
// paceLimit, which a machine too busy to wake the sender on time reaches,
// and past pacedBytes of the body, nothing waits any more.
const (
	// segMin and segMax bound a segment's size, about the payload of one
	// Ethernet TCP packet.
	segMin = 1024
	segMax = 1536
	// pauseMin and pauseMax bound a pause: at least what lets a receiver
	// on loopback be scheduled and read a segment, at most short beside
	// the ack deadline.
	pauseMin = 200 * time.Microsecond
	pauseMax = time.Millisecond
	// paceBudget is the time a body's pauses may take, shared out among
	// its boundaries: a tenth of the ack deadline, and of a 250 KiB
	// body's about 200 boundaries each gets half a millisecond.
	paceBudget = 100 * time.Millisecond
	// pacedBytes is how much of a body is written in segments; the rest
	// follows in one piece. It covers the largest REALM events (ACK-09's
	// 250 KiB); larger bodies are refusal tests (ROB-05's 5 MiB), which
	// would spend seconds in pauses for no finding.
	pacedBytes = 256 << 10
	// paceLimit bounds the time from a body's first segment after which
	// it pauses no more, whatever the machine's load makes of each pause
	// and of the budget.
	paceLimit = 150 * time.Millisecond
	// cutPause is the pause after a segment that ends inside a character
	// on purpose (SplitRunes): long enough that even a receiver on a busy
	// machine reads the two halves apart, once for each width.
	cutPause = 50 * time.Millisecond
)

// errBodyClosed is what a segmented body read after Close returns.
var errBodyClosed = errors.New("delivery: read of a closed request body")

// segment is one segment of a planned body.
type segment struct {
	// end is the offset just past the segment.
	end int
	// pause is the pause planned before the next segment.
	pause time.Duration
	// forced says the segment ends inside the first character of its
	// width (2, 3 or 4 bytes) that the plan cut: the pause after it is
	// never skipped, so that a receiver reads the character split.
	forced bool
}

// segmentation is how one attempt's body goes to the connection, planned
// before the attempt: its segments up to pacedBytes, then the rest in one
// piece. A whole body has no segments. A body of one segment is handed to
// net/http as it is, which writes it with the headers, as the first
// packet of a real request carries them both; a larger one is handed
// over by an upload, and net/http writes the headers on their own first.
type segmentation struct {
	body  []byte
	segs  []segment
	whole bool
	// share is each boundary's share of paceBudget.
	share time.Duration
}

// segmentSource is the randomness a plan is drawn from.
type segmentSource interface {
	IntN(n int) int
	Int64N(n int64) int64
}

// planSegments plans how body is written: in segments of segMin..segMax
// bytes, drawn from rnd with their pauses, or in one piece when whole.
// With splitRunes, segments end inside multi-byte UTF-8 characters where
// one lies within reach, and inside the first character of each width in
// the body whatever the segment sizes (cutRune).
func planSegments(body []byte, whole, splitRunes bool, rnd segmentSource) segmentation {
	seg := segmentation{body: body, whole: whole}
	if whole {
		return seg
	}
	paced := min(len(body), pacedBytes)
	var cut [utf8.UTFMax + 1]bool // the widths cut so far
	for pos := 0; pos < paced; {
		s := segment{
			end:   pos + segMin + rnd.IntN(segMax-segMin+1),
			pause: pauseMin + time.Duration(rnd.Int64N(int64(pauseMax-pauseMin)+1)),
		}
		if splitRunes {
			if at, w := cutRune(body[:paced], pos, s.end, &cut, rnd); at > 0 {
				s.end, s.forced = at, !cut[w]
				cut[w] = true
			}
		}
		s.end = min(s.end, paced)
		seg.segs = append(seg.segs, s)
		pos = s.end
	}
	if n := seg.boundaries(); n > 0 {
		seg.share = paceBudget / time.Duration(n)
	}
	return seg
}

// boundaries counts the places where the body pauses, or could: after
// every segment but the last, and after the last too when the rest of
// the body follows in one piece.
func (seg segmentation) boundaries() int {
	n := len(seg.segs)
	if n > 0 && seg.paced() == len(seg.body) {
		n--
	}
	return n
}

// cutRune finds where a segment that starts at pos and was planned to end
// at end should end instead, inside a multi-byte character: inside the
// first character of a width not cut yet (cut) within segMax of pos,
// however short that makes the segment, or else inside the character
// nearest end among those that keep the segment within segMin..segMax.
// It returns the offset of the cut, 0 when there is none, and the width
// of the character cut.
func cutRune(body []byte, pos, end int, cut *[utf8.UTFMax + 1]bool, rnd segmentSource) (at, width int) {
	i := pos
	// A segment that starts inside a character (the previous one cut it)
	// has its first character after that one's tail.
	for i < len(body) && !utf8.RuneStart(body[i]) {
		i++
	}
	best, bestWidth := 0, 0
	for i < len(body) && i < pos+segMax {
		_, w := utf8.DecodeRune(body[i:])
		if w > 1 {
			// A cut after k bytes, k in 1..w-1: the receiver gets the
			// character in two reads.
			c := i + 1 + rnd.IntN(w-1)
			switch {
			case !cut[w] && c <= pos+segMax:
				return c, w
			case c >= pos+segMin && c <= pos+segMax && (best == 0 || abs(c-end) < abs(best-end)):
				best, bestWidth = c, w
			}
		}
		i += w
	}
	return best, bestWidth
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// paced is the offset where the segments end and the rest of the body,
// sent in one piece, begins.
func (seg segmentation) paced() int {
	if len(seg.segs) == 0 {
		return 0
	}
	return seg.segs[len(seg.segs)-1].end
}

// upload is one sending of a planned body: it hands the body out one
// segment at a time, pausing between segments, and records what it
// handed out for the evidence. A retry of the request on another
// connection is a new upload.
//
// It is an io.ReadCloser for net/http's transports, which write each Read
// as a write of its own (HTTP/1.1, through a connection that does not
// buffer a body: see earlyConn and perReadWriter) or as a DATA frame
// flushed at once (HTTP/2); writeH2 takes its segments with next.
type upload struct {
	seg segmentation
	ctx context.Context
	// now and wait are the clock and the pause; tests replace them.
	now  func() time.Time
	wait func(d time.Duration) error

	closeOnce sync.Once
	closed    chan struct{}

	mu sync.Mutex
	// off is how much of the body was handed out, i the segment it is in.
	off, i int
	// boundary is true when the last byte handed out ended a segment and
	// the pause before the next is still due.
	boundary bool
	// first and last are when the first and the last byte were handed
	// out.
	first, last time.Time
	// skipped is true when the last boundary went without a pause.
	skipped bool
	pauses  int
	// cuts counts the boundaries handed out that fall inside a character,
	// by the character's width.
	cuts [utf8.UTFMax + 1]int
}

// upload starts a sending of seg whose pauses end with ctx.
func (seg segmentation) upload(ctx context.Context) *upload {
	u := &upload{seg: seg, ctx: ctx, now: time.Now, closed: make(chan struct{})}
	u.wait = u.sleep
	return u
}

// sleep pauses for d, or until the attempt ends or the body is closed.
func (u *upload) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-u.ctx.Done():
		return u.ctx.Err()
	case <-u.closed:
		return errBodyClosed
	}
}

// Read hands out at most one segment, after the pause that precedes it.
func (u *upload) Read(p []byte) (int, error) {
	b, err := u.next(len(p))
	return copy(p, b), err
}

// Close ends the upload; a pause under way ends at once. The transports
// close a request's body from another goroutine when the attempt ends.
func (u *upload) Close() error {
	u.closeOnce.Do(func() { close(u.closed) })
	return nil
}

// next returns the next piece of the body, at most limit bytes and never
// past the end of a segment, after the pause due before it; io.EOF once
// the body has all been handed out.
func (u *upload) next(limit int) ([]byte, error) {
	select {
	case <-u.closed:
		return nil, errBodyClosed
	default:
	}
	if limit <= 0 {
		return nil, nil
	}
	body := u.seg.body
	u.mu.Lock()
	off, boundary := u.off, u.boundary
	u.mu.Unlock()
	if off >= len(body) {
		return nil, io.EOF
	}
	if boundary {
		if err := u.pace(); err != nil {
			return nil, err
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	end := len(body)
	if u.i < len(u.seg.segs) {
		end = u.seg.segs[u.i].end
	}
	n := min(limit, end-u.off)
	now := u.now()
	if u.off == 0 {
		u.first = now
	}
	u.last = now
	u.off += n
	if u.i < len(u.seg.segs) && u.off == end {
		u.i++
		u.boundary = u.off < len(body)
		if w := cutWidth(body, u.off); w > 0 {
			u.cuts[w]++
		}
	}
	return body[u.off-n : u.off], nil
}

// pace makes the pause before segment u.i, or skips it by the rules told
// with the constants above: u.i-1 is the segment just handed out.
func (u *upload) pace() error {
	u.mu.Lock()
	s := u.seg.segs[u.i-1]
	u.boundary = false
	since := u.now().Sub(u.first)
	var d time.Duration
	switch {
	case s.forced:
		// At most one per width: a few pauses, whatever the budget.
		d = cutPause
	case since >= paceLimit:
	case since < time.Duration(u.i)*u.seg.share || u.skipped:
		d = s.pause
	}
	u.skipped = d == 0
	if d > 0 {
		u.pauses++
	}
	u.mu.Unlock()
	if d == 0 {
		return nil
	}
	return u.wait(d)
}

// cutWidth returns the width of the valid multi-byte character that a
// boundary at offset at of body falls inside, or 0.
func cutWidth(body []byte, at int) int {
	if at <= 0 || at >= len(body) || utf8.RuneStart(body[at]) {
		return 0
	}
	for start := at - 1; start >= 0 && start > at-utf8.UTFMax; start-- {
		if utf8.RuneStart(body[start]) {
			r, w := utf8.DecodeRune(body[start:])
			if r == utf8.RuneError || start+w <= at {
				return 0
			}
			return w
		}
	}
	return 0
}

// describe says how the body went to the connection, for the evidence
// (harness.Request.Segments): in how many segments and pauses, how long
// the upload took and when its last byte went, start being the start of
// the attempt, the latency's: a reader tells the upload from the time the
// receiver took to answer.
func (u *upload) describe(start time.Time) string {
	body := u.seg.body
	switch {
	case len(body) == 0:
		return ""
	case u.seg.whole:
		return fmt.Sprintf("%d bytes in one piece: segmentation off for this attempt", len(body))
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.off == 0 && u.seg.boundaries() == 0:
		return fmt.Sprintf("%d bytes in one segment, written with the headers", len(body))
	case u.off == 0:
		return fmt.Sprintf("none of the %d bytes sent: the attempt ended first", len(body))
	}
	var b strings.Builder
	if u.off < len(body) {
		fmt.Fprintf(&b, "%d of %d bytes (the attempt ended first)", u.off, len(body))
	} else {
		fmt.Fprintf(&b, "%d bytes", len(body))
	}
	paced := u.seg.paced()
	started, from := 0, 0
	for _, s := range u.seg.segs {
		if from < u.off {
			started++
		}
		from = s.end
	}
	rest := u.off - paced
	if started == 1 && rest <= 0 {
		fmt.Fprintf(&b, " in one segment, its last byte sent %s after the start", roundUpload(u.last.Sub(start)))
	} else {
		fmt.Fprintf(&b, " in %d %s of at most %.1f KiB", started, plural(started, "segment", "segments"), float64(segMax)/1024)
		if u.pauses > 0 {
			fmt.Fprintf(&b, " with %d %s", u.pauses, plural(u.pauses, "pause", "pauses"))
		}
		if rest > 0 {
			fmt.Fprintf(&b, ", then %d in one piece", rest)
		}
		fmt.Fprintf(&b, "; sent in %s, the last byte %s after the start", roundUpload(u.last.Sub(u.first)), roundUpload(u.last.Sub(start)))
	}
	var widths []string
	total := 0
	for w, n := range u.cuts {
		if n > 0 {
			total += n
			widths = append(widths, fmt.Sprintf("%d of %d bytes", n, w))
		}
	}
	if total > 0 {
		fmt.Fprintf(&b, "; %d %s inside a character (%s)", total, plural(total, "segment ends", "segments end"), strings.Join(widths, ", "))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// perReadWriter writes each Read of a copy into it (ReadFrom) in a Write of
// its own. A bufio.Writer hands a copy over to its writer's ReadFrom when
// its buffer is empty, as it is once net/http has flushed a request's
// headers (it does before a body that is not in memory); over a writer
// without ReadFrom, a *tls.Conn, it would fill its buffer with segments
// first.
type perReadWriter struct{ io.Writer }

// ReadFrom copies r to w one Read at a time, hiding from io.Copy the
// shortcuts (WriterTo, ReaderFrom) that would merge the reads.
func (w perReadWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w.Writer}, struct{ io.Reader }{r})
}

// roundUpload rounds a duration of the evidence to a tenth of a
// millisecond, the scale of the pauses.
func roundUpload(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

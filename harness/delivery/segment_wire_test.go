package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realm-ai/hookcert/harness"
)

// reads is a body as a receiver's reads got it.
type reads struct {
	body  []byte
	sizes []int
}

func (r *reads) add(b []byte) {
	if len(b) > 0 {
		r.body = append(r.body, b...)
		r.sizes = append(r.sizes, len(b))
	}
}

// splits returns the widths of the characters that a boundary between
// two reads falls inside, each once.
func (r reads) splits() map[int]bool {
	out := map[int]bool{}
	at := 0
	for _, n := range r.sizes {
		at += n
		if w := cutWidth(r.body, at); w > 0 {
			out[w] = true
		}
	}
	return out
}

// readBodies is a raw HTTP/1.1 receiver that records the size of every
// read of a request's body, the bytes that arrived with the headers
// counting as one, sends the record to got and answers 200.
func readBodies(got chan<- reads) func(c net.Conn) {
	return func(c net.Conn) {
		req, br, err := readHead(c)
		if err != nil {
			return
		}
		var r reads
		if n := br.Buffered(); n > 0 {
			b, _ := br.Peek(n)
			r.add(b)
		}
		buf := make([]byte, 64<<10)
		for int64(len(r.body)) < req.ContentLength {
			n, err := c.Read(buf)
			r.add(buf[:n])
			if err != nil {
				break
			}
		}
		hand(got, r)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	}
}

// readBodiesH is readBodies as an http.Handler, for HTTP/2: a read of the
// body returns what the DATA frames that arrived carried.
func readBodiesH(got chan<- reads) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var r reads
		buf := make([]byte, 64<<10)
		for {
			n, err := req.Body.Read(buf)
			r.add(buf[:n])
			if err != nil {
				break
			}
		}
		hand(got, r)
	})
}

// hand gives r to the test, or drops it when the test takes no more: a
// request sent again after the test took its one (a retry on a machine
// too busy to answer in time) would otherwise block its handler for ever,
// and with it the server's cleanup, which waits for every handler.
func hand(got chan<- reads, r reads) {
	select {
	case got <- r:
	case <-time.After(rawConnDeadline):
	}
}

// bodyReceiver is a receiver that reports how its reads got each body.
type bodyReceiver struct {
	name string
	srv  rawServer
	opts []Option
	// chunked sends the body without a Content-Length.
	chunked bool
	got     chan reads
}

// bodyReceivers starts one receiver per way a body reaches the wire:
// net/http's HTTP/1.1 transport writing into a TCP and a TLS connection,
// in chunks too, its HTTP/2 transport over TLS and h2c, and, for the
// abandoned attempts, the sender's own writers of both versions.
func bodyReceivers(t *testing.T) []bodyReceiver {
	t.Helper()
	var out []bodyReceiver
	add := func(name string, chunked bool, start func(got chan<- reads) rawServer, opts ...Option) {
		got := make(chan reads, 1)
		out = append(out, bodyReceiver{name: name, srv: start(got), opts: opts, chunked: chunked, got: got})
	}
	raw := func(secure bool) func(chan<- reads) rawServer {
		return func(got chan<- reads) rawServer { return startRaw(t, secure, readBodies(got)) }
	}
	served := func(secure bool, p protocols) func(chan<- reads) rawServer {
		return func(got chan<- reads) rawServer { return startHTTP(t, readBodiesH(got), secure, p, false) }
	}
	add("HTTP/1.1", false, raw(false))
	add("HTTP/1.1 over TLS", false, raw(true))
	add("HTTP/1.1 chunked", true, served(false, protocols{http1: true}))
	add("HTTP/2 over TLS", false, served(true, protocols{http2: true}))
	add("h2c", false, served(false, protocols{h2c: true}), WithHTTPVersion(harness.HTTP2))
	return out
}

// send sends a to rc on a connection of its own and returns the
// evidence, the sizes of the sender's writes to the connection (below
// TLS, so a TLS handshake's are among them) and the receiver's reads.
func (rc bodyReceiver) send(t *testing.T, a Attempt) (harness.Exchange, []int, reads) {
	t.Helper()
	s := senderFor(t, rc.srv, rc.opts...)
	var w writeLog
	dial := s.dialer.tcp
	s.dialer.tcp = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return loggedConn{c, &w}, nil
	}
	a.Method, a.Chunked = http.MethodPost, rc.chunked
	ex := s.Send(context.Background(), a)
	if ex.Err != "" {
		t.Fatalf("the attempt failed: %s", ex.Err)
	}
	select {
	case r := <-rc.got:
		if !bytes.Equal(r.body, a.Body) {
			t.Fatalf("the receiver read %d bytes that are not the %d sent", len(r.body), len(a.Body))
		}
		return ex, w.get(), r
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver never read the whole body")
	}
	return ex, nil, reads{}
}

// writeLog records the size of every write to a connection.
type writeLog struct {
	mu    sync.Mutex
	sizes []int
}

func (w *writeLog) get() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sizes)
}

// loggedConn is a connection whose writes are logged. Like the sender's
// own earlyConn, it has no ReadFrom: nothing here changes how net/http
// writes into it.
type loggedConn struct {
	net.Conn
	log *writeLog
}

func (c loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.sizes = append(c.log.sizes, len(p))
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// asciiBody returns n bytes of JSON-like ASCII.
func asciiBody(n int) []byte {
	return bytes.Repeat([]byte(`{"k":"abcdefghij"},`), n/19+1)[:n]
}

// mixedBody returns about n bytes of text of 1-, 2-, 3- and 4-byte
// characters.
func mixedBody(n int) []byte {
	return []byte(strings.Repeat("a é € 𝄞 ", n/15+1))
}

// TestBodiesArriveInSegments: a 100 KiB body, sent by net/http's
// transports or abandoned, goes to the connection in writes of one
// segment, at most 1.5 KiB and framing, and the receiver's reads see it
// split many times, in HTTP/1.1 and HTTP/2 alike, byte for byte. Handed to
// net/http whole, it went in writes of 4 to 32 KiB and arrived in two or
// three reads on loopback. The writes are the sender's to decide; how
// many of them a read gets depends on the machine's load, so the reads
// are only counted, with room to spare.
func TestBodiesArriveInSegments(t *testing.T) {
	t.Parallel()
	body := asciiBody(100 << 10)
	// The body's writes; a TLS handshake's and the headers' are smaller.
	minWrites := (len(body) + segMax - 1) / segMax
	const maxWrite = 2 * segMax
	for _, rc := range bodyReceivers(t) {
		for _, abandon := range []bool{false, true} {
			if abandon && rc.chunked {
				continue
			}
			t.Run(fmt.Sprintf("%s abandoned=%v", rc.name, abandon), func(t *testing.T) {
				ex, writes, r := rc.send(t, Attempt{Body: body, Abandon: abandon})
				if len(writes) < minWrites || slices.Max(writes) > maxWrite {
					t.Errorf("the sender made %d writes, the largest of %d bytes; want %d at least, none over %d: %v", len(writes), slices.Max(writes), minWrites, maxWrite, writes)
				}
				// The writes are pinned above; how many reads a receiver
				// makes of them depends on the machine's load (past the pace
				// limit, which a loaded machine reaches within some ten
				// segments, the rest goes at once: 9 reads once, beside two
				// busy loops). Written whole, the body arrived in two or three.
				if len(r.sizes) < 4 {
					t.Errorf("the receiver read the body in %d reads, want 4 at least: %v", len(r.sizes), r.sizes)
				}
				if want := "102400 bytes in "; !strings.HasPrefix(ex.Request.Segments, want) || !strings.Contains(ex.Request.Segments, " segments of at most 1.5 KiB with ") {
					t.Errorf("Segments = %q, want it to start %q and count segments and pauses", ex.Request.Segments, want)
				}
			})
		}
	}
}

// TestASmallBodyGoesWithItsHeaders: a body of one segment, most events,
// is written with the request's headers, as a real request's first packet
// carries them both, not in a write of its own after them.
func TestASmallBodyGoesWithItsHeaders(t *testing.T) {
	t.Parallel()
	got := make(chan reads, 1)
	rc := bodyReceiver{name: "HTTP/1.1", srv: startRaw(t, false, readBodies(got)), got: got}
	a := Attempt{Body: testEvent().Body}
	ex, writes, _ := rc.send(t, a)
	if len(writes) != 1 || writes[0] <= len(a.Body) {
		t.Errorf("the request went in writes of %v bytes, want one with the headers and the %d of the body", writes, len(a.Body))
	}
	if want := fmt.Sprintf("%d bytes in one segment, written with the headers", len(a.Body)); ex.Request.Segments != want {
		t.Errorf("Segments = %q, want %q", ex.Request.Segments, want)
	}
}

// TestSplitRunesOnTheWire: with SplitRunes, reads of a body of 2-, 3- and
// 4-byte characters end inside characters of each width, whatever the
// protocol, and the evidence counts the cuts. Many boundaries cut
// characters, so a read that merges a few segments cannot hide them all.
// A receiver that gets no CPU while the sender pauses reads what piled up
// at once (reads of 3, 8 and 22,935 bytes once, under make test): up to
// three deliveries are made until each width has been seen cut.
func TestSplitRunesOnTheWire(t *testing.T) {
	t.Parallel()
	body := mixedBody(24 << 10)
	for _, rc := range bodyReceivers(t) {
		t.Run(rc.name, func(t *testing.T) {
			seen := map[int]bool{}
			var sizes [][]int
			for try := 0; try < 3 && !(seen[2] && seen[3] && seen[4]); try++ {
				ex, _, r := rc.send(t, Attempt{Body: body, SplitRunes: true})
				for w, cut := range r.splits() {
					seen[w] = seen[w] || cut
				}
				sizes = append(sizes, r.sizes)
				if !strings.Contains(ex.Request.Segments, "inside a character (") {
					t.Errorf("Segments = %q, want it to count the cuts", ex.Request.Segments)
				}
			}
			for _, w := range []int{2, 3, 4} {
				if !seen[w] {
					t.Errorf("no read ended inside a %d-byte character in %d deliveries; reads %v", w, len(sizes), sizes)
				}
			}
		})
	}
}

// TestWholeIsOnePiece: Whole hands the body to net/http, or to the
// abandoning writer, in one piece, which goes in writes far larger than
// a segment; the evidence says segmentation was off.
func TestWholeIsOnePiece(t *testing.T) {
	t.Parallel()
	body := asciiBody(100 << 10)
	for _, rc := range bodyReceivers(t) {
		for _, abandon := range []bool{false, true} {
			if abandon && rc.chunked {
				continue
			}
			t.Run(fmt.Sprintf("%s abandoned=%v", rc.name, abandon), func(t *testing.T) {
				ex, writes, _ := rc.send(t, Attempt{Body: body, Whole: true, Abandon: abandon})
				if slices.Max(writes) < 8<<10 {
					t.Errorf("the largest write had %d bytes, want 8 KiB at least: %v", slices.Max(writes), writes)
				}
				if want := "102400 bytes in one piece: segmentation off for this attempt"; ex.Request.Segments != want {
					t.Errorf("Segments = %q, want %q", ex.Request.Segments, want)
				}
			})
		}
	}
}

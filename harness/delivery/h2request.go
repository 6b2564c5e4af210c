package delivery

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Stream is the stream an abandoned attempt is sent on: the first a
// client opens.
const h2Stream = 1

// h2MaxFrame is the largest frame payload sent: the size every HTTP/2
// peer must accept (RFC 9113, section 4.2), whatever its settings say.
const h2MaxFrame = 16 << 10

// h2InitialWindow is the flow-control window of a connection and of its
// streams until the receiver's settings or window updates say otherwise
// (RFC 9113, section 6.9.2).
const h2InitialWindow = 65535

// h2Ping is the payload of the PING that tells when the receiver has read
// the whole request.
var h2Ping = [8]byte{'h', 'o', 'o', 'k', 'c', 'e', 'r', 't'}

// h2Hop are the header fields that belong to an HTTP/1.1 connection and
// must not appear in an HTTP/2 request (RFC 9113, section 8.2.2); Host is
// :authority and Content-Length is computed from the body, as net/http's
// HTTP/2 transport does.
var h2Hop = []string{"connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length"}

// writeH2 sends req, whose body up sends, as the one stream of c, a new
// HTTP/2 connection: the connection preface and the sender's settings,
// the request's HEADERS, then its DATA up to END_STREAM, a frame per
// segment of up (more when flow control cuts one). It returns once the
// whole request is written and the receiver has read it, or the receiver
// refused it, and closes c: that is how an attempt is abandoned over
// HTTP/2.
//
// Meanwhile it reads what the receiver sends, for the settings and window
// updates without which a body larger than 64 KiB cannot be sent (and to
// acknowledge settings and pings, as any client does); the answer, if one
// comes that early, is read past and never looked at. A receiver that
// stops reading cannot make it wait beyond c's deadline: the read then
// fails and ends any wait.
//
// "Has read it" is a PING sent after END_STREAM, and its acknowledgement:
// a receiver answers frames in order. Unlike an HTTP/1.1 receiver, which
// says nothing until it answers, an HTTP/2 receiver sends frames while the
// request arrives (its settings, window updates), and closing a TCP
// connection that holds unread data resets it and drops whatever of the
// request the kernel had not sent yet.
func writeH2(c net.Conn, req *http.Request, up *upload) error {
	body := up.seg.body
	fr := http2.NewFramer(c, c)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		return err
	}
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}); err != nil {
		return err
	}
	// The reader writes too (acknowledgements); one writer at a time.
	var wmu sync.Mutex
	fl := newH2Flow()
	done := make(chan struct{})
	go func() {
		defer close(done)
		readH2(fr, fl, &wmu)
	}()
	defer func() {
		c.Close()
		<-done
	}()

	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range h2Fields(req, len(body)) {
		if err := enc.WriteField(f); err != nil {
			return err
		}
	}
	if err := writeH2Headers(fr, &wmu, block.Bytes(), len(body) == 0); err != nil {
		return err
	}
	for sent := 0; sent < len(body); {
		piece, err := up.next(h2MaxFrame)
		if err != nil {
			return err
		}
		for len(piece) > 0 {
			n, err := fl.take(len(piece))
			if err != nil {
				return err
			}
			sent += n
			wmu.Lock()
			err = fr.WriteData(h2Stream, sent == len(body), piece[:n])
			wmu.Unlock()
			if err != nil {
				return err
			}
			piece = piece[n:]
		}
	}
	wmu.Lock()
	err := fr.WritePing(false, h2Ping)
	wmu.Unlock()
	if err == nil {
		// The request is whole once written: a receiver that closes or
		// resets the stream now has had it all the same.
		fl.awaitPing()
	}
	return nil
}

// h2Fields returns the header fields of req as net/http's HTTP/2
// transport sends them: the pseudo-header fields, every header of req in
// lower case but those of h2Hop, and the content length of a body of n
// bytes (of an empty one too for the methods that carry a body, as
// HTTP/1.1 sends it).
func h2Fields(req *http.Request, n int) []hpack.HeaderField {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fields := []hpack.HeaderField{
		{Name: ":method", Value: req.Method},
		{Name: ":scheme", Value: req.URL.Scheme},
		{Name: ":authority", Value: host},
		{Name: ":path", Value: req.URL.RequestURI()},
	}
	keys := make([]string, 0, len(req.Header))
	for k := range req.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := strings.ToLower(k)
		if slices.Contains(h2Hop, name) {
			continue
		}
		for _, v := range req.Header[k] {
			fields = append(fields, hpack.HeaderField{Name: name, Value: v})
		}
	}
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		fields = append(fields, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(n)})
	default:
		if n > 0 {
			fields = append(fields, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(n)})
		}
	}
	return fields
}

// writeH2Headers writes the header block as a HEADERS frame and as many
// CONTINUATION frames as it needs; end says the request has no body.
func writeH2Headers(fr *http2.Framer, wmu *sync.Mutex, block []byte, end bool) error {
	wmu.Lock()
	defer wmu.Unlock()
	for first := true; first || len(block) > 0; first = false {
		chunk := block[:min(len(block), h2MaxFrame)]
		block = block[len(chunk):]
		var err error
		if first {
			err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: h2Stream, BlockFragment: chunk, EndStream: end, EndHeaders: len(block) == 0})
		} else {
			err = fr.WriteContinuation(h2Stream, len(block) == 0, chunk)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readH2 reads the receiver's frames until the connection fails or is
// closed, and keeps fl up to date: its settings change the stream's
// window, its window updates grant more, and a reset of the stream or a
// GOAWAY that leaves it out ends the request.
func readH2(fr *http2.Framer, fl *h2Flow, wmu *sync.Mutex) {
	write := func(w func() error) {
		wmu.Lock()
		defer wmu.Unlock()
		// A failed write shows in the next read.
		_ = w()
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			fl.fail(err)
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
				fl.resize(int64(v))
			}
			write(fr.WriteSettingsAck)
		case *http2.WindowUpdateFrame:
			fl.grant(f.StreamID, int64(f.Increment))
		case *http2.PingFrame:
			switch {
			case !f.IsAck():
				data := f.Data
				write(func() error { return fr.WritePing(true, data) })
			case f.Data == h2Ping:
				fl.pinged()
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == h2Stream {
				fl.fail(fmt.Errorf("the receiver reset the stream (%s)", f.ErrCode))
			}
		case *http2.GoAwayFrame:
			if f.LastStreamID < h2Stream {
				fl.fail(fmt.Errorf("the receiver refused the stream (GOAWAY %s)", f.ErrCode))
			}
		}
	}
}

// h2Flow is the flow control of the one stream of writeH2: how much more
// its DATA may carry on the connection and on the stream, and why it may
// carry no more at all.
type h2Flow struct {
	mu   sync.Mutex
	cond *sync.Cond
	// conn and stream are the windows; initial is the stream's initial
	// window, from the receiver's settings.
	conn, stream, initial int64
	// acked is true once the receiver acknowledged h2Ping.
	acked bool
	err   error
}

func newH2Flow() *h2Flow {
	fl := &h2Flow{conn: h2InitialWindow, stream: h2InitialWindow, initial: h2InitialWindow}
	fl.cond = sync.NewCond(&fl.mu)
	return fl
}

// take waits until both windows are open and takes up to n bytes of them,
// or returns why nothing more can be sent.
func (fl *h2Flow) take(n int) (int, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for fl.err == nil && (fl.conn <= 0 || fl.stream <= 0) {
		fl.cond.Wait()
	}
	if fl.err != nil {
		return 0, fl.err
	}
	m := min(int64(n), fl.conn, fl.stream)
	fl.conn -= m
	fl.stream -= m
	return int(m), nil
}

// resize applies a new initial stream window: the stream's window moves
// by the difference (RFC 9113, section 6.9.2).
func (fl *h2Flow) resize(initial int64) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.stream += initial - fl.initial
	fl.initial = initial
	fl.cond.Broadcast()
}

// grant opens the window of the connection (stream 0) or of the stream.
func (fl *h2Flow) grant(stream uint32, n int64) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	switch stream {
	case 0:
		fl.conn += n
	case h2Stream:
		fl.stream += n
	}
	fl.cond.Broadcast()
}

// awaitPing waits until the receiver acknowledged h2Ping, or nothing more
// will come from it.
func (fl *h2Flow) awaitPing() {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for !fl.acked && fl.err == nil {
		fl.cond.Wait()
	}
}

// pinged records the acknowledgement of h2Ping.
func (fl *h2Flow) pinged() {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.acked = true
	fl.cond.Broadcast()
}

// fail records why nothing more can be sent; the first reason stands.
func (fl *h2Flow) fail(err error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.err == nil {
		fl.err = err
	}
	fl.cond.Broadcast()
}

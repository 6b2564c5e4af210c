package load

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/realm-ai/hookcert/harness/dial"
)

// reservoir keeps a uniform sample of at most size event ids out of all
// those offered (Vitter's algorithm R), so that LOAD-03 can ask the probe
// about a bounded number of events however long the run. It is safe for
// concurrent use.
type reservoir struct {
	mu   sync.Mutex
	size int
	seen int
	ids  []string
	rnd  *rand.Rand
}

func newReservoir(size int, rnd *rand.Rand) *reservoir {
	return &reservoir{size: size, rnd: rnd, ids: make([]string, 0, min(size, 1024))}
}

func (r *reservoir) offer(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen++
	switch {
	case len(r.ids) < r.size:
		r.ids = append(r.ids, id)
	case r.size > 0:
		if j := r.rnd.IntN(r.seen); j < r.size {
			r.ids[j] = id
		}
	}
}

// sample returns the ids kept and how many were offered.
func (r *reservoir) sample() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...), r.seen
}

// observer is the attack's http.RoundTripper: it passes every request on,
// offers the eventId of each one answered 2xx to the reservoir, and hands
// every other (a non-2xx answer, or none within the sender timeout) to the
// retrier. vegeta's results do not carry request headers, so this is
// where an event and its acknowledgement meet.
type observer struct {
	next    http.RoundTripper
	acks    *reservoir
	retries *retrier
	// protos records the HTTP versions of the answers.
	protos *protocols
	// idHeader carries the event id.
	idHeader string
	// timeout bounds each exchange, the response's body included: the
	// sender timeout.
	timeout time.Duration
	// ranOut is told of a delivery the generator could not make for want
	// of open files.
	ranOut func(error)
}

// RoundTrip implements http.RoundTripper.
func (o observer) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), o.timeout)
	resp, err := o.next.RoundTrip(req.WithContext(ctx))
	if err != nil && dial.OutOfFiles(err) {
		// The generator's own want of connections, not the receiver's
		// failure: nothing to retry, and the attack stops.
		cancel()
		o.ranOut(err)
		return nil, err
	}
	if err != nil {
		cancel()
	} else {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		o.protos.saw(resp.ProtoMajor, resp.ProtoMinor)
	}
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if id := req.Header.Get(o.idHeader); id != "" {
			o.acks.offer(id)
		}
		return resp, err
	}
	if n, m := parseAttempt(req.URL.Fragment); n < m {
		o.retries.failed(req.Header.Get(o.idHeader), n, retryBody(req), time.Now())
	}
	return resp, err
}

// cancelBody ends an exchange's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close implements io.Closer.
func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// protocols records which HTTP versions an attack's answers came in:
// HTTP/1.0, HTTP/1.1 and HTTP/2.0, the versions net/http speaks. A flag
// already set is only read, so the attack's workers do not contend.
type protocols struct {
	h10, h11, h2 atomic.Bool
}

// saw records an answer in HTTP/major.minor.
func (p *protocols) saw(major, minor int) {
	f := &p.h11
	switch {
	case major == 2:
		f = &p.h2
	case major == 1 && minor == 0:
		f = &p.h10
	}
	if !f.Load() {
		f.Store(true)
	}
}

// list names the versions seen, as net/http's Response.Proto does.
func (p *protocols) list() []string {
	var out []string
	for _, v := range []struct {
		f    *atomic.Bool
		name string
	}{{&p.h2, "HTTP/2.0"}, {&p.h11, "HTTP/1.1"}, {&p.h10, "HTTP/1.0"}} {
		if v.f.Load() {
			out = append(out, v.name)
		}
	}
	return out
}

package receiver

import (
	"sync"
	"time"
)

// pool is the worker pool behind the acknowledgement: the handler puts an
// event on the queue and answers at once; workers run the business logic
// later. REALM's ack deadline then measures the queue, not the work.
type pool struct {
	queue    chan event
	done     chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
	workCost time.Duration
	process  func(event)
}

// startPool starts workers goroutines reading a queue of queueSize events;
// each event occupies its worker for workCost before process runs.
func startPool(workers, queueSize int, workCost time.Duration, process func(event)) *pool {
	p := &pool{
		queue:    make(chan event, queueSize),
		done:     make(chan struct{}),
		workCost: workCost,
		process:  process,
	}
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

// work processes events until the pool is closed.
func (p *pool) work() {
	defer p.wg.Done()
	for {
		select {
		case <-p.done:
			return
		case ev := <-p.queue:
			if p.workCost > 0 && !p.sleep(p.workCost) {
				return
			}
			p.process(ev)
		}
	}
}

// submit queues ev without blocking and reports whether it was queued: false
// when the queue is full or the pool closed. Blocking instead would hold the
// sender's connection past its deadline.
func (p *pool) submit(ev event) bool {
	select {
	case <-p.done:
		return false
	default:
	}
	select {
	case p.queue <- ev:
		return true
	default:
		return false
	}
}

// sleep waits d, or less if the pool is closed meanwhile; it reports whether
// it waited the whole d.
func (p *pool) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.done:
		return false
	}
}

// close stops the workers and waits for them. It may be called repeatedly.
func (p *pool) close() {
	p.once.Do(func() { close(p.done) })
	p.wg.Wait()
}

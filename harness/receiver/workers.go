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
	// batchOver, when positive, is faultRacyState's backlog: past it a
	// worker takes racyBatch events at once and processes each twice.
	batchOver int
}

// startPool starts workers goroutines reading a queue of queueSize events;
// each event occupies its worker for workCost before process runs. With
// batchOver positive, faultRacyState's batches are taken past that backlog.
func startPool(workers, queueSize int, workCost time.Duration, batchOver int, process func(event)) *pool {
	p := &pool{
		queue:     make(chan event, queueSize),
		done:      make(chan struct{}),
		workCost:  workCost,
		process:   process,
		batchOver: batchOver,
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
			if p.batchOver > 0 && len(p.queue) > p.batchOver {
				p.catchUp(ev)
				continue
			}
			p.process(ev)
		}
	}
}

// catchUp is faultRacyState's batch path: ev and up to racyBatch-1 more
// events taken from the queue as one batch, each processed twice, as when
// a second worker, reading the queue at the same moment without its lock,
// takes the same batch.
func (p *pool) catchUp(ev event) {
	batch := []event{ev}
fill:
	for len(batch) < racyBatch {
		select {
		case next := <-p.queue:
			batch = append(batch, next)
		default:
			break fill
		}
	}
	for range 2 {
		for _, e := range batch {
			p.process(e)
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

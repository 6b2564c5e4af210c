package receiver

import (
	"strings"
	"sync"
	"time"
)

// Job states of the lifecycle.
const (
	statusQueued     = "queued"
	statusProcessing = "processing"
	statusCompleted  = "completed"
	statusFailed     = "failed"
	statusCanceled   = "canceled"
)

// statusRank orders the lifecycle: queued < processing < every terminal
// state. Webhooks arrive out of order and are retried, so a receiver must
// compare ranks instead of applying states in arrival order.
var statusRank = map[string]int{
	statusQueued:     0,
	statusProcessing: 1,
	statusCompleted:  terminalRank,
	statusFailed:     terminalRank,
	statusCanceled:   terminalRank,
}

// terminalRank is the rank of the terminal states, which are final.
const terminalRank = 2

// advance returns the state a job in state cur (known says whether the job
// was seen before) moves to on an event carrying next, and whether it
// changed. A state only moves forward; terminal states are final (two
// terminals have the same rank, so the first one wins); a job never seen is
// created in whatever state arrives, even a terminal one. An unknown next
// changes nothing.
func advance(cur string, known bool, next string) (string, bool) {
	nr, ok := statusRank[next]
	if !ok {
		return cur, false
	}
	if !known || nr > statusRank[cur] {
		return next, true
	}
	return cur, false
}

// store is the receiver's database: which events were seen (the dedupe set),
// how often the business logic ran per event, and each job's state. In a
// real receiver this is the application database, where the dedupe set is a
// table with a unique key on eventId and the claim an INSERT that fails on a
// duplicate; here it is memory behind one mutex.
type store struct {
	mu        sync.Mutex
	seen      map[string]struct{}
	processed map[string]int
	jobs      map[string]string
	// claimedAt is the dedupe set of faultDedupeExpiry, with when each
	// record was made.
	claimedAt map[string]time.Time
	// window holds the keys faultDedupeWindow remembers, in seen, oldest
	// first.
	window []string
	// firsts counts the first deliveries faultFlaky has judged; refused
	// holds the ids it refused whose retry has not come yet, arriving the
	// ids of deliveries it let through that are still being handled.
	firsts   int
	refused  map[string]struct{}
	arriving map[string]struct{}
}

func newStore() *store {
	return &store{
		seen:      make(map[string]struct{}),
		processed: make(map[string]int),
		jobs:      make(map[string]string),
		claimedAt: make(map[string]time.Time),
		refused:   make(map[string]struct{}),
		arriving:  make(map[string]struct{}),
	}
}

// claim records key as seen and reports whether it was new. Checking and
// inserting under one lock is what makes dedupe safe when copies of an event
// arrive concurrently: exactly one of them gets true.
func (s *store) claim(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.seen[key]; dup {
		return false
	}
	s.seen[key] = struct{}{}
	return true
}

// release forgets key, so that a redelivery of an event the receiver could
// not queue is processed instead of being taken for a duplicate.
func (s *store) release(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, key)
}

// isSeen and markSeen are the two halves of claim done separately: the racy
// check-then-insert of faultRacyDedupe. Each map access holds the lock, so it
// is not a data race in the memory-model sense; the bug is the window
// between the two calls.
func (s *store) isSeen(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.seen[key]
	return ok
}

func (s *store) markSeen(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[key] = struct{}{}
}

// rules are the planted state-machine faults: lastWriteWins stores the
// arriving state whatever the job's current state (faultLastWriteWins);
// knownJobsOnly ignores events for a job the receiver has not seen queued
// (faultIgnoreUnseenJob), as an UPDATE of a row that does not exist would.
type rules struct {
	lastWriteWins bool
	knownJobsOnly bool
	// modelLastWriteWins is lastWriteWins for model.training.* events only
	// (faultModelLastWriteWins); terminalReplaces lets a terminal state
	// replace another (faultNoTerminalGuard).
	modelLastWriteWins bool
	terminalReplaces   bool
}

// process runs the business logic for ev once: it counts the run and moves
// ev's job, if it names one, under the given rules.
func (s *store) process(ev event, r rules) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processed[ev.ID]++
	if ev.JobID == "" || ev.Status == "" {
		return
	}
	if _, ok := statusRank[ev.Status]; !ok {
		return
	}
	cur, known := s.jobs[ev.JobID]
	if r.knownJobsOnly && !known && ev.Status != statusQueued {
		return
	}
	if r.lastWriteWins || r.modelLastWriteWins && strings.HasPrefix(ev.Type, "model.") {
		s.jobs[ev.JobID] = ev.Status
		return
	}
	if r.terminalReplaces && known && statusRank[cur] == terminalRank && statusRank[ev.Status] == terminalRank {
		s.jobs[ev.JobID] = ev.Status
		return
	}
	if next, changed := advance(cur, known, ev.Status); changed {
		s.jobs[ev.JobID] = next
	}
}

// timesProcessed returns how often the business logic ran for eventID, and
// false when it never did.
func (s *store) timesProcessed(eventID string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.processed[eventID]
	return n, ok
}

// jobStatus returns jobID's state, and false for a job never seen.
func (s *store) jobStatus(jobID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.jobs[jobID]
	return st, ok
}

// claimFor is claim for faultDedupeExpiry: a record older than ttl is
// forgotten, as a cache with an expiry would forget it.
func (s *store) claimFor(key string, ttl time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if at, ok := s.claimedAt[key]; ok && now.Sub(at) < ttl {
		return false
	}
	s.claimedAt[key] = now
	return true
}

// claimWithin is claim for faultDedupeWindow: the dedupe set holds only
// the last n keys claimed, as a capped list or a fixed-size cache would;
// claiming one more forgets the oldest.
func (s *store) claimWithin(key string, n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.seen[key]; dup {
		return false
	}
	s.seen[key] = struct{}{}
	s.window = append(s.window, key)
	if len(s.window) > n {
		delete(s.seen, s.window[0])
		s.window = s.window[1:]
	}
	return true
}

// firstDelivery is faultFlaky's judgement of a verified delivery of the
// event id. A first delivery is one of an id never seen: not claimed, not
// processed, not refused before, and not arriving in another delivery at
// this moment. Every every-th first delivery is refused (refuse) and its
// id kept, so that its retry is handled normally. held reports that this
// delivery now holds id's arrival, as a first delivery let through or as
// a refused one's retry, so that a concurrent copy is not judged first;
// its handler calls arrived when it is done, by which time the id is
// claimed (or was released, and is then unseen again). Only the ids
// refused and not yet retried outlive their delivery: a tenth of the
// first deliveries at most, beside the dedupe set's every claimed id.
func (s *store) firstDelivery(id string, every int) (refuse, held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.refused[id]; ok {
		delete(s.refused, id)
		s.arriving[id] = struct{}{}
		return false, true
	}
	_, seen := s.seen[id]
	_, processed := s.processed[id]
	_, arriving := s.arriving[id]
	if seen || processed || arriving {
		return false, false
	}
	s.firsts++
	if s.firsts%every == 0 {
		s.refused[id] = struct{}{}
		return true, false
	}
	s.arriving[id] = struct{}{}
	return false, true
}

// arrived ends the arrival that firstDelivery started for id.
func (s *store) arrived(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.arriving, id)
}

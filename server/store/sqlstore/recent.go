package sqlstore

import (
	"sync"

	memoryd "github.com/memoryd/memoryd/server"
)

// Every commit wakes the log's tailers in each process (the stream hub,
// the vector index's consumer, the webhook fan-out), and every search
// commits one (search.performed). Reading each event back from the
// database, once per tailer and node, would cost more than writing it.
// A store therefore keeps the newest committed events it learnt of in a
// Recent window: SQLite's writer the ones it committed, PostgreSQL's
// listener those its NOTIFY carried. Tailers woken by a commit take them
// from there and read the log only for what the window lacks.

// RecentCap bounds the events kept: enough for a tailer, which is woken
// at every commit, to find its next ones here even when it falls a few
// thousand events behind.
const RecentCap = 4096

// Recent is a window of the newest committed events, contiguous in seq.
// The zero value is an empty window.
type Recent struct {
	mu   sync.Mutex
	evs  []*memoryd.Event // evs[i].Seq == first+i
	head int              // index of the oldest in evs (a circular buffer)
}

// Add appends committed events, in order. An event that does not follow
// the newest kept one (one this process did not learn of came in between)
// restarts the window at it.
func (r *Recent) Add(evs []*memoryd.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range evs {
		if n := len(r.evs); n > 0 && r.at(n-1).Seq+1 != e.Seq {
			r.evs, r.head = r.evs[:0], 0
		}
		if len(r.evs) < RecentCap {
			r.evs = append(r.evs, e)
			continue
		}
		r.evs[r.head] = e
		r.head = (r.head + 1) % RecentCap
	}
}

// at returns the i-th oldest kept event; r.mu held.
func (r *Recent) at(i int) *memoryd.Event {
	return r.evs[(r.head+i)%len(r.evs)]
}

// Reset empties the window: events it did not receive have been
// committed, so what it would receive next does not follow what it holds.
func (r *Recent) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs, r.head = r.evs[:0], 0
}

// After returns up to limit kept events after seq, in order. ok is false
// when the window does not start at or before seq+1: those events must
// be read from the log. An empty slice with ok means seq is the newest
// event the window has received.
func (r *Recent) After(seq int64, limit int) (evs []*memoryd.Event, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.evs)
	if n == 0 {
		return nil, false
	}
	first := r.at(0).Seq
	if seq+1 < first {
		return nil, false
	}
	start := int(seq + 1 - first)
	if start >= n {
		return nil, seq == first+int64(n)-1
	}
	count := min(n-start, limit)
	evs = make([]*memoryd.Event, count)
	for i := range evs {
		evs[i] = r.at(start + i)
	}
	return evs, true
}

package sqlite

import (
	"sync"

	memoryd "github.com/memoryd/memoryd/server"
)

// This process is the log's only writer, so the events it has
// just committed are already in memory. The writer keeps the latest ones
// here, and the stream's tailer takes them from here instead of reading
// back from the database what it has just written (a query, a scan and
// an allocation per event, on the same two cores as the writes).

// recentCap bounds the events kept: enough for the tailer, which is
// woken at every commit, to find its next ones here even when it falls
// a few thousand events behind.
const recentCap = 4096

// recent is a window of the newest committed events, contiguous in seq.
type recent struct {
	mu   sync.Mutex
	evs  []*memoryd.Event // evs[i].Seq == first+i
	head int              // index of the oldest in evs (a circular buffer)
}

// add appends a group's committed events, in order. An event that does
// not follow the newest kept one (another process wrote to the file in
// between) restarts the window at it.
func (r *recent) add(evs []*memoryd.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range evs {
		if n := len(r.evs); n > 0 && r.at(n-1).Seq+1 != e.Seq {
			r.evs, r.head = r.evs[:0], 0
		}
		if len(r.evs) < recentCap {
			r.evs = append(r.evs, e)
			continue
		}
		r.evs[r.head] = e
		r.head = (r.head + 1) % recentCap
	}
}

// at returns the i-th oldest kept event; r.mu held.
func (r *recent) at(i int) *memoryd.Event {
	return r.evs[(r.head+i)%len(r.evs)]
}

// after returns up to limit kept events after seq, in order. ok is false
// when the window does not start at or before seq+1: those events must
// be read from the log. An empty slice with ok means seq is the newest
// event this process has committed.
func (r *recent) after(seq int64, limit int) (evs []*memoryd.Event, ok bool) {
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

// RecentEvents returns up to limit events after seq that this process
// committed last, without reading the database. ok is false when they
// are not all in memory (a position older than the window, or one this
// process did not write; a store that has committed nothing yet); the
// caller then reads them with ReadEvents.
func (s *Store) RecentEvents(after int64, limit int) ([]*memoryd.Event, bool) {
	return s.recent.after(after, limit)
}

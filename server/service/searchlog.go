package service

import (
	"context"
	"sync"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// The search log's queue holds up to searchLogQueue events. Its worker
// appends them in batches of up to searchLogBatch, waiting up to
// searchLogLinger after the first for more to arrive: on PostgreSQL each
// append is a statement, a commit and a NOTIFY to every node, so under
// load one batch replaces dozens of them, and a search.performed event
// reaches streams at most the linger later.
const (
	searchLogQueue  = 1024
	searchLogBatch  = 128
	searchLogLinger = 20 * time.Millisecond
)

// searchLog appends search.performed events after the search has
// answered: an append is a write (a database round trip, on SQLite a turn
// of the single writer) that the client should not wait for. When the
// queue is full a search appends its own event before answering, so no
// event is dropped while the process runs; the few still queued when it
// is killed are lost, and they record reads, never changes.
type searchLog struct {
	mu     sync.RWMutex // held for reading to enqueue, for writing to close
	closed bool
	q      chan *memoryd.Event
	done   chan struct{}
}

// StartSearchLog makes Search append its search.performed events in the
// background. stop appends those still queued and returns; later searches
// append their own again. Without it every search appends before it
// answers.
func (s *Service) StartSearchLog() (stop func()) {
	l := &searchLog{q: make(chan *memoryd.Event, searchLogQueue), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for batch := range l.batches() {
			s.appendSearch(context.Background(), batch...)
		}
	}()
	s.searchLog.Store(l)
	return func() {
		l.mu.Lock()
		l.closed = true
		close(l.q)
		l.mu.Unlock()
		<-l.done
		s.searchLog.CompareAndSwap(l, nil)
	}
}

// batches yields the queued events in batches until the queue is closed
// and drained.
func (l *searchLog) batches() func(yield func([]*memoryd.Event) bool) {
	return func(yield func([]*memoryd.Event) bool) {
		for ev := range l.q {
			batch := []*memoryd.Event{ev}
			linger := time.After(searchLogLinger)
			for more := true; more && len(batch) < searchLogBatch; {
				select {
				case ev, more = <-l.q:
					if more {
						batch = append(batch, ev)
					}
				case <-linger:
					more = false
				}
			}
			if !yield(batch) {
				return
			}
		}
	}
}

// enqueue hands ev to the worker; false means the caller appends it.
func (l *searchLog) enqueue(ev *memoryd.Event) bool {
	if l == nil {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return false
	}
	select {
	case l.q <- ev:
		return true
	default:
		return false
	}
}

// appendSearch appends evs; a failure is logged, not returned, since the
// searches themselves succeeded.
func (s *Service) appendSearch(ctx context.Context, evs ...*memoryd.Event) {
	if err := s.store.AppendEvents(ctx, evs); err != nil {
		s.log.ErrorContext(ctx, "recording search.performed", "events", len(evs), "err", err)
	}
}

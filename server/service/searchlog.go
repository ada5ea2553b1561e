package service

import (
	"context"
	"sync"

	memoryd "github.com/memoryd/memoryd/server"
)

// searchLogQueue bounds the search.performed events waiting for their
// append; searchLogWorkers append them side by side (SQLite commits
// concurrent appends together; on PostgreSQL each is one statement).
const (
	searchLogQueue   = 1024
	searchLogWorkers = 4
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
	wg     sync.WaitGroup
}

// StartSearchLog makes Search append its search.performed events in the
// background. stop appends those still queued and returns; later searches
// append their own again. Without it every search appends before it
// answers.
func (s *Service) StartSearchLog() (stop func()) {
	l := &searchLog{q: make(chan *memoryd.Event, searchLogQueue)}
	for range searchLogWorkers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ev := range l.q {
				s.appendSearch(context.Background(), ev)
			}
		}()
	}
	s.searchLog.Store(l)
	return func() {
		l.mu.Lock()
		l.closed = true
		close(l.q)
		l.mu.Unlock()
		l.wg.Wait()
		s.searchLog.CompareAndSwap(l, nil)
	}
}

// enqueue hands ev to the workers; false means the caller appends it.
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

// appendSearch appends ev; a failure is logged, not returned, since the
// search itself succeeded.
func (s *Service) appendSearch(ctx context.Context, ev *memoryd.Event) {
	if err := s.store.AppendEvent(ctx, ev); err != nil {
		s.log.ErrorContext(ctx, "recording search.performed", "err", err)
	}
}

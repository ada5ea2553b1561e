package service

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// The search log's queue holds up to searchLogQueue events. Its worker
// appends them in batches of up to searchLogBatch, waiting up to
// searchLogLinger after the first for more to arrive: on PostgreSQL each
// append is a statement, a commit and a NOTIFY to every node, so under
// load one batch replaces several. A write on this node cuts the wait
// short (flush), so a client that searches and then writes finds its
// search.performed event before its write's, as when it was appended at
// once.
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
	mu      sync.RWMutex // held for reading to enqueue, for writing to close
	closed  bool
	q       chan logItem
	pending atomic.Int64 // events enqueued and not yet appended
	done    chan struct{}
}

// logItem is an event to append, or a flush: a channel closed once every
// event queued before it is appended.
type logItem struct {
	ev      *memoryd.Event
	flushed chan struct{}
}

// StartSearchLog makes Search append its search.performed events in the
// background. stop appends those still queued and returns; later searches
// append their own again. Without it every search appends before it
// answers.
func (s *Service) StartSearchLog() (stop func()) {
	l := &searchLog{q: make(chan logItem, searchLogQueue), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.run(func(evs []*memoryd.Event) { s.appendSearch(context.Background(), evs...) })
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

// run appends the queued events in batches until the queue is closed and
// drained.
func (l *searchLog) run(appendAll func([]*memoryd.Event)) {
	for it := range l.q {
		var batch []*memoryd.Event
		linger := time.After(searchLogLinger)
		for more := true; more && it.flushed == nil; {
			batch = append(batch, it.ev)
			if len(batch) == searchLogBatch {
				break
			}
			select {
			case it, more = <-l.q:
			case <-linger:
				more = false
			}
		}
		if len(batch) > 0 {
			appendAll(batch)
			l.pending.Add(-int64(len(batch)))
		}
		if it.flushed != nil { // everything queued before it is in
			close(it.flushed)
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
	l.pending.Add(1) // before the worker can take it, so a flush waits for it
	select {
	case l.q <- logItem{ev: ev}:
		return true
	default:
		l.pending.Add(-1)
		return false
	}
}

// flush returns once every event enqueued before it is appended (at once
// when none is waiting), or when ctx ends.
func (l *searchLog) flush(ctx context.Context) {
	if l == nil || l.pending.Load() == 0 {
		return
	}
	f := make(chan struct{})
	if !l.send(ctx, logItem{flushed: f}) {
		return
	}
	select {
	case <-f:
	case <-ctx.Done():
	}
}

// send queues it unless the log is closed or ctx ends first.
func (l *searchLog) send(ctx context.Context, it logItem) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return false
	}
	select {
	case l.q <- it:
		return true
	case <-ctx.Done():
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

// flushSearchLog stores the search.performed events queued so far; writes
// call it first, so their events follow those of earlier searches.
func (s *Service) flushSearchLog(ctx context.Context) { s.searchLog.Load().flush(ctx) }

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Writes go through one goroutine that commits them in groups: whatever
// arrived while the previous transaction committed runs next, together, in
// one transaction, and when one change fails the group is rerun one change
// per transaction, so it fails alone. A commit costs about the same for
// one change or a hundred (the log's pages and their sync), and SQLite has
// a single writer anyway, so this is where write throughput comes from.

// maxGroup bounds one transaction, so a burst cannot hold the writer long.
const maxGroup = 128

// writeFn performs one change in tx and returns the event it appended.
type writeFn func(ctx context.Context, tx *groupTx) (*memoryd.Event, error)

type writeReq struct {
	ctx  context.Context
	fn   writeFn
	ev   *memoryd.Event
	err  error
	done chan struct{}
}

var errClosed = errors.New("store: closed")

// write runs fn in a write transaction and waits until it has committed;
// tailers are woken then. The change runs with ctx's values but not its
// cancellation: interrupting a statement would abort the whole group.
func (s *Store) write(ctx context.Context, fn writeFn) error {
	r, err := s.submit(ctx, fn)
	if err != nil {
		return err
	}
	return s.wait(r)
}

// submit queues fn for the writer; changes submitted back to back are
// committed together when the writer is free.
func (s *Store) submit(ctx context.Context, fn writeFn) (*writeReq, error) {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case s.writes <- r:
		return r, nil
	case <-s.quit:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// wait returns once r has committed or failed.
func (s *Store) wait(r *writeReq) error {
	select {
	case <-r.done:
		return s.Fail(r.err)
	case <-s.writerDone:
		// The writer closes done before it exits, so an open done here
		// means the change was never run.
		select {
		case <-r.done:
			return s.Fail(r.err)
		default:
			return errClosed
		}
	}
}

// runWriter is the single writer goroutine.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	prev := 0 // size of the previous group
	for {
		var group []*writeReq
		select {
		case r := <-s.writes:
			group = append(group, r)
		case <-s.quit:
			return
		}
		group = s.gather(group, prev > 1)
		prev = len(group)
		s.commitGroup(group)
		s.walCatchUp()
	}
}

// lingerBelow and linger: when changes come concurrently (the previous
// group had several) and few are queued, the writer waits up to linger
// for more before it commits. A commit writes every page the group
// dirtied, whether one change or many touched it, so on a busy machine
// bigger groups are what raises throughput (the store benchmark and
// tools/load show it); a lone writer never waits.
const (
	lingerBelow = 8
	linger      = 500 * time.Microsecond
)

// gather adds the changes queued behind the first one to group.
func (s *Store) gather(group []*writeReq, busy bool) []*writeReq {
	// Let the goroutines that are about to queue a change do so: on a
	// busy machine they are runnable but not yet running.
	runtime.Gosched()
	group = s.drain(group)
	if !busy || len(group) >= lingerBelow {
		return group
	}
	t := time.NewTimer(linger)
	defer t.Stop()
	select {
	case r := <-s.writes:
		return s.drain(append(group, r))
	case <-t.C:
		return group
	}
}

// drain adds what is queued now, up to maxGroup.
func (s *Store) drain(group []*writeReq) []*writeReq {
	for len(group) < maxGroup {
		select {
		case r := <-s.writes:
			group = append(group, r)
		default:
			return group
		}
	}
	return group
}

// commitGroup runs a group in one transaction. When any change fails,
// the transaction is rolled back and each change reruns in a transaction
// of its own, so one bad change never takes others down with it. (Changes
// are re-runnable: they read the current state inside the transaction.)
func (s *Store) commitGroup(group []*writeReq) {
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	if s.runGroup(group) || len(group) == 1 {
		return
	}
	for _, r := range group {
		if r.ctx.Err() == nil {
			r.err = nil
			s.runGroup([]*writeReq{r})
		}
	}
}

// runGroup runs and commits the group; it reports false when a change
// failed and the group was rolled back for that reason.
func (s *Store) runGroup(group []*writeReq) bool {
	g, err := s.begin()
	if err != nil {
		failAll(group, fmt.Errorf("store: begin: %w", err))
		return true
	}
	ran := 0
	for _, r := range group {
		if r.err = r.ctx.Err(); r.err != nil {
			continue // the caller has given up; do not write behind its back
		}
		r.ev, r.err = r.fn(context.WithoutCancel(r.ctx), g)
		if r.err != nil {
			g.tx.Rollback()
			return false
		}
		ran++
	}
	if ran == 0 {
		g.tx.Rollback()
		return true
	}
	if err := g.finish(); err != nil {
		g.tx.Rollback()
		failAll(group, err)
		return true
	}
	if err := g.tx.Commit(); err != nil {
		failAll(group, fmt.Errorf("store: commit: %w", err))
		return true
	}
	s.commits.Add(1)
	s.Wrote()
	s.published(group)
	return true
}

// published hands a committed group's events to the recent window, then
// wakes the tailers: in that order, so a woken tailer finds them there.
func (s *Store) published(group []*writeReq) {
	evs := make([]*memoryd.Event, 0, len(group))
	for _, r := range group {
		if r.err == nil && r.ev != nil {
			evs = append(evs, r.ev)
			evs = append(evs, r.ev.With...)
		}
	}
	if len(evs) == 0 {
		return
	}
	s.recent.Add(evs)
	s.wake.Notify(evs[len(evs)-1].Seq)
}

func failAll(group []*writeReq, err error) {
	for _, r := range group {
		if r.err == nil {
			r.err = err
		}
	}
}

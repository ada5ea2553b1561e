package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/uptrace/bun"

	memoryd "github.com/memoryd/memoryd/server"
)

// On SQLite, writes go through one goroutine that commits them in groups: whatever
// arrived while the previous transaction committed runs next, together, in
// one transaction, and when one change fails the
// group is rerun one change per transaction, so it fails alone. A commit costs the same for one change or a hundred
// (WAL pages, fsync), and SQLite has a single writer anyway, so this is
// where write throughput comes from. PostgreSQL runs each change in its own
// transaction on its own connection: they proceed in parallel and only
// the short event append at their end is serialised (appendEvent); a
// create is a single statement (pgcreate.go).

// maxGroup bounds one transaction, so a burst cannot hold the writer long.
const maxGroup = 128

// writeFn performs one change in tx and returns the event it appended.
type writeFn func(ctx context.Context, tx bun.Tx) (*memoryd.Event, error)

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
	if s.pg {
		return s.writeDirect(ctx, fn)
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case s.writes <- r:
	case <-s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return r.err
	case <-s.writerDone:
		// The writer closes done before it exits, so an open done here
		// means the change was never run.
		select {
		case <-r.done:
			return r.err
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
// bigger groups are what raises throughput (measured once at 16 HTTP
// clients with tools/load, group sizes counted by a temporary probe:
// 5.7 -> 6.6 changes a group, 2,250 -> 2,635 creates/s); a lone writer
// never waits.
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
	tx, err := s.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		failAll(group, fmt.Errorf("store: begin: %w", err))
		return true
	}
	s.grp = &groupTx{stmts: map[string]*sql.Stmt{}}
	ran := 0
	for _, r := range group {
		if r.err = r.ctx.Err(); r.err != nil {
			continue // the caller has given up; do not write behind its back
		}
		r.ev, r.err = r.fn(context.WithoutCancel(r.ctx), tx)
		if r.err != nil {
			tx.Rollback()
			return false
		}
		ran++
	}
	if ran == 0 {
		tx.Rollback()
		return true
	}
	if err := s.finishGroup(tx); err != nil {
		tx.Rollback()
		failAll(group, err)
		return true
	}
	if err := tx.Commit(); err != nil {
		failAll(group, fmt.Errorf("store: commit: %w", err))
		return true
	}
	s.commits.Add(1)
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
		}
	}
	if len(evs) == 0 {
		return
	}
	s.recent.add(evs)
	s.wake.notify(evs[len(evs)-1].Seq)
}

// groupTx is the SQLite writer's state for one group transaction.
type groupTx struct {
	stmts map[string]*sql.Stmt // closed by database/sql when the transaction ends
	// fts holds the group's full-text changes, applied in order just before
	// commit. FTS5 writes its pending terms to disk as a new segment at every
	// statement savepoint, so interleaved with the other statements each
	// change would write (and later merge) a segment of its own; applied
	// together they make one.
	fts []ftsOp
	// seq is the log's last position in this transaction, read from the
	// counter row by the group's first append and written back once by
	// finishGroup (the writer is the only one appending).
	seq     int64
	haveSeq bool // the counter was read, hence advanced: write it back
}

type ftsOp struct {
	rid  int64
	text string
	del  bool // remove rid's entry (text unused)
}

// queueFTS schedules a full-text change (SQLite; PostgreSQL indexes a
// generated column). del removes rid's entry, otherwise text is indexed.
func (s *Store) queueFTS(rid int64, text string, del bool) {
	if s.pg {
		return
	}
	s.grp.fts = append(s.grp.fts, ftsOp{rid: rid, text: text, del: del})
}

// finishGroup applies the group's full-text changes and stores the log
// counter, as the last statements of the transaction.
func (s *Store) finishGroup(tx bun.Tx) error {
	ctx := context.Background()
	for _, op := range s.grp.fts {
		q, args := ftsInsertSQL, []any{op.rid, op.text}
		if op.del {
			q, args = ftsDeleteSQL, []any{op.rid}
		}
		if _, err := s.txExec(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("store: full-text index: %w", err)
		}
	}
	if s.grp.haveSeq {
		if _, err := s.txExec(ctx, tx, writeCounterSQL, s.grp.seq); err != nil {
			return fmt.Errorf("store: event counter: %w", err)
		}
	}
	return nil
}

func failAll(group []*writeReq, err error) {
	for _, r := range group {
		if r.err == nil {
			r.err = err
		}
	}
}

// writeDirect runs fn in a transaction of its own (PostgreSQL).
func (s *Store) writeDirect(ctx context.Context, fn writeFn) error {
	ctx = context.WithoutCancel(ctx)
	return s.wdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := fn(ctx, tx)
		return err
	})
}

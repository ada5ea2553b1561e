package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	memoryd "github.com/memoryd/memoryd/server"
)

// On SQLite, writes go through one goroutine that commits them in groups: whatever
// arrived while the previous transaction committed runs next, together, in
// one transaction, each change inside its own savepoint so a failing one
// is undone alone. A commit costs the same for one change or a hundred
// (WAL pages, fsync), and SQLite has a single writer anyway, so this is
// where write throughput comes from. PostgreSQL runs each change in its own
// transaction on its own connection: they proceed in parallel and only
// the short event append at their end is serialised (appendEvent).

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
	for {
		var group []*writeReq
		select {
		case r := <-s.writes:
			group = append(group, r)
		case <-s.quit:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case r := <-s.writes:
				group = append(group, r)
			default:
				break more
			}
		}
		s.commitGroup(group)
	}
}

func (s *Store) commitGroup(group []*writeReq) {
	defer func() {
		for _, r := range group {
			close(r.done)
		}
	}()
	bg := context.Background()
	tx, err := s.wdb.BeginTx(bg, nil)
	if err != nil {
		failAll(group, fmt.Errorf("store: begin: %w", err))
		return
	}
	var ok int
	for _, r := range group {
		if r.err = r.ctx.Err(); r.err != nil {
			continue // the caller has given up; do not write behind its back
		}
		if r.err = s.runOne(tx, r, len(group) > 1); r.err == nil {
			ok++
		}
	}
	if ok == 0 {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		failAll(group, fmt.Errorf("store: commit: %w", err))
		return
	}
	var head int64
	for _, r := range group {
		if r.err == nil && r.ev != nil {
			head = max(head, r.ev.Seq)
		}
	}
	if head > 0 && s.wake != nil {
		s.wake.notify(head)
	}
}

// runOne runs one change, inside a savepoint when it shares the
// transaction, and undoes it alone when it fails.
func (s *Store) runOne(tx bun.Tx, r *writeReq, shared bool) error {
	ctx := context.WithoutCancel(r.ctx)
	if !shared {
		ev, err := r.fn(ctx, tx)
		r.ev = ev
		return err
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT change"); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	ev, err := r.fn(ctx, tx)
	if err != nil {
		if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT change"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("store: rollback to savepoint: %w", rbErr))
		}
	}
	if _, relErr := tx.ExecContext(ctx, "RELEASE SAVEPOINT change"); relErr != nil && err == nil {
		err = fmt.Errorf("store: release savepoint: %w", relErr)
	}
	r.ev = ev
	return err
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

package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// pgTx is one change's transaction: the sqlstore.Tx the changes run in.
type pgTx struct{ tx bun.Tx }

var _ sqlstore.Tx = (*pgTx)(nil)

// write runs fn in a transaction of its own. The change runs with ctx's
// values but not its cancellation: a client that goes away mid-change
// gets its change either whole or not at all, as on SQLite.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *pgTx) error) error {
	err := s.W.RunInTx(context.WithoutCancel(ctx), nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, &pgTx{tx: tx})
	})
	if err != nil {
		return s.Fail(err)
	}
	s.Wrote()
	return nil
}

// PutMemory inserts m or replaces the memory with the same id. A create
// is tried first as one statement (create.go); when the id exists, or
// the event built for a create fails, the transaction decides.
func (s *Store) PutMemory(ctx context.Context, m *memoryd.Memory, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (bool, *memoryd.Event, error) {
	row, err := sqlstore.ToRow(m)
	if err != nil {
		return false, nil, err
	}
	if ev, err := mkEvent(nil); err == nil {
		if created, err := s.create(ctx, row, m, ev); created || err != nil {
			return created, ev, err
		}
	}
	var created bool
	var ev *memoryd.Event
	err = s.write(ctx, func(ctx context.Context, tx *pgTx) error {
		var err error
		created, ev, err = sqlstore.Put(ctx, tx, row, m, mkEvent)
		return err
	})
	if err != nil {
		return false, nil, err
	}
	return created, ev, nil
}

// UpdateMemory applies update to the stored version and saves the result.
func (s *Store) UpdateMemory(ctx context.Context, workspace, id string, update func(cur *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Memory, *memoryd.Event, error) {
	var cur *memoryd.Memory
	var ev *memoryd.Event
	err := s.write(ctx, func(ctx context.Context, tx *pgTx) error {
		var err error
		cur, ev, err = sqlstore.Update(ctx, tx, workspace, id, update)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return cur, ev, nil
}

// DeleteMemory removes a memory and appends its event.
func (s *Store) DeleteMemory(ctx context.Context, workspace, id string, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Event, error) {
	var ev *memoryd.Event
	err := s.write(ctx, func(ctx context.Context, tx *pgTx) error {
		var err error
		ev, err = sqlstore.Delete(ctx, tx, workspace, id, mkEvent)
		return err
	})
	return ev, err
}

// AppendEvent appends an event that comes with no change (every search
// appends one), as one statement outside BEGIN like a create (createSQL):
// one round trip, and the event counter's lock held for one statement.
func (s *Store) AppendEvent(ctx context.Context, ev *memoryd.Event) error {
	if err := sqlstore.Stamp(ev); err != nil {
		return err
	}
	err := s.W.QueryRowContext(context.WithoutCancel(ctx), appendEventSQL, appendArgs(ev)...).Scan(&ev.Seq, new(string))
	if err != nil {
		return s.Fail(fmt.Errorf("store: append event: %w", err))
	}
	s.Wrote()
	return nil
}

// AppendEvents appends events that come with no change in one statement
// (appendEventsSQL): one round trip and one commit for all of them.
func (s *Store) AppendEvents(ctx context.Context, evs []*memoryd.Event) error {
	if len(evs) == 0 {
		return nil
	}
	for _, ev := range evs {
		if err := sqlstore.Stamp(ev); err != nil {
			return err
		}
	}
	seqs, err := s.positions(context.WithoutCancel(ctx), appendEventsSQL, appendEventsArgs(evs))
	if err == nil && len(seqs) != len(evs) {
		err = fmt.Errorf("%d positions for %d events", len(seqs), len(evs))
	}
	if err != nil {
		return s.Fail(fmt.Errorf("store: append events: %w", err))
	}
	for i, ev := range evs {
		ev.Seq = seqs[i]
	}
	s.Wrote()
	return nil
}

// positions runs a statement that appends events (appendEventsTail) and
// returns their positions, in order.
func (s *Store) positions(ctx context.Context, query string, args []any) ([]int64, error) {
	rows, err := s.W.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq, new(string)); err != nil {
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	return seqs, rows.Err()
}

func (t *pgTx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *pgTx) InsertMemory(ctx context.Context, r *sqlstore.MemoryRow) (int64, error) {
	var rid int64
	err := t.tx.QueryRowContext(ctx, sqlstore.InsertMemorySQL+" RETURNING rid", r.InsertArgs()...).Scan(&rid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert memory: %w", err)
	}
	return rid, nil
}

// Current locks the memory's row until the transaction ends.
func (t *pgTx) Current(ctx context.Context, workspace, id string) (*sqlstore.Stored, error) {
	return sqlstore.Current(ctx, t.tx, sqlstore.CurrentSQL+" FOR UPDATE", workspace, id)
}

// InsertTags indexes all of a memory's tags in one statement.
func (t *pgTx) InsertTags(ctx context.Context, rid int64, tags []string) error {
	_, err := t.tx.ExecContext(ctx, "INSERT INTO memory_tags (rid, tag) SELECT ?, unnest(?::text[]) ON CONFLICT DO NOTHING", rid, pgdialect.Array(tags))
	return err
}

// FullText does nothing: the full-text index is on the row's text.
func (t *pgTx) FullText(int64, string, bool) {}

// AppendEvent takes the next position, stores the event and queues the
// NOTIFY sent at commit, in one round trip while the counter row is
// locked; the lock is held until commit, so positions become visible in
// order.
func (t *pgTx) AppendEvent(ctx context.Context, ev *memoryd.Event) error {
	if err := sqlstore.Stamp(ev); err != nil {
		return err
	}
	err := t.tx.NewRaw(appendEventSQL, appendArgs(ev)...).Scan(ctx, &ev.Seq, new(string))
	if err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	memoryd "github.com/memoryd/memoryd/server"
)

// notifyChannel is the PostgreSQL NOTIFY channel that wakes log tailers.
const notifyChannel = "memoryd_events"

type eventRow struct {
	Seq       int64  `bun:"seq"`
	Workspace string `bun:"workspace"`
	Type      string `bun:"type"`
	Payload   string `bun:"payload"`
	CreatedAt int64  `bun:"created_at"`
}

// appendEvent gives ev the next log position and stores it. It runs last
// in its transaction: the counter row stays locked until commit, so
// positions become visible in order.
func (s *Store) appendEvent(ctx context.Context, tx bun.Tx, ev *memoryd.Event) error {
	if ev == nil {
		return fmt.Errorf("store: a change needs an event")
	}
	stamp(ev)
	if s.pg {
		// One round trip while the counter row is locked: take the next
		// position, store the event, and queue the NOTIFY sent at commit.
		err := tx.NewRaw("WITH c AS (UPDATE event_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq),\n"+pgAppendSQL,
			pgAppendArgs(ev)...).Scan(ctx, &ev.Seq, new(string))
		if err != nil {
			return fmt.Errorf("store: append event: %w", err)
		}
		return nil
	}
	seq, err := s.nextSeq(ctx, tx)
	if err != nil {
		return err
	}
	ev.Seq = seq
	_, err = s.txExec(ctx, tx, insertEventSQL, ev.Seq, ev.Workspace, ev.Type, string(ev.Payload), micros(ev.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	return nil
}

// stamp gives ev its creation time unless it has one.
func stamp(ev *memoryd.Event) {
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = time.Now().UTC()
	}
}

// pgAppendSQL ends the PostgreSQL statements that append an event: given
// a CTE c holding the event's new position (none: nothing appended), it
// stores the event and queues the NOTIFY sent at commit, returning the
// position. Its arguments are pgAppendArgs.
const pgAppendSQL = `e AS (INSERT INTO events (seq, workspace, type, payload, created_at) SELECT c.seq, ?, ?, ?, ? FROM c RETURNING seq)
SELECT e.seq, pg_notify(?, e.seq::text) FROM e`

func pgAppendArgs(ev *memoryd.Event) []any {
	return []any{ev.Workspace, ev.Type, string(ev.Payload), micros(ev.CreatedAt), notifyChannel}
}

const (
	insertEventSQL  = "INSERT INTO events (seq, workspace, type, payload, created_at) VALUES (?, ?, ?, ?, ?)"
	readCounterSQL  = "SELECT seq FROM event_counter WHERE id = 1"
	writeCounterSQL = "UPDATE event_counter SET seq = ? WHERE id = 1"
)

// nextSeq takes the next log position on SQLite: the group reads the
// counter once and finishGroup writes it back once (the single writer
// holds the database's write lock for the whole transaction).
func (s *Store) nextSeq(ctx context.Context, tx bun.Tx) (int64, error) {
	g := s.grp
	if !g.haveSeq {
		row, err := s.txQueryRow(ctx, tx, readCounterSQL)
		if err == nil {
			err = row.Scan(&g.seq)
		}
		if err != nil {
			return 0, fmt.Errorf("store: next event position: %w", err)
		}
		g.haveSeq = true
	}
	g.seq++
	return g.seq, nil
}

// AppendEvent appends an event that comes with no change.
func (s *Store) AppendEvent(ctx context.Context, ev *memoryd.Event) error {
	return s.write(ctx, func(ctx context.Context, tx bun.Tx) (*memoryd.Event, error) {
		return ev, s.appendEvent(ctx, tx, ev)
	})
}

// ReadEvents returns up to limit events after position after, in order;
// workspace "" reads all workspaces.
func (s *Store) ReadEvents(ctx context.Context, workspace string, after int64, limit int) ([]*memoryd.Event, error) {
	q := s.db.NewSelect().Table("events").Column("seq", "workspace", "type", "payload", "created_at").
		Where("seq > ?", after).OrderExpr("seq ASC").Limit(limit)
	if workspace != "" {
		q = q.Where("workspace = ?", workspace)
	}
	var rows []eventRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	out := make([]*memoryd.Event, len(rows))
	for i, r := range rows {
		out[i] = &memoryd.Event{Seq: r.Seq, Workspace: r.Workspace, Type: r.Type, Payload: []byte(r.Payload), CreatedAt: fromMicros(r.CreatedAt)}
	}
	return out, nil
}

// EventBounds returns the oldest retained and the newest position.
// With an empty log both are the counter, so a client at that position
// is current and anything older has been pruned.
func (s *Store) EventBounds(ctx context.Context) (first, last int64, err error) {
	// One statement, so both bounds come from one snapshot.
	var counter int64
	var lo *int64
	err = s.db.QueryRowContext(ctx, "SELECT c.seq, (SELECT min(seq) FROM events) FROM event_counter c WHERE c.id = 1").Scan(&counter, &lo)
	if err != nil {
		return 0, 0, fmt.Errorf("store: event bounds: %w", err)
	}
	if lo == nil {
		if counter == 0 {
			return 0, 0, nil
		}
		return counter + 1, counter, nil
	}
	return *lo, counter, nil
}

// PruneEvents deletes events created before before (zero: no age limit)
// and all but the newest keep (<= 0: no count limit).
func (s *Store) PruneEvents(ctx context.Context, before time.Time, keep int64) (int64, error) {
	var total int64
	if !before.IsZero() {
		res, err := s.wdb.ExecContext(ctx, "DELETE FROM events WHERE created_at < ?", micros(before))
		if err != nil {
			return 0, fmt.Errorf("store: prune events: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	if keep > 0 {
		res, err := s.wdb.ExecContext(ctx, "DELETE FROM events WHERE seq <= (SELECT seq FROM event_counter WHERE id = 1) - ?", keep)
		if err != nil {
			return total, fmt.Errorf("store: prune events: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

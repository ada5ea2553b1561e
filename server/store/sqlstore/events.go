package sqlstore

import (
	"context"
	"fmt"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

type eventRow struct {
	Seq       int64  `bun:"seq"`
	Workspace string `bun:"workspace"`
	Type      string `bun:"type"`
	Payload   string `bun:"payload"`
	CreatedAt int64  `bun:"created_at"`
}

// Stamp gives ev its creation time unless it has one.
func Stamp(ev *memoryd.Event) error {
	if ev == nil {
		return fmt.Errorf("store: a change needs an event")
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = time.Now().UTC()
	}
	return nil
}

// ReadEvents returns up to limit events after position after, in order;
// workspace "" reads all workspaces.
func (b *Base) ReadEvents(ctx context.Context, workspace string, after int64, limit int) ([]*memoryd.Event, error) {
	q := b.R.NewSelect().Table("events").Column("seq", "workspace", "type", "payload", "created_at").
		Where("seq > ?", after).OrderExpr("seq ASC").Limit(limit)
	if workspace != "" {
		q = q.Where("workspace = ?", workspace)
	}
	var rows []eventRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, b.Fail(fmt.Errorf("store: read events: %w", err))
	}
	out := make([]*memoryd.Event, len(rows))
	for i, r := range rows {
		out[i] = &memoryd.Event{Seq: r.Seq, Workspace: r.Workspace, Type: r.Type, Payload: []byte(r.Payload), CreatedAt: FromMicros(r.CreatedAt)}
	}
	return out, nil
}

// EventBounds returns the oldest retained and the newest position.
// With an empty log both are the counter, so a client at that position
// is current and anything older has been pruned.
func (b *Base) EventBounds(ctx context.Context) (first, last int64, err error) {
	// One statement, so both bounds come from one snapshot.
	var counter int64
	var lo *int64
	err = b.R.QueryRowContext(ctx, "SELECT c.seq, (SELECT min(seq) FROM events) FROM event_counter c WHERE c.id = 1").Scan(&counter, &lo)
	if err != nil {
		return 0, 0, b.Fail(fmt.Errorf("store: event bounds: %w", err))
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
func (b *Base) PruneEvents(ctx context.Context, before time.Time, keep int64) (int64, error) {
	var total int64
	if !before.IsZero() {
		res, err := b.W.ExecContext(ctx, "DELETE FROM events WHERE created_at < ?", Micros(before))
		if err != nil {
			return 0, b.Fail(fmt.Errorf("store: prune events: %w", err))
		}
		n, _ := res.RowsAffected()
		total += n
	}
	if keep > 0 {
		res, err := b.W.ExecContext(ctx, "DELETE FROM events WHERE seq <= (SELECT seq FROM event_counter WHERE id = 1) - ?", keep)
		if err != nil {
			return total, b.Fail(fmt.Errorf("store: prune events: %w", err))
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

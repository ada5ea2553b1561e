package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun/dialect/pgdialect"

	memoryd "github.com/memoryd/memoryd/server"
)

// On PostgreSQL a create is one statement: the row, its tags, the next
// log position, the event and its NOTIFY, as data-modifying parts of one
// query. A statement outside BEGIN is a transaction of its own, as atomic
// as the BEGIN ... COMMIT it replaces, and it takes one round trip where
// that took five (BEGIN, row, tags, event, COMMIT). The event counter's
// row lock, which every write waits for, is held for the end of one
// statement instead of across two round trips. When the id exists the
// insert does nothing, every part after it sees no row, and nothing is
// written: the caller then replaces the memory in a transaction.
const pgCreateSQL = "WITH m AS (" + insertMemorySQL + ` RETURNING rid),
t AS (INSERT INTO memory_tags (rid, tag) SELECT m.rid, unnest(?::text[]) FROM m ON CONFLICT DO NOTHING),
c AS (UPDATE event_counter SET seq = seq + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM m) RETURNING seq),
` + pgAppendSQL

// pgCreate inserts r (the row of m) with ev, the event of its creation,
// unless the id exists; created reports which. ev gets its position.
func (s *Store) pgCreate(ctx context.Context, r *memoryRow, m *memoryd.Memory, ev *memoryd.Event) (created bool, err error) {
	stamp(ev)
	tags := m.Tags()
	if tags == nil {
		tags = []string{}
	}
	args := append(r.insertArgs(), pgdialect.Array(tags))
	err = s.wdb.QueryRowContext(context.WithoutCancel(ctx), pgCreateSQL, append(args, pgAppendArgs(ev)...)...).
		Scan(&ev.Seq, new(string))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: insert memory: %w", err)
	}
	return true, nil
}

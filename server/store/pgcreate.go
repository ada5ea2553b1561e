package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
const pgCreateSQL = `WITH m AS (
	INSERT INTO memories (workspace, id, text, metadata, type, source, embedding, embedding_model, dims, tokens, created_at, updated_at, created_by, updated_by)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace, id) DO NOTHING RETURNING rid),
t AS (INSERT INTO memory_tags (rid, tag) SELECT m.rid, unnest(?::text[]) FROM m ON CONFLICT DO NOTHING),
c AS (UPDATE event_counter SET seq = seq + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM m) RETURNING seq),
e AS (INSERT INTO events (seq, workspace, type, payload, created_at) SELECT c.seq, ?, ?, ?, ? FROM c RETURNING seq)
SELECT e.seq, pg_notify(?, e.seq::text) FROM e`

// pgCreate inserts r (the row of m) with ev, the event of its creation,
// unless the id exists; created reports which. ev gets its position.
func (s *Store) pgCreate(ctx context.Context, r *memoryRow, m *memoryd.Memory, ev *memoryd.Event) (created bool, err error) {
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = time.Now().UTC()
	}
	tags := m.Tags()
	if tags == nil {
		tags = []string{}
	}
	err = s.wdb.QueryRowContext(context.WithoutCancel(ctx), pgCreateSQL,
		r.Workspace, r.ID, r.Text, r.Metadata, r.Type, r.Source, r.Embedding, r.EmbeddingModel, r.Dims, r.Tokens,
		r.CreatedAt, r.UpdatedAt, r.CreatedBy, r.UpdatedBy,
		pgdialect.Array(tags),
		ev.Workspace, ev.Type, string(ev.Payload), micros(ev.CreatedAt),
		notifyChannel).Scan(&ev.Seq, new(string))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: insert memory: %w", err)
	}
	return true, nil
}

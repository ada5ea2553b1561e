package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	memoryd "github.com/memoryd/memoryd/server"
)

// The write path's statements (prepared once on SQLite, stmts.go).
const (
	insertMemorySQL = `INSERT INTO memories (workspace, id, text, metadata, type, source, embedding, embedding_model, dims, tokens, created_at, updated_at, created_by, updated_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace, id) DO NOTHING`
	updateMemorySQL = `UPDATE memories SET text = ?, metadata = ?, type = ?, source = ?, embedding = ?, embedding_model = ?, dims = ?, tokens = ?,
created_at = ?, updated_at = ?, created_by = ?, updated_by = ? WHERE rid = ?`
	currentSQL      = "SELECT " + memoryColumns + " FROM memories m WHERE m.workspace = ? AND m.id = ?"
	insertTagSQL    = "INSERT INTO memory_tags (rid, tag) VALUES (?, ?) ON CONFLICT DO NOTHING"
	deleteTagsSQL   = "DELETE FROM memory_tags WHERE rid = ?"
	deleteMemorySQL = "DELETE FROM memories WHERE rid = ?"
	ftsInsertSQL    = "INSERT INTO memories_fts (rowid, text) VALUES (?, ?)"
	ftsDeleteSQL    = "DELETE FROM memories_fts WHERE rowid = ?"
)

// PutMemory inserts m or replaces the memory with the same id. It tries
// the insert first (a new id is the common case, and the insert detects
// an existing one); only when the id exists does it read the stored
// version and replace it.
func (s *Store) PutMemory(ctx context.Context, m *memoryd.Memory, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (bool, *memoryd.Event, error) {
	// Encoded by the caller's goroutine: on SQLite the single writer is
	// the bottleneck, so it gets only the statements to run.
	row, err := toRow(m)
	if err != nil {
		return false, nil, err
	}
	if s.pg {
		// Built on the guess that the id is new (pgcreate.go); when it is
		// not, or the guess's event fails, the transaction below decides.
		if ev, err := mkEvent(nil); err == nil {
			if created, err := s.pgCreate(ctx, row, m, ev); created || err != nil {
				return created, ev, err
			}
		}
	}
	var created bool
	var ev *memoryd.Event
	err = s.write(ctx, func(ctx context.Context, tx bun.Tx) (*memoryd.Event, error) {
		rid, err := s.insertMemory(ctx, tx, row)
		if err != nil {
			return nil, err
		}
		if created = rid != 0; created {
			if ev, err = mkEvent(nil); err != nil {
				return nil, err
			}
			if err := s.writeSideRows(ctx, tx, rid, m, false); err != nil {
				return nil, err
			}
			return ev, s.appendEvent(ctx, tx, ev)
		}
		prev, err := s.current(ctx, tx, m.Workspace, m.ID)
		if err != nil {
			return nil, err
		}
		if ev, err = mkEvent(prev.Memory); err != nil {
			return nil, err
		}
		if err := s.replaceMemory(ctx, tx, prev.rid, m); err != nil {
			return nil, err
		}
		return ev, s.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return false, nil, err
	}
	return created, ev, nil
}

// UpdateMemory applies update to the stored version and saves the result.
func (s *Store) UpdateMemory(ctx context.Context, workspace, id string, update func(cur *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Memory, *memoryd.Event, error) {
	var cur *storedMemory
	var ev *memoryd.Event
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx) (*memoryd.Event, error) {
		var err error
		if cur, err = s.current(ctx, tx, workspace, id); err != nil {
			return nil, err
		}
		if ev, err = update(cur.Memory); err != nil {
			return nil, err
		}
		if err := s.replaceMemory(ctx, tx, cur.rid, cur.Memory); err != nil {
			return nil, err
		}
		return ev, s.appendEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, nil, err
	}
	return cur.Memory, ev, nil
}

// DeleteMemory removes a memory and appends its event.
func (s *Store) DeleteMemory(ctx context.Context, workspace, id string, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Event, error) {
	var ev *memoryd.Event
	err := s.write(ctx, func(ctx context.Context, tx bun.Tx) (*memoryd.Event, error) {
		prev, err := s.current(ctx, tx, workspace, id)
		if err != nil {
			return nil, err
		}
		if ev, err = mkEvent(prev.Memory); err != nil {
			return nil, err
		}
		for _, q := range []string{deleteTagsSQL, deleteMemorySQL} {
			if _, err := s.txExec(ctx, tx, q, prev.rid); err != nil {
				return nil, err
			}
		}
		s.queueFTS(prev.rid, "", true)
		return ev, s.appendEvent(ctx, tx, ev)
	})
	return ev, err
}

// GetMemory returns one memory of workspace.
func (s *Store) GetMemory(ctx context.Context, workspace, id string) (*memoryd.Memory, error) {
	m, err := s.current(ctx, s.db, workspace, id)
	if err != nil {
		return nil, err
	}
	return m.Memory, nil
}

// GetMemories loads the memories of workspace with the given ids.
func (s *Store) GetMemories(ctx context.Context, workspace string, ids []string) (map[string]*memoryd.Memory, error) {
	out := make(map[string]*memoryd.Memory, len(ids))
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		var rows []memoryRow
		err := s.db.NewRaw("SELECT "+memoryColumns+" FROM memories m WHERE m.workspace = ? AND m.id IN (?)", workspace, bun.In(ids[:n])).Scan(ctx, &rows)
		if err != nil {
			return nil, fmt.Errorf("store: get memories: %w", err)
		}
		for i := range rows {
			m, err := rows[i].memory()
			if err != nil {
				return nil, err
			}
			out[m.ID] = m
		}
		ids = ids[n:]
	}
	return out, nil
}

// EachVector calls fn for every stored vector, in insertion order.
func (s *Store) EachVector(ctx context.Context, fn func(workspace, id string, vec []float32) error) error {
	var after int64
	for {
		var rows []memoryRow
		err := s.db.NewRaw("SELECT m.rid, m.workspace, m.id, m.embedding FROM memories m WHERE m.rid > ? AND m.embedding IS NOT NULL ORDER BY m.rid LIMIT 1000", after).Scan(ctx, &rows)
		if err != nil {
			return fmt.Errorf("store: read vectors: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			if err := fn(r.Workspace, r.ID, decodeVector(r.Embedding)); err != nil {
				return err
			}
		}
		after = rows[len(rows)-1].RID
	}
}

// storedMemory is a memory with its row id, needed to rewrite its rows.
type storedMemory struct {
	*memoryd.Memory
	rid int64
}

// current reads one memory, locking its row on PostgreSQL when db is a
// transaction (SQLite's single writer already excludes others).
func (s *Store) current(ctx context.Context, db bun.IDB, workspace, id string) (*storedMemory, error) {
	q := currentSQL
	tx, inTx := db.(bun.Tx)
	if inTx && s.pg {
		q += " FOR UPDATE"
	}
	if inTx && !s.pg {
		return s.currentPrepared(ctx, tx, q, workspace, id)
	}
	var rows []memoryRow
	if err := db.NewRaw(q, workspace, id).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get memory: %w", err)
	}
	if len(rows) == 0 {
		return nil, memoryd.ErrNotFound
	}
	m, err := rows[0].memory()
	if err != nil {
		return nil, err
	}
	return &storedMemory{Memory: m, rid: rows[0].RID}, nil
}

// insertMemory inserts r unless its id exists; it returns the new row id,
// or 0 when the id exists (nothing written). SQLite reports the row id
// through the result: RETURNING would build a temporary table per
// statement, which costs more than the insert itself.
func (s *Store) insertMemory(ctx context.Context, tx bun.Tx, r *memoryRow) (int64, error) {
	args := r.insertArgs()
	var rid int64
	var err error
	if s.pg {
		err = tx.QueryRowContext(ctx, insertMemorySQL+" RETURNING rid", args...).Scan(&rid)
	} else {
		rid, err = s.insertedID(ctx, tx, insertMemorySQL, args)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert memory: %w", err)
	}
	return rid, nil
}

// insertedID runs an insert on SQLite and returns the new row's id;
// sql.ErrNoRows when it inserted nothing (a conflict).
func (s *Store) insertedID(ctx context.Context, tx bun.Tx, query string, args []any) (int64, error) {
	res, err := s.txExec(ctx, tx, query, args...)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, cmp.Or(err, sql.ErrNoRows)
	}
	return res.LastInsertId()
}

// insertArgs are r's values for insertMemorySQL.
func (r *memoryRow) insertArgs() []any {
	return []any{r.Workspace, r.ID, r.Text, r.Metadata, r.Type, r.Source, r.Embedding, r.EmbeddingModel, r.Dims, r.Tokens,
		r.CreatedAt, r.UpdatedAt, r.CreatedBy, r.UpdatedBy}
}

func (s *Store) replaceMemory(ctx context.Context, tx bun.Tx, rid int64, m *memoryd.Memory) error {
	r, err := toRow(m)
	if err != nil {
		return err
	}
	_, err = s.txExec(ctx, tx, updateMemorySQL,
		r.Text, r.Metadata, r.Type, r.Source, r.Embedding, r.EmbeddingModel, r.Dims, r.Tokens,
		r.CreatedAt, r.UpdatedAt, r.CreatedBy, r.UpdatedBy, rid)
	if err != nil {
		return fmt.Errorf("store: update memory: %w", err)
	}
	return s.writeSideRows(ctx, tx, rid, m, true)
}

// writeSideRows keeps the tag index and (SQLite) the full-text table in
// step with a memory row.
func (s *Store) writeSideRows(ctx context.Context, tx bun.Tx, rid int64, m *memoryd.Memory, replace bool) error {
	if replace {
		if _, err := s.txExec(ctx, tx, deleteTagsSQL, rid); err != nil {
			return err
		}
		s.queueFTS(rid, "", true)
	}
	if err := s.insertTags(ctx, tx, rid, m.Tags()); err != nil {
		return fmt.Errorf("store: tags: %w", err)
	}
	s.queueFTS(rid, m.Text, false)
	return nil
}

// insertTags indexes a memory's tags: one prepared insert per tag on
// SQLite (no round trips), one statement for all on PostgreSQL.
func (s *Store) insertTags(ctx context.Context, tx bun.Tx, rid int64, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	if s.pg {
		_, err := tx.ExecContext(ctx, "INSERT INTO memory_tags (rid, tag) SELECT ?, unnest(?::text[]) ON CONFLICT DO NOTHING", rid, pgdialect.Array(tags))
		return err
	}
	for _, tag := range tags {
		if _, err := s.txExec(ctx, tx, insertTagSQL, rid, tag); err != nil {
			return err
		}
	}
	return nil
}

// currentPrepared is current on SQLite's writer, with a prepared statement.
func (s *Store) currentPrepared(ctx context.Context, tx bun.Tx, q, workspace, id string) (*storedMemory, error) {
	row, err := s.txQueryRow(ctx, tx, q, workspace, id)
	if err != nil {
		return nil, fmt.Errorf("store: get memory: %w", err)
	}
	var r memoryRow
	err = row.Scan(&r.RID, &r.Workspace, &r.ID, &r.Text, &r.Metadata, &r.Type, &r.Source, &r.Embedding, &r.EmbeddingModel,
		&r.Dims, &r.Tokens, &r.CreatedAt, &r.UpdatedAt, &r.CreatedBy, &r.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, memoryd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get memory: %w", err)
	}
	m, err := r.memory()
	if err != nil {
		return nil, err
	}
	return &storedMemory{Memory: m, rid: r.RID}, nil
}

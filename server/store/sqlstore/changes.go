package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	memoryd "github.com/memoryd/memoryd/server"
)

// Tx is one engine's write transaction, as the changes below use it. The
// engine decides how statements run (SQLite: prepared on its single
// writer; PostgreSQL: as they come) and supplies the steps whose SQL
// differs.
type Tx interface {
	// Exec runs a write statement.
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	// InsertMemory runs InsertMemorySQL with r and returns the new row id,
	// or 0 when the id exists (nothing written).
	InsertMemory(ctx context.Context, r *MemoryRow) (int64, error)
	// Current reads the stored version of a memory for changing it,
	// ErrNotFound when there is none.
	Current(ctx context.Context, workspace, id string) (*Stored, error)
	// InsertTags indexes a memory's tags.
	InsertTags(ctx context.Context, rid int64, tags []string) error
	// FullText schedules a change of the full-text index where the engine
	// keeps one apart from the row: del removes rid's entry, otherwise
	// text is indexed.
	FullText(rid int64, text string, del bool)
	// AppendEvent gives ev the next log position and stores it, as the
	// last step of its change.
	AppendEvent(ctx context.Context, ev *memoryd.Event) error
}

// The statements of the changes; the engines prepare the hot ones.
const (
	InsertMemorySQL = `INSERT INTO memories (workspace, id, text, metadata, type, source, embedding, embedding_model, dims, tokens, created_at, updated_at, created_by, updated_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace, id) DO NOTHING`
	UpdateMemorySQL = `UPDATE memories SET text = ?, metadata = ?, type = ?, source = ?, embedding = ?, embedding_model = ?, dims = ?, tokens = ?,
created_at = ?, updated_at = ?, created_by = ?, updated_by = ? WHERE rid = ?`
	CurrentSQL      = "SELECT " + MemoryColumns + " FROM memories m WHERE m.workspace = ? AND m.id = ?"
	DeleteTagsSQL   = "DELETE FROM memory_tags WHERE rid = ?"
	DeleteMemorySQL = "DELETE FROM memories WHERE rid = ?"
)

// Put inserts m (encoded as row) or replaces the memory with the same id,
// as memoryd.MemoryStore.PutMemory describes. It tries the insert first
// (a new id is the common case, and the insert detects an existing one);
// only when the id exists does it read the stored version and replace it.
func Put(ctx context.Context, tx Tx, row *MemoryRow, m *memoryd.Memory, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (created bool, ev *memoryd.Event, err error) {
	rid, err := tx.InsertMemory(ctx, row)
	if err != nil {
		return false, nil, err
	}
	if rid != 0 {
		if ev, err = mkEvent(nil); err != nil {
			return false, nil, err
		}
		if err := writeSideRows(ctx, tx, rid, m, false); err != nil {
			return false, nil, err
		}
		return true, ev, AppendAll(ctx, tx, ev)
	}
	prev, err := tx.Current(ctx, m.Workspace, m.ID)
	if err != nil {
		return false, nil, err
	}
	if ev, err = mkEvent(prev.Memory); err != nil {
		return false, nil, err
	}
	if err := replace(ctx, tx, prev.RID, m); err != nil {
		return false, nil, err
	}
	return false, ev, AppendAll(ctx, tx, ev)
}

// Update applies update to the stored version and saves the result.
func Update(ctx context.Context, tx Tx, workspace, id string, update func(cur *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Memory, *memoryd.Event, error) {
	cur, err := tx.Current(ctx, workspace, id)
	if err != nil {
		return nil, nil, err
	}
	ev, err := update(cur.Memory)
	if err != nil {
		return nil, nil, err
	}
	if err := replace(ctx, tx, cur.RID, cur.Memory); err != nil {
		return nil, nil, err
	}
	return cur.Memory, ev, AppendAll(ctx, tx, ev)
}

// Delete removes a memory and appends the event mkEvent builds.
func Delete(ctx context.Context, tx Tx, workspace, id string, mkEvent func(prev *memoryd.Memory) (*memoryd.Event, error)) (*memoryd.Event, error) {
	prev, err := tx.Current(ctx, workspace, id)
	if err != nil {
		return nil, err
	}
	ev, err := mkEvent(prev.Memory)
	if err != nil {
		return nil, err
	}
	for _, q := range []string{DeleteTagsSQL, DeleteMemorySQL} {
		if _, err := tx.Exec(ctx, q, prev.RID); err != nil {
			return nil, err
		}
	}
	tx.FullText(prev.RID, "", true)
	return ev, AppendAll(ctx, tx, ev)
}

// AppendAll appends ev and then the events it carries in With, in order,
// in the change's transaction.
func AppendAll(ctx context.Context, tx Tx, ev *memoryd.Event) error {
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return err
	}
	for _, w := range ev.With {
		if err := tx.AppendEvent(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// replace overwrites row rid with m.
func replace(ctx context.Context, tx Tx, rid int64, m *memoryd.Memory) error {
	r, err := ToRow(m)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, UpdateMemorySQL,
		r.Text, r.Metadata, r.Type, r.Source, r.Embedding, r.EmbeddingModel, r.Dims, r.Tokens,
		r.CreatedAt, r.UpdatedAt, r.CreatedBy, r.UpdatedBy, rid)
	if err != nil {
		return fmt.Errorf("store: update memory: %w", err)
	}
	return writeSideRows(ctx, tx, rid, m, true)
}

// writeSideRows keeps the tag index and the full-text index in step with
// a memory row.
func writeSideRows(ctx context.Context, tx Tx, rid int64, m *memoryd.Memory, replace bool) error {
	if replace {
		if _, err := tx.Exec(ctx, DeleteTagsSQL, rid); err != nil {
			return err
		}
		tx.FullText(rid, "", true)
	}
	if tags := m.Tags(); len(tags) > 0 {
		if err := tx.InsertTags(ctx, rid, tags); err != nil {
			return fmt.Errorf("store: tags: %w", err)
		}
	}
	tx.FullText(rid, m.Text, false)
	return nil
}

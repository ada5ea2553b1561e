package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	memoryd "github.com/memoryd/memoryd/server"
)

// GetMemory returns one memory of workspace.
func (b *Base) GetMemory(ctx context.Context, workspace, id string) (*memoryd.Memory, error) {
	m, err := Current(ctx, b.R, CurrentSQL, workspace, id)
	if err != nil {
		return nil, b.Fail(err)
	}
	return m.Memory, nil
}

// Current reads one memory with query (CurrentSQL, perhaps with a lock
// added) on db; ErrNotFound when there is none.
func Current(ctx context.Context, db bun.IDB, query, workspace, id string) (*Stored, error) {
	var rows []MemoryRow
	if err := db.NewRaw(query, workspace, id).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: get memory: %w", err)
	}
	if len(rows) == 0 {
		return nil, memoryd.ErrNotFound
	}
	m, err := rows[0].Memory()
	if err != nil {
		return nil, err
	}
	return &Stored{Memory: m, RID: rows[0].RID}, nil
}

// GetMemories loads the memories of workspace with the given ids.
func (b *Base) GetMemories(ctx context.Context, workspace string, ids []string) (map[string]*memoryd.Memory, error) {
	return b.getMemories(ctx, readFull, workspace, ids)
}

// GetMemoriesMeta is GetMemories without the embeddings.
func (b *Base) GetMemoriesMeta(ctx context.Context, workspace string, ids []string) (map[string]*memoryd.Memory, error) {
	return b.getMemories(ctx, readMeta, workspace, ids)
}

// metaColumns are MemoryColumns with the embedding left out.
var metaColumns = strings.Replace(MemoryColumns, "m.embedding,", "NULL AS embedding,", 1)

func (b *Base) getMemories(ctx context.Context, read byIDs, workspace string, ids []string) (map[string]*memoryd.Memory, error) {
	out := make(map[string]*memoryd.Memory, len(ids))
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		rows, err := b.readByIDs(ctx, read, workspace, ids[:n])
		if err != nil {
			return nil, b.Fail(fmt.Errorf("store: get memories: %w", err))
		}
		for i := range rows {
			m, err := rows[i].Memory()
			if err != nil {
				return nil, err
			}
			out[m.ID] = m
		}
		ids = ids[n:]
	}
	return out, nil
}

// MemoriesByIDsSQLite and MemoriesByIDsPostgres are the statements that
// read memories by a JSON array of ids, with and without the embeddings,
// in each engine's words: one statement text for any number of ids, so an
// engine can prepare them (Base.PrepareReads). Every search reads its hits
// by id, and the IN list bun writes made each read a new statement for
// the database to parse and plan (and for bun to format).
var (
	MemoriesByIDsSQLite   = []string{readFull.sqlite, readMeta.sqlite}
	MemoriesByIDsPostgres = []string{readFull.postgres, readMeta.postgres}
)

// byIDs is a read of memories by id: the statement on each engine that
// takes the ids as a JSON array.
type byIDs struct{ sqlite, postgres string }

var readFull, readMeta = newByIDs(MemoryColumns), newByIDs(metaColumns)

func newByIDs(columns string) byIDs {
	from := "SELECT " + columns + " FROM memories m WHERE "
	return byIDs{
		from + "m.workspace = ? AND m.id IN (SELECT value FROM json_each(?))",
		from + "m.workspace = $1 AND m.id IN (SELECT json_array_elements_text($2::json))"}
}

// readByIDs reads the memories of workspace with the given ids, through
// the statement the engine prepared at open (PrepareReads).
func (b *Base) readByIDs(ctx context.Context, read byIDs, workspace string, ids []string) ([]MemoryRow, error) {
	query := read.sqlite
	if b.D.Name() == "postgres" {
		query = read.postgres
	}
	p, ok := b.preparedReads[query]
	if !ok {
		return nil, fmt.Errorf("store: the %s engine did not prepare its reads by id (PrepareReads)", b.D.Name())
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	r, err := p.QueryContext(ctx, workspace, string(list))
	if err != nil {
		return nil, err
	}
	var rows []MemoryRow
	err = b.R.ScanRows(ctx, r, &rows) // closes r
	return rows, err
}

// EachVector calls fn for every stored vector, in insertion order.
func (b *Base) EachVector(ctx context.Context, fn func(workspace, id string, vec []float32) error) error {
	var after int64
	for {
		var rows []MemoryRow
		err := b.R.NewRaw("SELECT m.rid, m.workspace, m.id, m.embedding FROM memories m WHERE m.rid > ? AND m.embedding IS NOT NULL ORDER BY m.rid LIMIT 1000", after).Scan(ctx, &rows)
		if err != nil {
			return b.Fail(fmt.Errorf("store: read vectors: %w", err))
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			if err := fn(r.Workspace, r.ID, DecodeVector(r.Embedding)); err != nil {
				return err
			}
		}
		after = rows[len(rows)-1].RID
	}
}

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	memoryd "github.com/memoryd/memoryd/server"
)

// PutAll puts each of ms (encoded as rows) in tx, as Put does one, for
// memoryd.BatchPutter. It returns each memory's outcome and event.
func PutAll(ctx context.Context, tx Tx, rows []*MemoryRow, ms []*memoryd.Memory, mkEvent func(i int, prev *memoryd.Memory) (*memoryd.Event, error)) ([]bool, []*memoryd.Event, error) {
	created := make([]bool, len(ms))
	evs := make([]*memoryd.Event, len(ms))
	for i, m := range ms {
		mk := func(prev *memoryd.Memory) (*memoryd.Event, error) { return mkEvent(i, prev) }
		c, ev, err := Put(ctx, tx, rows[i], m, mk)
		if err != nil {
			return nil, nil, fmt.Errorf("store: batch item %d: %w", i, err)
		}
		created[i], evs[i] = c, ev
	}
	return created, evs, nil
}

// Rows encodes ms for PutAll, outside the writer.
func Rows(ms []*memoryd.Memory) ([]*MemoryRow, error) {
	rows := make([]*MemoryRow, len(ms))
	for i, m := range ms {
		r, err := ToRow(m)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

// ExportMemories reads a page of workspace's memories in row order (the
// order of first insertion: a replace keeps its row), for
// memoryd.Exporter. The position is the row id, opaque to clients.
func (b *Base) ExportMemories(ctx context.Context, workspace, after string, limit int) ([]*memoryd.Memory, []string, error) {
	var from int64
	if after != "" {
		raw, err := base64.RawURLEncoding.DecodeString(after)
		if err == nil {
			from, err = strconv.ParseInt(string(raw), 10, 64)
		}
		if err != nil || from < 0 {
			return nil, nil, memoryd.Errorf(memoryd.EINVALID, "cursor is not one this server issued")
		}
	}
	var rows []MemoryRow
	err := b.R.NewRaw("SELECT "+MemoryColumns+" FROM memories m WHERE m.workspace = ? AND m.rid > ? ORDER BY m.rid LIMIT ?",
		workspace, from, limit).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, b.Fail(fmt.Errorf("store: export memories: %w", err))
	}
	out := make([]*memoryd.Memory, 0, len(rows))
	pos := make([]string, 0, len(rows))
	for i := range rows {
		m, err := rows[i].Memory()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, m)
		pos = append(pos, ExportPosition(rows[i].RID))
	}
	return out, pos, nil
}

// ExportPosition encodes a row id as an export position.
func ExportPosition(rid int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(rid, 10)))
}

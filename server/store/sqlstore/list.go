package sqlstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	memoryd "github.com/memoryd/memoryd/server"
)

// ListMemories returns one page of workspace's memories matching the
// filter, newest first. The cursor is the (created_at, id) of the last row
// served, so pages neither skip nor repeat rows when others are inserted.
func (b *Base) ListMemories(ctx context.Context, workspace string, lq memoryd.ListQuery) (*memoryd.ListPage, error) {
	limit := lq.Limit
	if limit <= 0 {
		limit = 20
	}
	q, err := b.applyFilter(b.R.NewSelect().TableExpr("memories AS m"), workspace, lq.Filter)
	if err != nil {
		return nil, err
	}
	total, err := q.Count(ctx)
	if err != nil {
		return nil, b.Fail(fmt.Errorf("store: count memories: %w", err))
	}
	if lq.Cursor != "" {
		at, id, err := decodeCursor(lq.Cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("(m.created_at < ? OR (m.created_at = ? AND m.id < ?))", at, at, id)
	}
	var rows []MemoryRow
	err = q.ColumnExpr(MemoryColumns).OrderExpr("m.created_at DESC, m.id DESC").Limit(limit+1).Scan(ctx, &rows)
	if err != nil {
		return nil, b.Fail(fmt.Errorf("store: list memories: %w", err))
	}
	page := &memoryd.ListPage{Total: total, Memories: make([]*memoryd.Memory, 0, min(len(rows), limit))}
	for i := range rows[:min(len(rows), limit)] {
		m, err := rows[i].Memory()
		if err != nil {
			return nil, err
		}
		page.Memories = append(page.Memories, m)
	}
	if len(rows) > limit {
		last := rows[limit-1]
		page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// MatchIDs returns the ids of every memory of workspace matching f.
func (b *Base) MatchIDs(ctx context.Context, workspace string, f memoryd.Filter) ([]string, error) {
	q, err := b.applyFilter(b.R.NewSelect().TableExpr("memories AS m").Column("m.id"), workspace, f)
	if err != nil {
		return nil, err
	}
	var ids []string
	if err := q.Scan(ctx, &ids); err != nil {
		return nil, b.Fail(fmt.Errorf("store: match memories: %w", err))
	}
	return ids, nil
}

func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	bad := memoryd.Errorf(memoryd.EINVALID, "cursor is not one this server issued")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	at, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return 0, "", bad
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return 0, "", bad
	}
	return n, id, nil
}

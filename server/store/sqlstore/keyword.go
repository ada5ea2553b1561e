package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	memoryd "github.com/memoryd/memoryd/server"
)

// KeywordSearch ranks workspace's memories matching f by full-text relevance
// to any word of query (the Dialect's KeywordMatch). Scores are mapped into
// (0, 1), higher is better.
func (b *Base) KeywordSearch(ctx context.Context, workspace, query string, f memoryd.Filter, limit int) ([]memoryd.Scored, error) {
	words := queryWords(query)
	if len(words) == 0 || limit <= 0 {
		return nil, nil
	}
	q := b.D.KeywordMatch(b.R.NewSelect().TableExpr("memories AS m").Column("m.id"), words)
	q, err := b.applyFilter(q, workspace, f)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID    string  `bun:"id"`
		Score float64 `bun:"score"`
	}
	if err := q.OrderExpr("score DESC, m.id").Limit(limit).Scan(ctx, &rows); err != nil {
		return nil, b.Fail(fmt.Errorf("store: keyword search: %w", err))
	}
	out := make([]memoryd.Scored, len(rows))
	for i, r := range rows {
		sc := max(r.Score, 0)
		out[i] = memoryd.Scored{ID: r.ID, Score: float32(sc / (1 + sc))}
	}
	return out, nil
}

// queryWords splits a query into lower-case words of letters and digits,
// which is all either full-text syntax needs to be safe.
func queryWords(query string) []string {
	fields := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(fields) > 32 {
		fields = fields[:32]
	}
	return fields
}

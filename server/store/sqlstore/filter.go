package sqlstore

import (
	"encoding/json"

	"github.com/uptrace/bun"

	memoryd "github.com/memoryd/memoryd/server"
)

// applyFilter adds f's conditions on the memories alias m to q.
func (b *Base) applyFilter(q *bun.SelectQuery, workspace string, f memoryd.Filter) (*bun.SelectQuery, error) {
	q = q.Where("m.workspace = ?", workspace)
	if f.Type != "" {
		q = q.Where("m.type = ?", f.Type)
	}
	if f.Source != "" {
		q = q.Where("m.source = ?", f.Source)
	}
	for _, tag := range f.Tags {
		q = q.Where("EXISTS (SELECT 1 FROM memory_tags t WHERE t.rid = m.rid AND t.tag = ?)", tag)
	}
	if f.CreatedAfter != nil {
		q = q.Where("m.created_at >= ?", Micros(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		q = q.Where("m.created_at < ?", Micros(*f.CreatedBefore))
	}
	for key, want := range f.Metadata {
		switch want.(type) {
		case string, bool, float64, float32, int, int64, json.Number, nil:
		default:
			return nil, memoryd.Errorf(memoryd.EINVALID, "metadata filter %q must be a string, number, boolean or null", key)
		}
		cond, args := b.D.MetadataEquals(key, want)
		q = q.Where(cond, args...)
	}
	return q, nil
}

package store

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	memoryd "github.com/memoryd/memoryd/server"
)

// applyFilter adds f's conditions on the memories alias m to q.
func (s *Store) applyFilter(q *bun.SelectQuery, workspace string, f memoryd.Filter) (*bun.SelectQuery, error) {
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
		q = q.Where("m.created_at >= ?", micros(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		q = q.Where("m.created_at < ?", micros(*f.CreatedBefore))
	}
	for key, want := range f.Metadata {
		cond, args, err := s.metadataEquals(key, want)
		if err != nil {
			return nil, err
		}
		q = q.Where(cond, args...)
	}
	return q, nil
}

// metadataEquals compares the top-level metadata key with a JSON scalar.
func (s *Store) metadataEquals(key string, want any) (string, []any, error) {
	switch want.(type) {
	case string, bool, float64, float32, int, int64, json.Number, nil:
	default:
		return "", nil, memoryd.Errorf(memoryd.EINVALID, "metadata filter %q must be a string, number, boolean or null", key)
	}
	if s.pg {
		enc, _ := json.Marshal(want)
		return "m.metadata -> ? = CAST(? AS jsonb)", []any{key, string(enc)}, nil
	}
	path := `$."` + strings.ReplaceAll(key, `"`, `\"`) + `"`
	switch v := want.(type) {
	case bool:
		return "json_type(m.metadata, ?) = ?", []any{path, fmt.Sprint(v)}, nil
	case nil:
		return "json_type(m.metadata, ?) = 'null'", []any{path}, nil
	case string:
		return "json_type(m.metadata, ?) = 'text' AND json_extract(m.metadata, ?) = ?", []any{path, path, v}, nil
	default:
		return "json_type(m.metadata, ?) IN ('integer', 'real') AND json_extract(m.metadata, ?) = ?", []any{path, path, v}, nil
	}
}

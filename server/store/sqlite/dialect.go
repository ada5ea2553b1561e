package sqlite

import (
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// dialect is SQLite's SQL on the shared paths.
type dialect struct{}

func (dialect) Name() string { return "sqlite" }

// pathEscaper quotes a key for a JSON path's "..." label, inside which
// SQLite reads backslash escapes.
var pathEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

func (dialect) MetadataEquals(key string, want any) (string, []any) {
	path := `$."` + pathEscaper.Replace(key) + `"`
	switch v := want.(type) {
	case bool:
		return "json_type(m.metadata, ?) = ?", []any{path, fmt.Sprint(v)}
	case nil:
		return "json_type(m.metadata, ?) = 'null'", []any{path}
	case string:
		return "json_type(m.metadata, ?) = 'text' AND json_extract(m.metadata, ?) = ?", []any{path, path, v}
	default:
		return "json_type(m.metadata, ?) IN ('integer', 'real') AND json_extract(m.metadata, ?) = ?", []any{path, path, v}
	}
}

// KeywordMatch ranks with FTS5's bm25 (lower is better, hence negated).
func (dialect) KeywordMatch(q *bun.SelectQuery, words []string) *bun.SelectQuery {
	match := `"` + strings.Join(words, `" OR "`) + `"`
	return q.Join("JOIN memories_fts ON memories_fts.rowid = m.rid").
		ColumnExpr("-bm25(memories_fts) AS score").
		Where("memories_fts MATCH ?", match)
}

// Classify: SQLITE_FULL is a full disk (SQLite reports the file system's
// ENOSPC so) or a database at its max_page_count.
func (dialect) Classify(err error) sqlstore.Failure {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return sqlstore.Full
	}
	return sqlstore.Other
}

func (dialect) IsUniqueViolation(err error) bool {
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

package sqlstore

import "github.com/uptrace/bun"

// Dialect is the SQL that differs between the engines on the shared paths.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// MetadataEquals is the condition that the top-level metadata key of
	// the memories alias m equals want, a JSON scalar (string, number,
	// boolean or nil), with its arguments.
	MetadataEquals(key string, want any) (string, []any)
	// KeywordMatch restricts q (over memories AS m) to rows whose text
	// holds any of words, and adds their relevance as the column score,
	// higher is better. words are letters and digits only.
	KeywordMatch(q *bun.SelectQuery, words []string) *bun.SelectQuery
	// Classify tells the failures that make the database unavailable
	// from the others.
	Classify(err error) Failure
	// IsUniqueViolation reports a duplicate key.
	IsUniqueViolation(err error) bool
}

// Failure is a kind of database error, as Dialect.Classify sees it.
type Failure int

const (
	// Other is any failure not below: an internal error.
	Other Failure = iota
	// Full means the database's storage has no room left: writes fail
	// until some is freed.
	Full
	// Unreachable means the connection to the database failed.
	Unreachable
)

package postgres

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// dialect is PostgreSQL's SQL on the shared paths.
type dialect struct{}

func (dialect) Name() string { return "postgres" }

func (dialect) MetadataEquals(key string, want any) (string, []any) {
	enc, _ := json.Marshal(want)
	return "m.metadata -> ? = CAST(? AS jsonb)", []any{key, string(enc)}
}

// KeywordMatch ranks with ts_rank over the text's simple-configuration
// vector (the migration indexes the same expression).
func (dialect) KeywordMatch(q *bun.SelectQuery, words []string) *bun.SelectQuery {
	tsq := "'" + strings.Join(words, "' | '") + "'"
	return q.ColumnExpr("ts_rank(to_tsvector('simple', m.text), to_tsquery('simple', ?)) AS score", tsq).
		Where("to_tsvector('simple', m.text) @@ to_tsquery('simple', ?)", tsq)
}

// Classify reads the SQLSTATE: class 53 (insufficient resources: disk
// full, out of memory, too many connections) is Full when it is the disk
// and Unreachable otherwise, as are class 08 (connection exceptions) and
// the server shutting down or starting (57P01-57P03). An error with no
// SQLSTATE from the connection (refused, reset, closed) is Unreachable.
//
// A connection that could not be made (the dial, or the host's name
// lookup, failed or timed out) is Unreachable even when it ran out of
// time: Go reports the driver's dial timeout as context.DeadlineExceeded,
// but it is the database that did not answer, not the caller's limit.
func (dialect) Classify(err error) sqlstore.Failure {
	if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
		return sqlstore.Unreachable
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sqlstore.Other // the caller's limit, not the database's state
	}
	var pe pgdriver.Error
	if errors.As(err, &pe) {
		code := pe.Field('C')
		switch {
		case code == "53100":
			return sqlstore.Full
		case strings.HasPrefix(code, "53"), strings.HasPrefix(code, "08"),
			code == "57P01", code == "57P02", code == "57P03":
			return sqlstore.Unreachable
		}
		return sqlstore.Other
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return sqlstore.Unreachable
	}
	return sqlstore.Other
}

func (dialect) IsUniqueViolation(err error) bool {
	var pe pgdriver.Error
	return errors.As(err, &pe) && pe.Field('C') == "23505"
}

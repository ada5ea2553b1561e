package store

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"
)

// On SQLite the write path's statements run with real parameters, prepared
// once per group transaction: bun formats values into the SQL text, which
// would make SQLite parse every statement of every change anew. They are
// prepared on the transaction itself (the writer's only connection is
// busy with it) and closed when it ends. Only the writer goroutine uses
// txStmts. PostgreSQL statements go through bun as usual.

// txStmt returns tx's prepared statement for query.
func (s *Store) txStmt(ctx context.Context, tx bun.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.txStmts[query]; ok {
		return st, nil
	}
	st, err := tx.Tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.txStmts[query] = st
	return st, nil
}

// txExec runs a write statement in tx.
func (s *Store) txExec(ctx context.Context, tx bun.Tx, query string, args ...any) (sql.Result, error) {
	if s.pg {
		return tx.ExecContext(ctx, query, args...)
	}
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// txQueryRow runs a one-row query in tx.
func (s *Store) txQueryRow(ctx context.Context, tx bun.Tx, query string, args ...any) (*sql.Row, error) {
	if s.pg {
		return tx.QueryRowContext(ctx, query, args...), nil
	}
	st, err := s.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/uptrace/bun"
)

// On SQLite the write path's statements run with real parameters: bun
// formats values into the SQL text, which would make SQLite parse every
// statement of every change anew. The hot ones are prepared once on the
// writer's connection when the store opens (hotWrites) and bound to each
// group's transaction; others are prepared on the transaction and closed
// with it. Only the writer goroutine uses them. PostgreSQL statements go
// through bun as usual.

// hotWrites are the statements of creates, updates, deletes and event
// appends, prepared at open.
var hotWrites = []string{
	insertMemorySQL, updateMemorySQL, currentSQL,
	deleteTagsSQL, deleteMemorySQL,
	insertTagSQL, insertEventSQL, readCounterSQL, writeCounterSQL,
	ftsInsertSQL, ftsDeleteSQL,
}

// prepareWrites prepares hotWrites on the writer's only connection; the
// writer is idle then, so the connection is free.
func (s *Store) prepareWrites(ctx context.Context) error {
	s.prepared = make(map[string]*sql.Stmt, len(hotWrites))
	for _, q := range hotWrites {
		st, err := s.wdb.DB.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", q, err)
		}
		s.prepared[q] = st
	}
	return nil
}

// txStmt returns the current group transaction's statement for query.
func (s *Store) txStmt(ctx context.Context, tx bun.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.grp.stmts[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if p, ok := s.prepared[query]; ok {
		// Reuses p's preparation on the connection (re-prepares only if
		// the pool replaced the connection).
		st = tx.Tx.StmtContext(ctx, p)
	} else {
		var err error
		if st, err = tx.Tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	s.grp.stmts[query] = st
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

func (s *Store) closePrepared() {
	for _, st := range s.prepared {
		st.Close()
	}
}

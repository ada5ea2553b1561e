package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// The write path's statements run with real parameters: bun formats
// values into the SQL text, which would make SQLite parse every statement
// of every change anew. The hot ones are prepared once on the writer's
// connection when the store opens (hotWrites) and bound to each group's
// transaction; others are prepared on the transaction and closed with it.
// Only the writer goroutine uses them.

// hotWrites are the statements of creates, updates, deletes and event
// appends, prepared at open.
var hotWrites = []string{
	sqlstore.InsertMemorySQL, sqlstore.UpdateMemorySQL, sqlstore.CurrentSQL,
	sqlstore.DeleteTagsSQL, sqlstore.DeleteMemorySQL,
	insertTagSQL, insertEventSQL, readCounterSQL, writeCounterSQL,
	ftsInsertSQL, ftsDeleteSQL,
}

// prepareWrites prepares hotWrites on the writer's only connection; the
// writer is idle then, so the connection is free.
func (s *Store) prepareWrites(ctx context.Context) error {
	s.prepared = make(map[string]*sql.Stmt, len(hotWrites))
	for _, q := range hotWrites {
		st, err := s.W.DB.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", q, err)
		}
		s.prepared[q] = st
	}
	if err := s.Prepare(ctx, sqlstore.WebhookHotSQL); err != nil {
		return err
	}
	return s.PrepareReads(ctx, slices.Concat(sqlstore.WebhookHotReads, sqlstore.MemoriesByIDsSQLite))
}

// stmt returns the group transaction's statement for query.
func (g *groupTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := g.stmts[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if p, ok := g.s.prepared[query]; ok {
		// Reuses p's preparation on the connection (re-prepares only if
		// the pool replaced the connection).
		st = g.tx.StmtContext(ctx, p)
	} else {
		var err error
		if st, err = g.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	g.stmts[query] = st
	return st, nil
}

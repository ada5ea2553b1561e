package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/uptrace/bun"
)

// bun writes arguments into the SQL text, so SQLite parses every such
// statement anew; under webhook load that parsing was about a fifth of
// the CPU. An engine whose writes share one connection (SQLite) prepares
// the hot statements once with Prepare, and transactions bind them.
// Elsewhere (PostgreSQL's pool) statements in transactions stay as they
// are: binding a pool-prepared statement to a transaction on another
// connection would prepare it again on every use. Reads outside
// transactions may be prepared on either engine (PrepareReads): the pool
// prepares such a statement once on each connection that runs it.

// Prepare prepares queries on W for the txExec and txQuery of later
// transactions. Call it once, before the store is used.
func (b *Base) Prepare(ctx context.Context, queries []string) (err error) {
	b.prepared, err = prepareAll(ctx, b.W, b.prepared, queries)
	return err
}

// PrepareReads prepares queries on R for reads outside transactions
// (each of R's connections prepares a statement once, when it first
// runs it). Call it once, before the store is used.
func (b *Base) PrepareReads(ctx context.Context, queries []string) (err error) {
	b.preparedReads, err = prepareAll(ctx, b.R, b.preparedReads, queries)
	return err
}

// ClosePrepared closes what Prepare and PrepareReads prepared. Call it
// once, when the store closes, before W and R.
func (b *Base) ClosePrepared() {
	for _, m := range []map[string]*sql.Stmt{b.prepared, b.preparedReads} {
		for _, st := range m {
			st.Close()
		}
	}
}

func prepareAll(ctx context.Context, db *bun.DB, into map[string]*sql.Stmt, queries []string) (map[string]*sql.Stmt, error) {
	if into == nil {
		into = make(map[string]*sql.Stmt, len(queries))
	}
	for _, q := range queries {
		st, err := db.DB.PrepareContext(ctx, q)
		if err != nil {
			return into, fmt.Errorf("store: prepare %q: %w", q, err)
		}
		into[q] = st
	}
	return into, nil
}

// txExec runs query in tx, prepared if Prepare prepared it.
func (b *Base) txExec(ctx context.Context, tx bun.Tx, query string, args ...any) (sql.Result, error) {
	if p, ok := b.prepared[query]; ok {
		return tx.Tx.StmtContext(ctx, p).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQuery runs query in tx, prepared if Prepare prepared it.
func (b *Base) txQuery(ctx context.Context, tx bun.Tx, query string, args ...any) (*sql.Rows, error) {
	if p, ok := b.prepared[query]; ok {
		return tx.Tx.StmtContext(ctx, p).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// Package postgres is the production store: memories, the event log and
// API keys in PostgreSQL, shared by every node. Each change runs in its
// own transaction on its own connection, so changes proceed in parallel;
// only the short event append at their end is serialised.
//
// Event positions (seq) come from a one-row counter, updated last in each
// transaction: its row lock orders appends by commit, so a reader tailing
// the log by position never sees seq n+1 before seq n.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements memoryd.MemoryStore, EventLog, KeyStore and Pinger on
// PostgreSQL. Reads and writes share one pool.
type Store struct {
	sqlstore.Base
	analyze analyzer
	follow  follower // the LISTEN connection (listen.go)
}

var (
	_ memoryd.MemoryStore = (*Store)(nil)
	_ memoryd.EventLog    = (*Store)(nil)
	_ memoryd.KeyStore    = (*Store)(nil)
	_ memoryd.Pinger      = (*Store)(nil)
)

// poolSize bounds the connections of one node: enough for its concurrent
// writes, each in a transaction of its own.
const poolSize = 32

// Open connects to dsn (postgres://...) and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	sqldb.SetMaxOpenConns(poolSize)
	sqldb.SetMaxIdleConns(poolSize)
	db := bun.NewDB(sqldb, pgdialect.New())
	s := &Store{Base: sqlstore.NewBase(db, db, dialect{})}
	if err := s.start(ctx); err != nil {
		db.Close()
		return nil, s.Fail(err)
	}
	return s, nil
}

func (s *Store) start(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if err := s.PrepareReads(ctx, sqlstore.MemoriesByIDsPostgres); err != nil {
		return err
	}
	return s.LoadEpoch(ctx)
}

// migrate applies pending migrations under an advisory lock, so several
// nodes starting at once do not race.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connect: %w", err)
	}
	defer conn.Close()
	const lockID = 0x6d656d6f7279 // "memory"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", lockID); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", lockID)
	sub, _ := fs.Sub(migrations, "migrations")
	return sqlstore.Migrate(ctx, conn, sub)
}

// Close waits for a running ANALYZE and releases the connections.
func (s *Store) Close() error {
	s.analyze.wg.Wait()
	s.follow.stop()
	s.ClosePrepared()
	return s.R.Close()
}

// Ping checks the database answers (readiness) and, after a write failed
// for lack of space, that writes go through again.
func (s *Store) Ping(ctx context.Context) error {
	return s.Base.Ping(ctx, func(ctx context.Context) error {
		return s.write(ctx, func(ctx context.Context, tx *pgTx) error { return sqlstore.ProbeWrite(ctx, tx) })
	})
}

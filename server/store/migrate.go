package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/uptrace/bun"
)

//go:embed migrations
var migrations embed.FS

// migrationConn is what migrations need of a *bun.DB or a bun.Conn.
type migrationConn interface {
	bun.IConn
	BeginTx(ctx context.Context, opts *sql.TxOptions) (bun.Tx, error)
}

// migrate applies the embedded migrations of the store's dialect that the
// database has not seen yet, each in its own transaction. On PostgreSQL an
// advisory lock keeps several nodes starting at once from racing.
func (s *Store) migrate(ctx context.Context) error {
	dir := "migrations/" + s.Dialect()
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return s.withMigrationLock(ctx, func(conn migrationConn) error {
		if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)"); err != nil {
			return fmt.Errorf("store: migrations table: %w", err)
		}
		for _, name := range names {
			if err := s.applyMigration(ctx, conn, name); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) withMigrationLock(ctx context.Context, fn func(migrationConn) error) error {
	if !s.pg {
		return fn(s.wdb)
	}
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connect: %w", err)
	}
	defer conn.Close()
	const lockID = 0x6d656d6f7279 // "memory"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", lockID); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", lockID)
	return fn(conn)
}

func (s *Store) applyMigration(ctx context.Context, conn migrationConn, name string) error {
	version := strings.TrimSuffix(name[strings.LastIndex(name, "/")+1:], ".sql")
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
		return fmt.Errorf("store: read migrations: %w", err)
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range splitStatements(string(body)) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: migration %s: %w", version, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES (?)", version); err != nil {
		return err
	}
	return tx.Commit()
}

// splitStatements splits a migration on blank lines and drops comment-only
// chunks; migrations keep one statement per paragraph.
func splitStatements(body string) []string {
	var out []string
	for _, chunk := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
		var code []string
		for _, line := range strings.Split(chunk, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				code = append(code, line)
			}
		}
		if len(code) > 0 {
			out = append(out, strings.Join(code, "\n"))
		}
	}
	return out
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/uptrace/bun"
)

// MigrationConn is what migrations need of a *bun.DB or a bun.Conn.
type MigrationConn interface {
	bun.IConn
	BeginTx(ctx context.Context, opts *sql.TxOptions) (bun.Tx, error)
}

// Migrate applies the migrations in fsys (*.sql at its root, applied in
// name order) that the database has not seen yet, each in its own
// transaction. Several processes starting at once must hold a lock
// around it (the caller's).
func Migrate(ctx context.Context, conn MigrationConn, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)"); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, name := range names {
		if err := applyMigration(ctx, conn, fsys, name); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn MigrationConn, fsys fs.FS, name string) error {
	version := strings.TrimSuffix(name, ".sql")
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
		return fmt.Errorf("store: read migrations: %w", err)
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(fsys, name)
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

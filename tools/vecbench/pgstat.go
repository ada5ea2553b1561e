package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// pgStatSettings load pg_stat_statements (-pg-statements), which counts
// every statement PostgreSQL runs and the time it took.
var pgStatSettings = []string{"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all"}

// pgStats reads pg_stat_statements of the benchmark's database.
type pgStats struct{ db *sql.DB }

func openPGStats(ctx context.Context, dsn string) (*pgStats, error) {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	if _, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		db.Close()
		return nil, fmt.Errorf("pg_stat_statements: %w", err)
	}
	return &pgStats{db: db}, nil
}

func (p *pgStats) reset(ctx context.Context) error {
	_, err := p.db.ExecContext(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

// print shows the statements that took the most time since reset, per
// search: how often each ran and how long it took.
func (p *pgStats) print(ctx context.Context, searches int) error {
	rows, err := p.db.QueryContext(ctx, `SELECT calls, total_exec_time, query FROM pg_stat_statements
		WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 10`)
	if err != nil {
		return err
	}
	defer rows.Close()
	// Plans follow the table statistics: a table loaded since its last
	// ANALYZE may be read with a plan made for a much smaller one.
	var analyzed sql.NullTime
	var changed int64
	if err := p.db.QueryRowContext(ctx, `SELECT greatest(last_analyze, last_autoanalyze), n_mod_since_analyze
		FROM pg_stat_user_tables WHERE relname = 'memories'`).Scan(&analyzed, &changed); err != nil {
		return err
	}
	when := "never"
	if analyzed.Valid {
		when = time.Since(analyzed.Time).Round(time.Second).String() + " ago"
	}
	fmt.Printf("  memories last analyzed %s, %d rows changed since\n", when, changed)
	fmt.Printf("  %10s %10s  %s\n", "calls/srch", "ms/search", "statement")
	for rows.Next() {
		var calls int64
		var ms float64
		var q string
		if err := rows.Scan(&calls, &ms, &q); err != nil {
			return err
		}
		q = strings.Join(strings.Fields(q), " ")
		if len(q) > 90 {
			q = q[:90] + "..."
		}
		fmt.Printf("  %10.2f %10.3f  %s\n", float64(calls)/float64(searches), ms/float64(searches), q)
	}
	return rows.Err()
}

func (p *pgStats) close() { p.db.Close() }

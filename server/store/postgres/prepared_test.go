package postgres

import (
	"context"
	"database/sql"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/memoryd/memoryd/internal/pgtest"
)

// The hits' read is a statement prepared on each pooled connection. When
// the server drops the connections (a restart, an administrator), the
// pool's next connections prepare it anew: reads answer again.
func TestPreparedReadsOutliveTheirConnections(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s := openT(t, dsn)
	if err := put(s, "m1"); err != nil {
		t.Fatal(err)
	}
	read := func() error {
		got, err := s.GetMemoriesMeta(ctx, "w", []string{"m1", "absent"})
		if err == nil && (len(got) != 1 || got["m1"] == nil || got["m1"].Text != "some words to index m1") {
			t.Fatalf("read %v, want m1 alone", got)
		}
		return err
	}
	for range 2 { // the second read runs the statement the first prepared
		if err := read(); err != nil {
			t.Fatal(err)
		}
	}
	admin := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn))) // outside the store's pool
	defer admin.Close()
	var dropped int
	err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&dropped)
	if err != nil {
		t.Fatal(err)
	}
	if dropped == 0 {
		t.Fatal("no connection of the store's pool to drop")
	}
	t.Logf("dropped %d connections", dropped)
	// Each dropped connection may fail one read before the pool lets it go.
	for try := 1; ; try++ {
		err := read()
		if err == nil {
			break
		}
		if try > poolSize+1 {
			t.Fatalf("reads still fail after the pool's %d connections were dropped: %v", poolSize, err)
		}
	}
	if err := read(); err != nil {
		t.Fatalf("a read after the pool recovered: %v", err)
	}
}

package e2e

import (
	"os"
	"sync"
	"testing"

	"github.com/memoryd/memoryd/internal/pgtest"
)

// TestMain removes what the tests set up once for the whole package: the
// built binary and the throwaway PostgreSQL server.
func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer != nil {
		pgServer.Stop()
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	pgOnce   sync.Once
	pgServer *pgtest.Server
	pgErr    error
)

// pgDSN returns a new, empty database on the package's PostgreSQL server.
// It fails (never skips) when PostgreSQL cannot run.
func pgDSN(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgServer, pgErr = pgtest.Start() })
	if pgErr != nil {
		t.Fatalf("pgtest: %v", pgErr)
	}
	dsn, err := pgServer.NewDatabase()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

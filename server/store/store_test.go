package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/memoryd/memoryd/internal/pgtest"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func opener(dsn string) storetest.Opener {
	return func(t *testing.T) storetest.Store {
		s, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("open %s: %v", dsn, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		return opener("sqlite://" + filepath.Join(t.TempDir(), "memoryd.db"))
	})
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener { return opener(pgtest.DSN(t)) })
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	if _, err := store.Open(context.Background(), "mysql://x"); err == nil {
		t.Fatal("want an error for an unsupported DSN")
	}
}

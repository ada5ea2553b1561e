package indexpos_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/memoryd/memoryd/internal/pgtest"
	"github.com/memoryd/memoryd/server/indexer"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/store/indexpos"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open migrates the database at dsn (as memoryd does) and opens a Feed
// on it, closed when the test ends.
func open(t *testing.T, dsn string) *indexpos.Feed {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	f, err := indexpos.Open(context.Background(), dsn, "weaviate:Test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func hold(t *testing.T, f *indexpos.Feed) bool {
	t.Helper()
	ok, err := f.Hold(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Two processes' feeds on one database: one holds the lock at a time,
// only it saves, and when it gives up the other takes over and finds the
// saved position.
func TestOneHolder(t *testing.T) {
	for name, dsn := range map[string]string{
		"postgres": pgtest.DSN(t),
		"sqlite":   "sqlite://" + filepath.Join(t.TempDir(), "m.db"),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := open(t, dsn), open(t, dsn)
			if _, ok, err := a.Load(ctx); err != nil || ok {
				t.Fatalf("Load before any save: ok %v, err %v; want nothing saved", ok, err)
			}
			if !hold(t, a) {
				t.Fatal("the first feed could not take the free lock")
			}
			if hold(t, b) {
				t.Fatal("a second feed holds the lock while the first does")
			}
			if !hold(t, a) {
				t.Fatal("the holder lost the lock on its next Hold")
			}
			if err := b.Save(ctx, indexer.Position{Epoch: "e", Seq: 99}); !errors.Is(err, indexpos.ErrNotHolder) {
				t.Fatalf("Save by the feed without the lock: %v, want ErrNotHolder", err)
			}
			want := indexer.Position{Epoch: "e", Seq: 42}
			if err := a.Save(ctx, want); err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if !hold(t, b) {
				t.Fatal("the lock stayed taken after its holder closed")
			}
			if p, ok, err := b.Load(ctx); err != nil || !ok || p != want {
				t.Fatalf("the new holder loads %+v (ok %v, err %v), want %+v", p, ok, err, want)
			}
		})
	}
}

// The holder's database session ends (a node killed, a connection cut):
// the lock passes to another feed, and the old holder learns it lost it
// and can no longer save.
func TestHolderSessionEnds(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	a, b := open(t, dsn), open(t, dsn)
	if !hold(t, a) || hold(t, b) {
		t.Fatal("want the first feed alone holding the lock")
	}
	admin := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	defer admin.Close()
	var n int
	if err := admin.QueryRowContext(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'").
		Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating the holder's session: %d sessions, %v; want 1", n, err)
	}
	// pg_terminate_backend only signals the session: the lock is released
	// when the backend has exited, a moment later.
	const passLimit = 30 * time.Second
	for start := time.Now(); !hold(t, b); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > passLimit {
			t.Fatalf("the lock did not pass to the other feed within %v (passLimit) after the holder's session ended", passLimit)
		}
	}
	if hold(t, a) {
		t.Fatal("the old holder still believes it holds the lock")
	}
	if err := a.Save(ctx, indexer.Position{Epoch: "e", Seq: 1}); !errors.Is(err, indexpos.ErrNotHolder) {
		t.Fatalf("Save by the old holder: %v, want ErrNotHolder", err)
	}
}

package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/memoryd/memoryd/internal/pgtest"
	memoryd "github.com/memoryd/memoryd/server"
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

// The event hub finds the events a store has just committed by type
// assertion (server/events): SQLite's Store hands them out, PostgreSQL's
// says they are not all in memory (other nodes write too).
func TestRecentEventsByEngine(t *testing.T) {
	for _, tc := range []struct {
		dialect string
		dsn     func(t *testing.T) string
		inMem   bool
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "memoryd.db") }, true},
		{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }, false},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			s, err := store.Open(context.Background(), tc.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Dialect(); got != tc.dialect {
				t.Fatalf("Dialect() = %q, want %q", got, tc.dialect)
			}
			ev := &memoryd.Event{Workspace: "w", Type: memoryd.EventSearchPerformed, Payload: []byte(`{}`)}
			if err := s.AppendEvent(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			r, ok := any(s).(interface {
				RecentEvents(after int64, limit int) ([]*memoryd.Event, bool)
			})
			if !ok {
				t.Fatal("the store does not offer RecentEvents")
			}
			evs, ok := r.RecentEvents(0, 10)
			if ok != tc.inMem || tc.inMem && (len(evs) != 1 || evs[0].Seq != ev.Seq) {
				t.Fatalf("RecentEvents(0, 10) = %d events, ok %v; want the one appended: %v", len(evs), ok, tc.inMem)
			}
		})
	}
}

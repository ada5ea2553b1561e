// Package store persists memories, the event log and API keys, on SQLite
// (the embedded default, package sqlite) or PostgreSQL (package
// postgres), chosen by the DSN. What the two share is in package
// sqlstore.
//
// Every change to a memory appends its event to the log in the same
// transaction (outbox), so the log never misses an acknowledged write.
package store

import (
	"context"
	"fmt"
	"strings"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/postgres"
	"github.com/memoryd/memoryd/server/store/sqlite"
	"github.com/memoryd/memoryd/server/webhooks"
)

// Store is an open store of either engine. Besides memoryd.MemoryStore,
// EventLog, KeyStore and Pinger it wakes log tailers (Listen) and hands
// out the events it has just learnt of (RecentEvents: SQLite those it
// committed, PostgreSQL those its NOTIFY connection received).
type Store struct {
	engine
}

// engine is what both engines implement.
type engine interface {
	memoryd.MemoryStore
	memoryd.EventLog
	memoryd.EventsAppender
	memoryd.KeyStore
	memoryd.Pinger
	memoryd.BatchPutter
	memoryd.Exporter
	webhooks.Store
	// Listen returns a channel that receives the position of newly
	// appended events (a hint; readers read by position) until ctx ends.
	Listen(ctx context.Context) (<-chan int64, error)
	// Dialect names the database: "sqlite" or "postgres".
	Dialect() string
	// Close releases the database; writes already queued finish first.
	Close() error
}

var (
	_ engine               = (*sqlite.Store)(nil)
	_ engine               = (*postgres.Store)(nil)
	_ memoryd.RecentEvents = (*sqlite.Store)(nil)
	_ memoryd.RecentEvents = (*postgres.Store)(nil)
)

// Open connects to dsn ("sqlite://path", "postgres://..."), applies pending
// migrations and returns the store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var e engine
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		e, err = sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite://"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		e, err = postgres.Open(ctx, dsn)
	default:
		return nil, fmt.Errorf("store: unsupported database %q (want sqlite://path or postgres://...)", Redact(dsn))
	}
	if err != nil {
		return nil, err
	}
	return &Store{engine: e}, nil
}

// RecentEvents returns up to limit events after seq from the newest the
// store learnt of, without reading the database. ok is false when they
// are not all in memory; the caller then reads them with ReadEvents.
func (s *Store) RecentEvents(after int64, limit int) ([]*memoryd.Event, bool) {
	if r, ok := s.engine.(memoryd.RecentEvents); ok {
		return r.RecentEvents(after, limit)
	}
	return nil, false
}

// Redact hides a password in a DSN for error messages and logs.
func Redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}

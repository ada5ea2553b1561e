package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// Base is the part of a store that the engines share: the reads, the
// keys, the event log's reads and pruning, and the database's health.
// An engine embeds it and adds the writes.
type Base struct {
	R *bun.DB // reads (a pool)
	W *bun.DB // writes outside the engine's change path (keys, pruning)
	D Dialect
	// FullHold: see Ping. Set before the store is used.
	FullHold time.Duration

	prepared      map[string]*sql.Stmt // by Prepare; read-only afterwards
	preparedReads map[string]*sql.Stmt // by PrepareReads; likewise

	epoch    string
	full     atomic.Bool  // a write failed for lack of space; none has committed since
	fullAt   atomic.Int64 // when one last did (Unix nanoseconds)
	loggedAt atomic.Int64 // when Unreachable was last logged (Unix seconds)
}

// NewBase returns the shared part of a store on r and w.
func NewBase(r, w *bun.DB, d Dialect) Base {
	return Base{R: r, W: w, D: d, FullHold: DefaultFullHold}
}

// Dialect names the database: "sqlite" or "postgres".
func (b *Base) Dialect() string { return b.D.Name() }

// Epoch returns the log's random id, created with the log.
func (b *Base) Epoch(context.Context) (string, error) { return b.epoch, nil }

// LoadEpoch reads the log's epoch, creating it with a new log.
func (b *Base) LoadEpoch(ctx context.Context) error {
	id := make([]byte, 8)
	rand.Read(id)
	if _, err := b.W.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO NOTHING", hex.EncodeToString(id)); err != nil {
		return fmt.Errorf("store: create epoch: %w", err)
	}
	if err := b.R.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'epoch'").Scan(&b.epoch); err != nil {
		return fmt.Errorf("store: read epoch: %w", err)
	}
	return nil
}

// logUnreachable logs a connection failure at most once every
// unreachableLogEvery: while the database is down every request fails
// the same way.
func (b *Base) logUnreachable(err error) {
	now := time.Now().Unix()
	last := b.loggedAt.Load()
	if now-last < int64(unreachableLogEvery/time.Second) || !b.loggedAt.CompareAndSwap(last, now) {
		return
	}
	slog.Warn("store: the database is unreachable", "db", b.D.Name(), "err", err)
}

const unreachableLogEvery = 10 * time.Second

package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// A database that cannot store (its disk is full) or cannot be reached is
// the server's trouble, not the request's: clients get UNAVAILABLE (503,
// worth a retry) instead of INTERNAL, and readiness fails, so a load
// balancer sends the traffic elsewhere until the database takes writes
// again.

var (
	errFull = &memoryd.Error{Code: memoryd.EUNAVAILABLE,
		Message: "The database has no space left for writes; retry once space is freed"}
	errUnreachable = &memoryd.Error{Code: memoryd.EUNAVAILABLE,
		Message: "The database is unreachable; retry later"}
)

// unavailableError is the client's UNAVAILABLE with the database's error
// behind it, for logs and errors.Is.
type unavailableError struct {
	pub   *memoryd.Error
	cause error
}

func (e *unavailableError) Error() string   { return e.pub.Error() + ": " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.pub, e.cause} }

// Fail returns err as the store returns it: a failure that makes the
// database unavailable becomes UNAVAILABLE (and a full one marks the
// store full until a write commits); anything else is returned as is.
func (b *Base) Fail(err error) error {
	var pub *memoryd.Error
	if err == nil || errors.As(err, &pub) {
		return err // a client's error (not found, invalid, ...) or classified already
	}
	switch b.D.Classify(err) {
	case Full:
		b.fullAt.Store(time.Now().UnixNano())
		if b.full.CompareAndSwap(false, true) {
			slog.Warn("store: the database has no space left; writes fail and readiness reports it until one commits",
				"db", b.D.Name(), "err", err)
		}
		return &unavailableError{pub: errFull, cause: err}
	case Unreachable:
		b.logUnreachable(err)
		return &unavailableError{pub: errUnreachable, cause: err}
	}
	return err
}

// Full reports whether a write failed for lack of space and none has
// committed since.
func (b *Base) Full() bool { return b.full.Load() }

// Wrote records that a write committed: the database takes writes.
func (b *Base) Wrote() {
	if b.full.Load() && b.full.CompareAndSwap(true, false) {
		slog.Info("store: the database takes writes again", "db", b.D.Name())
	}
}

// DefaultFullHold is how long after a write failed for lack of space
// Ping reports the store unready without trying a write itself.
const DefaultFullHold = 30 * time.Second

// Ping checks that the database answers and, while the store is marked
// full, that writes go through again. A write that commits clears the
// mark at once. Without one, Ping reports unready for FullHold after the
// last write that failed for lack of space, then tries probe (ProbeWrite,
// run the way the engine runs its writes), at most once per FullHold
// while it fails. The probe is needed because readiness keeps away the
// writes that would tell; the hold because the probe is small: a write
// of its size may fit where the clients' writes do not.
func (b *Base) Ping(ctx context.Context, probe func(context.Context) error) error {
	if err := b.R.PingContext(ctx); err != nil {
		return b.Fail(err)
	}
	if !b.full.Load() {
		return nil
	}
	if since := time.Since(time.Unix(0, b.fullAt.Load())); since < b.FullHold {
		return &unavailableError{pub: errFull,
			cause: fmt.Errorf("store: a write failed for lack of space %v ago", since.Round(time.Second))}
	}
	if err := probe(ctx); err != nil {
		return b.Fail(err)
	}
	b.Wrote()
	return nil
}

// ProbeWrite stores and removes a row of a few pages in tx, to learn
// whether the database has room: new pages are what a full one refuses.
// It leaves nothing behind.
func ProbeWrite(ctx context.Context, tx Tx) error {
	filler := make([]byte, 4096)
	rand.Read(filler) // incompressible, so it takes its size on every engine
	if _, err := tx.Exec(ctx, "INSERT INTO meta (key, value) VALUES ('ready_probe', ?)", hex.EncodeToString(filler)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "DELETE FROM meta WHERE key = 'ready_probe'")
	return err
}

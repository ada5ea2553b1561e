// Package indexpos keeps, in the database, the log position of a
// consumer that feeds a shared, durable index (Weaviate), and lets one
// process at a time feed it, so that N nodes write each change to the
// index once rather than N times, and a feeder that stops is replaced by
// another that continues from the saved position.
//
// On PostgreSQL the feeder holds a session advisory lock on a dedicated
// connection: the lock ends with the connection (a process killed, a
// network cut), so another node takes over at its next try, and the
// position is saved through that same connection, so a feeder that lost
// its lock cannot save. On SQLite (one machine, possibly several
// processes on one file) the feeder holds a lease on the position row,
// renewed while it feeds; a save names the holder, so a feeder whose
// lease passed to another cannot save either.
package indexpos

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/memoryd/memoryd/server/indexer"
)

// DefaultLease is how long a SQLite feeder's lease lasts without renewal:
// a stopped feeder is replaced after at most this long. Feeders renew it
// at every round (at least every poll interval), far more often.
const DefaultLease = 15 * time.Second

// ErrNotHolder is returned by Save when this process does not (or no
// longer) feed the index.
var ErrNotHolder = errors.New("indexpos: this process does not hold the feeder lock")

// Feed is one consumer's saved position and feeder lock. It implements
// indexer.Cursor and indexer.Gate. Its methods are called from one
// goroutine (the consumer's).
type Feed struct {
	name   string
	holder string
	db     *sql.DB
	engine engine
}

var (
	_ indexer.Cursor = (*Feed)(nil)
	_ indexer.Gate   = (*Feed)(nil)
)

// engine is the lock and the writes, per database.
type engine interface {
	hold(ctx context.Context, f *Feed) (bool, error)
	save(ctx context.Context, f *Feed, p indexer.Position) error
	release(f *Feed)
}

// Open opens the database at dsn (as store.Open takes it; the store's
// migrations must have run) for the consumer called name.
func Open(ctx context.Context, dsn, name string) (*Feed, error) {
	id := make([]byte, 8)
	rand.Read(id)
	f := &Feed{name: name, holder: hex.EncodeToString(id)}
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite://")+
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("indexpos: %w", err)
		}
		f.db, f.engine = db, &lease{ttl: DefaultLease}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		f.db = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
		f.engine = &advisory{key: lockKey(name)}
	default:
		return nil, fmt.Errorf("indexpos: unsupported database (want sqlite://path or postgres://...)")
	}
	f.db.SetMaxOpenConns(3)
	if _, err := f.db.ExecContext(ctx, f.q("INSERT INTO index_positions (name) VALUES (?) ON CONFLICT (name) DO NOTHING"), name); err != nil {
		f.db.Close()
		return nil, fmt.Errorf("indexpos: create the position row: %w", err)
	}
	return f, nil
}

// q writes a statement's placeholders for the engine ($n on PostgreSQL).
func (f *Feed) q(s string) string {
	if _, ok := f.engine.(*advisory); !ok {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Hold tries to be (or stay) the process that feeds the index; it
// reports whether this process is it now.
func (f *Feed) Hold(ctx context.Context) (bool, error) { return f.engine.hold(ctx, f) }

// Load returns the saved position; ok is false when none was saved.
func (f *Feed) Load(ctx context.Context) (indexer.Position, bool, error) {
	var p indexer.Position
	var saved bool
	err := f.db.QueryRowContext(ctx, f.q("SELECT epoch, seq, saved FROM index_positions WHERE name = ?"), f.name).
		Scan(&p.Epoch, &p.Seq, &saved)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("indexpos: read the position: %w", err)
	}
	return p, saved, nil
}

// Save records p; ErrNotHolder when this process does not feed the
// index (it lost the lock or lease).
func (f *Feed) Save(ctx context.Context, p indexer.Position) error { return f.engine.save(ctx, f, p) }

// Close gives up feeding (another process takes over at its next try)
// and closes the database.
func (f *Feed) Close() error {
	f.engine.release(f)
	return f.db.Close()
}

// lockKey is the advisory lock's key for a consumer name.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("memoryd index feeder " + name))
	return int64(h.Sum64())
}

// advisory is PostgreSQL's feeder lock: a session advisory lock on a
// connection of its own.
type advisory struct {
	key  int64
	conn *sql.Conn
}

func (a *advisory) hold(ctx context.Context, f *Feed) (bool, error) {
	if a.conn != nil {
		// The lock lives as long as its connection.
		var one int
		if err := a.conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err == nil {
			return true, nil
		}
		a.drop()
		return false, nil
	}
	conn, err := f.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("indexpos: connect for the feeder lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", a.key).Scan(&ok); err != nil || !ok {
		conn.Close()
		if err != nil {
			return false, fmt.Errorf("indexpos: try the feeder lock: %w", err)
		}
		return false, nil
	}
	a.conn = conn
	if _, err := conn.ExecContext(ctx, "UPDATE index_positions SET holder = $1 WHERE name = $2", f.holder, f.name); err != nil {
		return true, nil // informative only
	}
	return true, nil
}

// drop closes the lock's connection for good: returned to the pool
// while alive, it would keep the lock for whoever uses it next.
func (a *advisory) drop() {
	a.conn.Raw(func(any) error { return driver.ErrBadConn })
	a.conn.Close()
	a.conn = nil
}

func (a *advisory) save(ctx context.Context, f *Feed, p indexer.Position) error {
	if a.conn == nil {
		return ErrNotHolder
	}
	_, err := a.conn.ExecContext(ctx, "UPDATE index_positions SET epoch = $1, seq = $2, saved = TRUE WHERE name = $3",
		p.Epoch, p.Seq, f.name)
	if err != nil {
		return fmt.Errorf("indexpos: save the position: %w", err)
	}
	return nil
}

func (a *advisory) release(*Feed) {
	if a.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", a.key)
		a.drop()
	}
}

// lease is SQLite's feeder lock: the position row names its holder until
// lease_until (Unix microseconds).
type lease struct {
	ttl   time.Duration
	until time.Time // of this process's lease; zero when it holds none
}

func (l *lease) hold(ctx context.Context, f *Feed) (bool, error) {
	now := time.Now()
	if !l.until.IsZero() && l.until.Sub(now) > l.ttl*2/3 {
		return true, nil // renewed recently
	}
	until := now.Add(l.ttl)
	res, err := f.db.ExecContext(ctx, `UPDATE index_positions SET holder = ?, lease_until = ?
WHERE name = ? AND (holder = ? OR lease_until < ?)`, f.holder, until.UnixMicro(), f.name, f.holder, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("indexpos: take the feeder lease: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		l.until = time.Time{}
		return false, nil
	}
	l.until = until
	return true, nil
}

func (l *lease) save(ctx context.Context, f *Feed, p indexer.Position) error {
	if l.until.IsZero() {
		return ErrNotHolder
	}
	res, err := f.db.ExecContext(ctx, `UPDATE index_positions SET epoch = ?, seq = ?, saved = TRUE
WHERE name = ? AND holder = ? AND lease_until >= ?`, p.Epoch, p.Seq, f.name, f.holder, time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("indexpos: save the position: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		l.until = time.Time{}
		return ErrNotHolder
	}
	return nil
}

func (l *lease) release(f *Feed) {
	if l.until.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f.db.ExecContext(ctx, "UPDATE index_positions SET lease_until = 0 WHERE name = ? AND holder = ?", f.name, f.holder)
	l.until = time.Time{}
}

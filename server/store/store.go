// Package store persists memories, the event log and API keys with bun, on
// SQLite (the embedded default, pure Go) or PostgreSQL, chosen by the DSN.
//
// Every change to a memory appends its event to the log in the same
// transaction (outbox), so the log never misses an acknowledged write.
// Event positions (seq) come from a one-row counter. On PostgreSQL it is
// updated last in each transaction: the row lock orders appends by commit,
// so a reader tailing the log by position can never see seq n+1 before
// seq n. On SQLite the single writer commits groups of changes in order,
// reading the counter once per group and writing it back at the end.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	memoryd "github.com/memoryd/memoryd/server"
)

// Store implements memoryd.MemoryStore, EventLog, KeyStore and Pinger.
type Store struct {
	db  *bun.DB // reads (a pool)
	wdb *bun.DB // writes: the same pool on PostgreSQL, one connection on SQLite
	pg  bool

	epoch string // loaded (or created) by Open; fixed for the database's life

	wake   *wakeups // in-process wake-ups (SQLite); PostgreSQL uses NOTIFY
	recent recent   // the SQLite writer's latest committed events (recent.go)

	writes     chan *writeReq // to the group-commit writer (groupcommit.go)
	quit       chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	commits    atomic.Int64  // SQLite commits since the last checkpoint (checkpoint.go)
	walRestart atomic.Bool   // the checkpointer asks the writer to start the log over
	walPath    string        // SQLite's write-ahead log file
	dbFile     *os.File      // SQLite's database file, synced after checkpoints
	walFile    *os.File      // and its log, both written out by runWriteback
	dbSyncs    atomic.Int64  // syncs after checkpoints, for tests
	writebacks atomic.Int64  // runWriteback's rounds, for tests
	wbDone     chan struct{} // closed when runWriteback has stopped
	walAsked   time.Time     // the checkpointer's last walRestart request
	ckptDone   chan struct{} // closed when the checkpointer has stopped
	// The SQLite writer's own state: statements prepared at open, and the
	// current group transaction's (stmts.go, groupcommit.go).
	prepared map[string]*sql.Stmt
	grp      *groupTx
}

var (
	_ memoryd.MemoryStore = (*Store)(nil)
	_ memoryd.EventLog    = (*Store)(nil)
	_ memoryd.KeyStore    = (*Store)(nil)
	_ memoryd.Pinger      = (*Store)(nil)
)

// Open connects to dsn ("sqlite://path", "postgres://..."), applies pending
// migrations and returns the store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var s *Store
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		s, err = openSQLite(strings.TrimPrefix(dsn, "sqlite://"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s = openPostgres(dsn)
	default:
		return nil, fmt.Errorf("store: unsupported database %q (want sqlite://path or postgres://...)", Redact(dsn))
	}
	if err != nil {
		return nil, err
	}
	s.writes, s.quit, s.writerDone = make(chan *writeReq, maxGroup), make(chan struct{}), make(chan struct{})
	go s.runWriter()
	s.ckptDone, s.wbDone = make(chan struct{}), make(chan struct{})
	if s.pg {
		close(s.ckptDone)
		close(s.wbDone)
	} else {
		go s.runCheckpoints()
		go s.runWriteback()
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.epoch, err = s.loadEpoch(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if !s.pg {
		if err := s.prepareWrites(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func openSQLite(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: sqlite:// needs a file path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	// WAL lets readers proceed while the single writer commits; NORMAL sync is
	// durable against process crashes (the WAL is fsynced at checkpoints).
	// The page cache is 8 MB per connection: SQLite walks its whole cache
	// at the end of every write transaction, so a larger one costs the
	// writer on each commit (64 MB did: ~13% of its CPU in a tools/profserve
	// profile of 16 HTTP clients creating).
	q := "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-8192)&_txlock=immediate"
	open := func(conns int) (*bun.DB, error) {
		sqldb, err := sql.Open("sqlite", "file:"+path+q)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		sqldb.SetMaxOpenConns(conns)
		sqldb.SetMaxIdleConns(conns)
		return bun.NewDB(sqldb, sqlitedialect.New()), nil
	}
	// One writer connection serialises writes in Go instead of retrying
	// SQLITE_BUSY; readers use a pool.
	wdb, err := open(1)
	if err != nil {
		return nil, err
	}
	// Checkpoints run beside the writer, not in it (checkpoint.go).
	if _, err := wdb.Exec("PRAGMA wal_autocheckpoint=0"); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	if _, err := wdb.Exec("PRAGMA journal_mode=WAL"); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	rdb, err := open(8)
	if err != nil {
		wdb.Close()
		return nil, err
	}
	// The files themselves, for syncs and write-out beside SQLite
	// (checkpoint.go, writeback_linux.go). Opened after SQLite's
	// connections and closed after them (Close): closing any descriptor
	// of the database file drops the process's POSIX locks on it, SQLite's
	// included. The log may not exist yet; SQLite takes an empty one as
	// it takes a missing one.
	dbFile, err := os.Open(path)
	if err != nil {
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	walFile, err := os.OpenFile(path+"-wal", os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		dbFile.Close()
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return &Store{db: rdb, wdb: wdb, wake: newWakeups(), walPath: path + "-wal", dbFile: dbFile, walFile: walFile}, nil
}

func openPostgres(dsn string) *Store {
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	sqldb.SetMaxOpenConns(32)
	sqldb.SetMaxIdleConns(32)
	db := bun.NewDB(sqldb, pgdialect.New())
	return &Store{db: db, wdb: db, pg: true}
}

// Close stops the writer and releases the connections. Writes already
// queued are finished first; later ones fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.writerDone
	<-s.ckptDone
	<-s.wbDone
	s.closePrepared()
	err := s.db.Close()
	if s.wdb != s.db {
		err = errors.Join(err, s.wdb.Close())
	}
	for _, f := range []*os.File{s.dbFile, s.walFile} {
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	}
	return err
}

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string {
	if s.pg {
		return "postgres"
	}
	return "sqlite"
}

// Epoch returns the log's random id, created with the log.
func (s *Store) Epoch(context.Context) (string, error) { return s.epoch, nil }

func (s *Store) loadEpoch(ctx context.Context) (string, error) {
	b := make([]byte, 8)
	rand.Read(b)
	if _, err := s.wdb.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO NOTHING", hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("store: create epoch: %w", err)
	}
	var epoch string
	if err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'epoch'").Scan(&epoch); err != nil {
		return "", fmt.Errorf("store: read epoch: %w", err)
	}
	return epoch, nil
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

// Package sqlite is the embedded store: memories, the event log and API
// keys in one SQLite file (pure Go driver), written by a single writer
// goroutine that commits concurrent changes together (group commit),
// with the write-ahead log checkpointed beside it.
//
// Event positions (seq) come from a one-row counter: the writer commits
// groups of changes in order, reading the counter once per group and
// writing it back at the end.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements memoryd.MemoryStore, EventLog, KeyStore and Pinger on
// SQLite. Its Base reads through a pool; W is the writer's only
// connection.
type Store struct {
	sqlstore.Base

	wake   *sqlstore.Wakeups // in-process wake-ups of log tailers (wake.go)
	recent sqlstore.Recent   // the writer's latest committed events

	writes     chan *writeReq // to the group-commit writer (groupcommit.go)
	quit       chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	commits    atomic.Int64  // commits since the last checkpoint (checkpoint.go)
	walRestart atomic.Bool   // the checkpointer asks the writer to start the log over
	walPath    string        // the write-ahead log file
	dbFile     *os.File      // the database file, synced after checkpoints
	walFile    *os.File      // and its log, both written out by runWriteback
	dbSyncs    atomic.Int64  // syncs after checkpoints, for tests
	writebacks atomic.Int64  // runWriteback's rounds, for tests
	wbDone     chan struct{} // closed when runWriteback has stopped
	walAsked   time.Time     // the checkpointer's last walRestart request
	ckptDone   chan struct{} // closed when the checkpointer has stopped
	// Statements prepared on the writer's connection at open (stmts.go),
	// used only by the writer goroutine.
	prepared map[string]*sql.Stmt
}

var (
	_ memoryd.MemoryStore = (*Store)(nil)
	_ memoryd.EventLog    = (*Store)(nil)
	_ memoryd.KeyStore    = (*Store)(nil)
	_ memoryd.Pinger      = (*Store)(nil)
)

// Open opens (creating it if need be) the database at path, applies
// pending migrations and starts the writer.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: sqlite:// needs a file path")
	}
	s, err := openFiles(path)
	if err != nil {
		return nil, err
	}
	s.writes, s.quit, s.writerDone = make(chan *writeReq, maxGroup), make(chan struct{}), make(chan struct{})
	s.ckptDone, s.wbDone = make(chan struct{}), make(chan struct{})
	go s.runWriter()
	go s.runCheckpoints()
	go s.runWriteback()
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// start readies the database: schema, epoch and the writer's statements.
func (s *Store) start(ctx context.Context) error {
	sub, _ := fs.Sub(migrations, "migrations")
	if err := sqlstore.Migrate(ctx, s.W, sub); err != nil {
		return err
	}
	if err := s.LoadEpoch(ctx); err != nil {
		return err
	}
	return s.prepareWrites(ctx)
}

// dsnOptions: WAL lets readers proceed while the single writer commits;
// NORMAL sync is durable against process crashes (the log is synced at
// checkpoints). The page cache is kept small (8 MB per connection):
// SQLite walks its whole cache at the end of every write transaction, so
// a larger one costs the writer on every commit.
const dsnOptions = "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-8192)&_txlock=immediate"

func openDB(path string, conns int) (*bun.DB, error) {
	sqldb, err := sql.Open("sqlite", "file:"+path+dsnOptions)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	sqldb.SetMaxOpenConns(conns)
	sqldb.SetMaxIdleConns(conns)
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// openFiles opens the database's connections and files.
func openFiles(path string) (*Store, error) {
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// One writer connection serialises writes in Go instead of retrying
	// SQLITE_BUSY; readers use a pool.
	wdb, err := openDB(path, 1)
	if err != nil {
		return nil, err
	}
	// Checkpoints run beside the writer, not in it (checkpoint.go).
	for _, pragma := range []string{"PRAGMA wal_autocheckpoint=0", "PRAGMA journal_mode=WAL"} {
		if _, err := wdb.Exec(pragma); err != nil {
			wdb.Close()
			return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
		}
	}
	rdb, err := openDB(path, 8)
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
	walFile, err := os.OpenFile(path+"-wal", os.O_RDONLY|os.O_CREATE, filePerm)
	if err != nil {
		dbFile.Close()
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	s := &Store{Base: sqlstore.NewBase(rdb, wdb, dialect{}), wake: sqlstore.NewWakeups(),
		walPath: path + "-wal", dbFile: dbFile, walFile: walFile}
	return s, nil
}

// Close stops the writer and releases the connections. Writes already
// queued are finished first; later ones fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.quit) })
	<-s.writerDone
	<-s.ckptDone
	<-s.wbDone
	for _, st := range s.prepared {
		st.Close()
	}
	s.ClosePrepared()
	err := errors.Join(s.R.Close(), s.W.Close())
	for _, f := range []*os.File{s.dbFile, s.walFile} {
		err = errors.Join(err, f.Close())
	}
	return err
}

// Ping checks the database answers (readiness) and, after a write failed
// for lack of space, that writes go through again.
func (s *Store) Ping(ctx context.Context) error {
	return s.Base.Ping(ctx, func(ctx context.Context) error {
		return s.write(ctx, func(ctx context.Context, tx *groupTx) (*memoryd.Event, error) {
			return nil, sqlstore.ProbeWrite(ctx, tx)
		})
	})
}

package main

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log"
	"math"
	"os"
	"time"

	_ "modernc.org/sqlite"
)

// sqliteFloor is the least a durable create can do on SQLite: one row
// (id, text, a 512-dimension float32 vector: memoryd's row size under the
// hash embedder) in a table with a unique index on the id, in WAL mode
// with synchronous=NORMAL as memoryd runs it, written by one goroutine
// that commits whatever is queued as one transaction (group commit, with
// no waiting for stragglers). No full-text index, tags, event log,
// vector index, validation or auth.
//
// The write-ahead log is handled as -checkpoint says:
//   - bounded (memoryd's way, server/store/sqlite/checkpoint.go and
//     writeback_linux.go): a PASSIVE checkpoint on a second connection
//     every 250 ms, each followed by a sync of the database file, the
//     write-out of both files started every 10 ms, and once the log holds
//     32768 frames, at most once a second, a RESTART checkpoint by the
//     writer between two groups, so the log starts over;
//   - passive: the same checkpoints, never a restart (the log grows);
//   - none: no checkpoint at all (the log grows without bound): what the
//     writes alone cost, an upper bound no server can keep up.
type sqliteFloor struct {
	db      *sql.DB
	writes  chan *floorWrite
	restart chan struct{} // the checkpointer asks the writer to restart the log
}

type floorWrite struct {
	id, text string
	err      chan error
}

// The checkpoint settings of server/store/sqlite/checkpoint.go.
const (
	floorCheckpointEvery = 250 * time.Millisecond
	floorRestartFrames   = 32768
)

func openSQLiteFloor(path, mode string) (*sqliteFloor, error) {
	if mode != "bounded" && mode != "passive" && mode != "none" {
		return nil, fmt.Errorf("-checkpoint %q: want bounded, passive or none", mode)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS memories (
		rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, text TEXT NOT NULL, embedding BLOB NOT NULL)`); err != nil {
		return nil, err
	}
	f := &sqliteFloor{db: db, writes: make(chan *floorWrite, 1024), restart: make(chan struct{}, 1)}
	go f.run()
	if mode != "none" {
		ck, err := sql.Open("sqlite", "file:"+path+"?_pragma=synchronous(NORMAL)")
		if err != nil {
			return nil, err
		}
		// Opened after SQLite's connections and never closed: closing a
		// descriptor of the database file would drop SQLite's POSIX locks.
		dbFile, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		walFile, err := os.OpenFile(path+"-wal", os.O_RDONLY|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		bounded := mode == "bounded"
		go f.checkpoint(ck, dbFile, bounded)
		if bounded {
			go writeback(walFile, dbFile)
		}
	}
	return f, nil
}

// checkpoint copies the log back beside the writer and, when bounded,
// syncs what it copied and asks the writer to start a long log over.
func (f *sqliteFloor) checkpoint(ck *sql.DB, dbFile *os.File, bounded bool) {
	var asked time.Time
	for range time.Tick(floorCheckpointEvery) {
		var busy, frames, copied int64
		if err := ck.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
			log.Print(err)
			continue
		}
		if !bounded {
			continue
		}
		if copied > 0 {
			if err := dbFile.Sync(); err != nil {
				log.Print(err)
			}
		}
		if frames >= floorRestartFrames && time.Since(asked) >= time.Second {
			asked = time.Now()
			select {
			case f.restart <- struct{}{}:
			default:
			}
		}
	}
}

// put stores one memory and returns once it is committed.
func (f *sqliteFloor) put(id, text string) error {
	w := &floorWrite{id: id, text: text, err: make(chan error, 1)}
	f.writes <- w
	return <-w.err
}

// run is the writer: a group per transaction, then a log restart when
// the checkpointer asked for one.
func (f *sqliteFloor) run() {
	for w := range f.writes {
		group := []*floorWrite{w}
	drain:
		for len(group) < 128 {
			select {
			case w := <-f.writes:
				group = append(group, w)
			default:
				break drain
			}
		}
		err := f.commit(group)
		for _, w := range group {
			w.err <- err
		}
		select {
		case <-f.restart:
			if _, err := f.db.Exec("PRAGMA wal_checkpoint(RESTART)"); err != nil {
				log.Print(err)
			}
		default:
		}
	}
}

func (f *sqliteFloor) commit(group []*floorWrite) error {
	tx, err := f.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.Prepare("INSERT INTO memories (id, text, embedding) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	for _, w := range group {
		if _, err := st.Exec(w.id, w.text, vectorOf(w.text)); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return tx.Commit()
}

// vectorOf is a cheap stand-in embedding of memoryd's size (512 float32).
func vectorOf(text string) []byte {
	h := fnv.New64a()
	h.Write([]byte(text))
	x := h.Sum64() | 1
	b := make([]byte, 512*4)
	for i := range 512 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint32(b[i*4:], math.Float32bits(float32(x%1000)/1000))
	}
	return b
}

package sqlite

import (
	"context"
	"log/slog"
	"os"
	"time"
)

// SQLite copies the write-ahead log back into the database file at
// checkpoints. By default the connection that commits runs them, inline,
// every 1000 pages: on the single writer that would stall every change
// queued behind it. The writer's connection has automatic checkpoints off
// and this goroutine runs them on a reader connection instead, in parallel
// with the writer (PASSIVE: it never blocks readers or the writer).
//
// The log only starts over from its beginning when a write transaction
// begins with every frame in it copied back. Under sustained writes that
// never happens by itself (the writer commits between the checkpointer's
// copy and its own next transaction), so the log would grow without
// bound. Once it holds walRestartFrames, the checkpointer asks the
// writer, which, between two groups, copies back the few frames committed
// since and waits for readers still using the log to finish (walCatchUp,
// a RESTART checkpoint): its next transaction then starts the log over.
// That pause costs the writer two syncs (the log before the copy, the
// database after it), once per walRestartFrames of log; its length is
// logged at debug level. The file keeps its largest size while writes
// continue; once they stop, the checkpointer truncates it.

// checkpointEvery is how often the log is copied back while writes come.
const checkpointEvery = 250 * time.Millisecond

// walRestartFrames is the log length (4 KiB pages) past which the writer
// makes the log start over: 128 MiB. A variable for tests.
var walRestartFrames int64 = 32768

// walIdleTruncate is the log file size above which an idle store (no
// commit for a checkpoint interval) truncates it.
const walIdleTruncate = 4 << 20

// runCheckpoints checkpoints after commits until the store closes; one
// last one runs on close.
func (s *Store) runCheckpoints() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			<-s.writerDone
			s.checkpoint()
			return
		case <-t.C:
			if s.commits.Swap(0) > 0 {
				s.checkpoint()
			} else {
				s.truncateIdle()
			}
		}
	}
}

// checkpoint copies the log back, and asks the writer to start the log
// over once it is long.
func (s *Store) checkpoint() {
	var busy, frames, copied int64
	err := s.R.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	if err != nil {
		slog.Warn("store: checkpoint of the write-ahead log", "err", err)
		return
	}
	if copied > 0 {
		s.syncDatabase()
	}
	// At most one request a second: a reader still using the log when the
	// writer begins makes the restart wait for a later try, and each try
	// stalls the writer.
	if frames >= walRestartFrames && time.Since(s.walAsked) >= time.Second {
		s.walAsked = time.Now()
		s.walRestart.Store(true)
	}
}

// walCatchUp runs on the writer between groups when the checkpointer asked
// for it: it copies back what was committed since the last checkpoint,
// usually a few hundred frames, and waits out the readers of the log, so
// the writer's next transaction starts the log over. (A PASSIVE
// checkpoint here would leave the restart to chance: a reader still on
// the log when the writer begins keeps it.)
func (s *Store) walCatchUp() {
	if !s.walRestart.Swap(false) {
		return
	}
	start := time.Now()
	if _, err := s.W.ExecContext(context.Background(), "PRAGMA wal_checkpoint(RESTART)"); err != nil {
		slog.Warn("store: checkpoint of the write-ahead log", "err", err)
		return
	}
	slog.Debug("store: the write-ahead log starts over", "writer_paused", time.Since(start))
}

// syncDatabase flushes the pages a checkpoint copied into the database
// file to disk. SQLite syncs the file only when a checkpoint has copied
// the whole log back, which under sustained writes a PASSIVE one never
// has (the writer commits while it copies). Without this, the writer's
// restart would flush every page copied since the previous restart, up
// to walRestartFrames of them, while every change waits; synced after
// each copy, beside the writer, the restart has only the latest
// checkpoint interval's pages left. A failure costs only time: SQLite
// syncs before it lets the log start over.
func (s *Store) syncDatabase() {
	if err := s.dbFile.Sync(); err != nil {
		slog.Warn("store: syncing the database file", "err", err)
		return
	}
	s.dbSyncs.Add(1)
}

// truncateIdle empties a large log file once writes have stopped. A
// TRUNCATE checkpoint holds off writers while it runs, which an idle
// store does not notice; during writes the file is only reused.
func (s *Store) truncateIdle() {
	fi, err := os.Stat(s.walPath)
	if err != nil || fi.Size() <= walIdleTruncate {
		return
	}
	if _, err := s.R.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		slog.Warn("store: truncating the write-ahead log", "err", err)
	}
}

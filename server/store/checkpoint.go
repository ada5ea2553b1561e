package store

import (
	"context"
	"log/slog"
	"time"
)

// SQLite copies the write-ahead log back into the database file at
// checkpoints. By default the connection that commits runs them, inline,
// every 1000 pages: on the single writer that stalls every change queued
// behind it. The writer's connection has automatic checkpoints off and
// this goroutine runs them on a reader connection instead, in parallel
// with the writer (PASSIVE: it never blocks readers or the writer).

// checkpointEvery is how often the log is copied back while writes come.
const checkpointEvery = 250 * time.Millisecond

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
			}
		}
	}
}

func (s *Store) checkpoint() {
	if _, err := s.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		slog.Warn("store: checkpoint of the write-ahead log", "err", err)
	}
}

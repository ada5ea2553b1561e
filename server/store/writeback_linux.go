package store

import (
	"context"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Pages the writer appends to the write-ahead log, and those checkpoints
// copy into the database file, stay dirty in the kernel until an fsync
// (the checkpointer's, every checkpointEvery, or the writer's restart)
// writes them out all at once. While such a flush runs, the writer's own
// appends to the log can wait behind it: paced at 1,000 creates/s
// (tools/load -rate 1000), single appends took 15-17 ms (a Go execution
// trace through tools/profserve). After commits, at most every
// writebackEvery, this goroutine starts the write-out instead
// (sync_file_range(SYNC_FILE_RANGE_WRITE) starts I/O on what is dirty and
// returns), so each fsync finds little left. Over 9 interleaved paced
// runs the p99 went from 15.9-52.6 ms (median 22.3) to 10.3-20.6 ms
// (median 15.7), the maximum from 28-117 ms to 28-45 ms; unpaced
// throughput did not change. Durability does not change either: the
// fsyncs still decide what is on disk. An idle store is left alone.

const writebackEvery = 10 * time.Millisecond

// runWriteback starts the write-out of the log and the database file
// after commits, at most every writebackEvery, until the store closes.
func (s *Store) runWriteback() {
	defer close(s.wbDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	commits := s.wake.subscribe(ctx)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-commits:
		}
		for _, f := range []*os.File{s.walFile, s.dbFile} {
			if err := unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE); err != nil {
				slog.Warn("store: starting the write-out of "+f.Name(), "err", err)
				return // it only saves time; a file system without it keeps the fsyncs
			}
		}
		s.writebacks.Add(1)
		pause.Reset(writebackEvery)
		select {
		case <-s.quit:
			return
		case <-pause.C:
		}
	}
}

package sqlite

import (
	"context"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Pages the writer appends to the write-ahead log, and those checkpoints
// copy into the database file, stay dirty in the kernel until a sync (the
// checkpointer's, every checkpointEvery, or the writer's restart) writes
// them out all at once. While such a flush runs, the writer's own appends
// to the log can wait behind it, and every change waits with the writer.
// So after commits, at most every writebackEvery, this goroutine starts
// the write-out instead (sync_file_range(SYNC_FILE_RANGE_WRITE) starts
// I/O on what is dirty and returns), and each sync finds little left:
// the tail of paced writes' latency shrinks, throughput stays (the paced
// tools/load runs in the README show it). Durability does not change:
// the syncs still decide what is on disk. An idle store is left alone.

const writebackEvery = 10 * time.Millisecond

// runWriteback starts the write-out of the log and the database file
// after commits, at most every writebackEvery, until the store closes.
func (s *Store) runWriteback() {
	defer close(s.wbDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	commits := s.wake.Subscribe(ctx)
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
				return // it only saves time; a file system without it keeps the syncs
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

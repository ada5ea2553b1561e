package main

import (
	"log"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// writeback starts the write-out of the log and the database file every
// 10 ms, as memoryd does (server/store/writeback_linux.go).
func writeback(path string, db *os.File) {
	var wal *os.File
	for range time.Tick(10 * time.Millisecond) {
		if wal == nil {
			if wal, _ = os.Open(path + "-wal"); wal == nil {
				continue
			}
		}
		for _, f := range []*os.File{wal, db} {
			if err := unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE); err != nil {
				log.Print(err)
				return
			}
		}
	}
}

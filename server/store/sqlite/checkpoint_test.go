package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// TestCheckpointsRunBesideTheWriter: the writer never checkpoints, so
// only the background checkpointer moves committed pages from the
// write-ahead log into the database file while the store is open.
func TestCheckpointsRunBesideTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	s := openT(t, path)
	before := fileSize(t, path)
	for i := range 300 {
		if err := putVector(s, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	// 300 rows of 2 KB vectors are over 600 KB of pages.
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) < before+600<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d): nothing checkpointed", fileSize(t, path), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Under writes that never pause, the write-ahead log still starts over
// once it is long, so its file stays bounded instead of growing with every
// commit.
func TestLogStartsOverUnderSustainedWrites(t *testing.T) {
	// Restored after the store's own cleanup has stopped its checkpointer
	// (cleanups run last first), which reads it.
	prev := walRestartFrames
	t.Cleanup(func() { walRestartFrames = prev })
	walRestartFrames = 1024 // 4 MiB
	path := filepath.Join(t.TempDir(), "memoryd.db")
	s := openT(t, path)
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// 16 writers, and readers all along: a reader using the log can hold
	// off its restart.
	for range 16 {
		wg.Go(untilClosed(t, stop, func() error { return putVector(s, fmt.Sprint("m", n.Add(1))) }))
	}
	for range 4 {
		wg.Go(untilClosed(t, stop, func() error {
			_, err := s.GetMemory(context.Background(), "w", fmt.Sprint("m", n.Load()/2))
			if errors.Is(err, memoryd.ErrNotFound) {
				return nil
			}
			return err
		}))
	}
	// The log's header gets new salts each time the log starts over. At
	// least 4 s of writes, longer where they are slow (as under the race
	// detector).
	var restarts int
	var salts []byte
	start := time.Now()
	for ; time.Since(start) < 4*time.Second || restarts < 2 && time.Since(start) < 60*time.Second; time.Sleep(10 * time.Millisecond) {
		if h := walSalts(path + "-wal"); h != nil && string(h) != string(salts) {
			if salts != nil {
				restarts++
			}
			salts = h
		}
	}
	close(stop)
	wg.Wait()
	// Each create writes several pages: without a restart, 4 s of them
	// make a log of hundreds of MiB.
	t.Logf("%d creates, the log started over %d times", n.Load(), restarts)
	if restarts < 2 {
		t.Fatalf("the log started over %d times in %v of writes (%d creates)", restarts, time.Since(start).Round(time.Second), n.Load())
	}
	// Once writes stop, the file is emptied.
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path+"-wal") > walIdleTruncate {
		if time.Now().After(deadline) {
			t.Fatalf("the log file is still %d MiB 10 s after the writes stopped", fileSize(t, path+"-wal")>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// putVector creates memory id of workspace "w" with a 512-d vector (2 KB,
// a page of its own).
func putVector(s *Store, id string) error {
	vec := make([]float32, 512)
	for i := range vec {
		vec[i] = float32(i%7) / 7
	}
	m := &memoryd.Memory{ID: id, Workspace: "w", Text: "some words to index " + id, Embedding: vec,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	_, _, err := s.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: "w", Type: memoryd.EventMemoryCreated, Payload: []byte("{}")}, nil
	})
	return err
}

// untilClosed returns a worker running op until stop is closed or op fails.
func untilClosed(t *testing.T, stop <-chan struct{}, op func() error) func() {
	return func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := op(); err != nil {
				t.Error(err)
				return
			}
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// walSalts returns the salts of the log's header (nil if unreadable).
func walSalts(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	h := make([]byte, 8)
	if _, err := f.ReadAt(h, 16); err != nil {
		return nil
	}
	return h
}

// Under writes that never pause no PASSIVE checkpoint copies the whole
// log, and SQLite syncs the database file only after one that does: the
// checkpointer syncs it after each copy, so the writer's restart does not
// have to flush everything copied since the last one.
func TestCheckpointsSyncTheDatabase(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "memoryd.db"))
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 16 {
		wg.Go(untilClosed(t, stop, func() error { return putVector(s, fmt.Sprint("m", n.Add(1))) }))
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.dbSyncs.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if got := s.dbSyncs.Load(); got < 2 {
		t.Fatalf("the database file was synced %d times in 10 s of writes (%d creates), want one after each checkpoint", got, n.Load())
	}
}

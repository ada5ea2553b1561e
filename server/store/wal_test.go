package store

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

// Under writes that never pause, the write-ahead log still starts over
// once it is long, so its file stays bounded instead of growing with every
// commit (it grew to 556 MiB in this test before).
func TestLogStartsOverUnderSustainedWrites(t *testing.T) {
	defer func(n int64) { walRestartFrames = n }(walRestartFrames)
	walRestartFrames = 1024 // 4 MiB
	path := filepath.Join(t.TempDir(), "memoryd.db")
	s := openT(t, "sqlite://"+path)
	vec := make([]float32, 512)
	for i := range vec {
		vec[i] = float32(i%7) / 7
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprint("m", n.Add(1))
				m := &memoryd.Memory{ID: id, Workspace: "w", Text: "some words to index " + id, Embedding: vec,
					CreatedAt: time.Now(), UpdatedAt: time.Now()}
				if _, _, err := s.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
					return &memoryd.Event{Workspace: "w", Type: memoryd.EventMemoryCreated, Payload: []byte("{}")}, nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// Readers too, all along: a reader using the log can hold off its
	// restart.
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.GetMemory(context.Background(), "w", fmt.Sprint("m", n.Load()/2)); err != nil && !errors.Is(err, memoryd.ErrNotFound) {
					t.Error(err)
					return
				}
			}
		})
	}
	// The log's header gets new salts each time the log starts over.
	var restarts int
	var salts []byte
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
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
		t.Fatalf("the log started over %d times in 4 s of writes (%d creates)", restarts, n.Load())
	}
	// Once writes stop, the file is emptied.
	deadline := time.Now().Add(10 * time.Second)
	for fileSizeOf(t, path+"-wal") > walIdleTruncate {
		if time.Now().After(deadline) {
			t.Fatalf("the log file is still %d MiB 10 s after the writes stopped", fileSizeOf(t, path+"-wal")>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSizeOf(t *testing.T, path string) int64 {
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

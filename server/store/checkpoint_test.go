package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store"
)

// TestCheckpointsRunBesideTheWriter: the writer never checkpoints, so
// only the background checkpointer moves committed pages from the
// write-ahead log into the database file while the store is open.
func TestCheckpointsRunBesideTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	s, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := fileSize(t, path)
	vec := make([]float32, 512)
	for i := range 300 {
		m := &memoryd.Memory{ID: fmt.Sprint("m", i), Workspace: "w", Text: "some text to index", Embedding: vec,
			CreatedAt: time.Now(), UpdatedAt: time.Now()}
		_, _, err := s.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
			return &memoryd.Event{Workspace: "w", Type: memoryd.EventMemoryCreated, Payload: []byte("{}")}, nil
		})
		if err != nil {
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

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

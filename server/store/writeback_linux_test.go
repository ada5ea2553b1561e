package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// The write-out of the log and the database file runs beside the writer
// while the store is open, and stops with it.
func TestWritebackRunsBesideTheWriter(t *testing.T) {
	s := openT(t, "sqlite://"+filepath.Join(t.TempDir(), "memoryd.db"))
	for i := range 50 {
		if err := putVector(s, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.writebacks.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d write-out rounds in 10 s", s.writebacks.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := s.writebacks.Load()
	time.Sleep(5 * writebackEvery)
	if s.writebacks.Load() != n {
		t.Fatal("the write-out kept running after Close")
	}
}

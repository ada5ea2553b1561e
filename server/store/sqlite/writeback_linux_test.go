package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// The write-out of the log and the database file runs beside the writer
// while it commits and leaves an idle store alone.
func TestWritebackFollowsTheWriter(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "memoryd.db"))
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; s.writebacks.Load() < 3; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d write-out rounds in 10 s of writes", s.writebacks.Load())
		}
		if err := putVector(s, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * writebackEvery) // the round after the last commit
	n := s.writebacks.Load()
	time.Sleep(10 * writebackEvery)
	if got := s.writebacks.Load(); got != n {
		t.Fatalf("%d write-out rounds while no write came", got-n)
	}
	// Close waits for it: a write-out that does not stop hangs here.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// A database that has no room left answers UNAVAILABLE and is not ready
// until a write goes through again; what it holds stays readable. SQLite
// reports a database at its max_page_count as it reports a full disk
// (SQLITE_FULL), so capping the file at its size stands in for the disk.
// Readiness tries a write of its own here at once (no hold), which must
// fail while the cap holds and pass once it is lifted.
func TestFullDatabaseIsUnavailableUntilSpaceIsFreed(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "memoryd.db"))
	s.FullHold = 0
	if err := putVector(s, "before"); err != nil {
		t.Fatal(err)
	}
	setMaxPages(t, s, 0) // no more pages than it has
	fill(t, s)
	if err := s.Ping(ctx); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("Ping of a full database: %v, want %s", err, memoryd.EUNAVAILABLE)
	}
	if _, err := s.GetMemory(ctx, "w", "before"); err != nil {
		t.Fatalf("reading from a full database: %v", err)
	}

	setMaxPages(t, s, 1<<30) // space freed
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping once space is freed: %v", err)
	}
	if err := putVector(s, "after"); err != nil {
		t.Fatalf("a write once space is freed: %v", err)
	}
}

// Within the hold after a write failed for lack of space, readiness fails
// without trying a write of its own (one of its size may fit where the
// clients' do not); a client's write that commits ends it at once.
func TestWriteAfterFullClearsIt(t *testing.T) {
	ctx := context.Background()
	s := openT(t, filepath.Join(t.TempDir(), "memoryd.db"))
	s.FullHold = time.Hour // longer than the test, whatever the machine
	setMaxPages(t, s, 0)
	fill(t, s)
	setMaxPages(t, s, 1<<30)
	if err := s.Ping(ctx); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("Ping within the hold: %v, want %s", err, memoryd.EUNAVAILABLE)
	}
	if err := putVector(s, "after"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after a write committed: %v", err)
	}
}

// A real full disk: SQLite reports the file system's ENOSPC as
// SQLITE_FULL, at commit when the log cannot grow. The disk is a small
// tmpfs, which needs root to mount.
func TestFullDiskIsUnavailable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	ctx := context.Background()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	s := openT(t, filepath.Join(dir, "memoryd.db"))
	fill(t, s)
	if err := s.Ping(ctx); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("Ping with the disk full: %v, want %s", err, memoryd.EUNAVAILABLE)
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput(); err != nil {
		t.Fatalf("growing the tmpfs: %v\n%s", err, out)
	}
	if err := putVector(s, "after"); err != nil {
		t.Fatalf("a write once space is freed: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after a write committed: %v", err)
	}
}

// fill writes memories until the database refuses one, which must be
// answered UNAVAILABLE.
func fill(t *testing.T, s *Store) {
	t.Helper()
	var err error
	for i := 0; i < 1000 && err == nil; i++ { // until the free pages are used up
		err = putVector(s, fmt.Sprint("m", i))
	}
	if code := memoryd.ErrorCode(err); code != memoryd.EUNAVAILABLE {
		t.Fatalf("a write to a full database: %v (code %s), want %s", err, code, memoryd.EUNAVAILABLE)
	}
	if !errors.Is(err, &memoryd.Error{Code: memoryd.EUNAVAILABLE}) {
		t.Fatalf("%v: not an UNAVAILABLE *memoryd.Error", err)
	}
}

// setMaxPages caps the database at n pages, or at its current size when
// n is 0, on the writer's connection (the cap is the connection's).
func setMaxPages(t *testing.T, s *Store, n int64) {
	t.Helper()
	if n == 0 {
		if err := s.W.QueryRow("PRAGMA page_count").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	var got int64
	if err := s.W.QueryRow(fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		t.Fatal(err)
	}
}

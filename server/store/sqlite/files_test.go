//go:build unix

package sqlite

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The data directory and every file of the database are the owner's
// alone, whatever the umask: with none at all, the defaults would let
// everyone read them.
func TestFilesArePrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0))
	data := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(data, "sub", "memoryd.db")
	s := openT(t, path)
	if err := putVector(s, "m"); err != nil { // the log and shared memory exist from here
		t.Fatal(err)
	}
	for _, dir := range []string{data, filepath.Dir(path)} {
		expectMode(t, dir, dirPerm)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		expectMode(t, f, filePerm)
	}
}

// An existing directory and database keep the permissions their operator
// gave them.
func TestExistingFilesKeepTheirMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "memoryd.db")
	if err := os.Chmod(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	openT(t, path)
	expectMode(t, dir, 0o750)
	expectMode(t, path, 0o640)
}

func expectMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}

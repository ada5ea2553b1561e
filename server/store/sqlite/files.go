package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The database holds every memory and the hashes of the API keys: only
// its owner may read it. SQLite creates the log (-wal) and shared-memory
// (-shm) files with the database file's permissions, so creating that one
// private makes them all private.
const (
	dirPerm  fs.FileMode = 0o700
	filePerm fs.FileMode = 0o600
)

// createPrivate creates path's directory and path itself, owner-only,
// unless they exist: an existing directory or database keeps the
// permissions its operator gave it.
func createPrivate(path string) error {
	if err := createDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("store: create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create database file: %w", err)
	}
	// The mode given at creation passes through the umask; set it whole.
	return errors.Join(f.Chmod(filePerm), f.Close())
}

func createDir(dir string) error {
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return err
	}
	return os.Chmod(dir, dirPerm)
}

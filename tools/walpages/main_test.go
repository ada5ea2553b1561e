package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestCountsTheLogsPages writes 20 commits of 5 rows each with
// checkpoints off, copies the files as a crashed server leaves them, and
// checks the counts: one commit frame per commit, and the frames named
// after the table and index the rows went to.
func TestCountsTheLogsPages(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, key TEXT UNIQUE, body BLOB)"); err != nil {
		t.Fatal(err)
	}
	// The schema's own commit is in the log too.
	for c := range 20 {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := tx.Exec("INSERT INTO notes (key, body) VALUES (?, zeroblob(3000))", fmt.Sprintf("k%03d-%d", c, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	snap := filepath.Join(dir, "snap.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(snap+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	c, err := count(snap)
	if err != nil {
		t.Fatal(err)
	}
	if c.commits != 21 {
		t.Errorf("%d commits, want 21 (the schema's and 20 of rows)", c.commits)
	}
	// 100 rows of 3,000 bytes: a page each, over 20 commits.
	if n := c.byName["notes"]; n < 100 {
		t.Errorf("%d frames of notes, want at least one per row (100)", n)
	}
	if n := c.byName["sqlite_autoindex_notes_1"]; n < 20 {
		t.Errorf("%d frames of the key index, want at least one per commit (20)", n)
	}
	sum := 0
	for _, n := range c.byName {
		sum += n
	}
	if sum != c.frames {
		t.Errorf("named frames add up to %d of %d", sum, c.frames)
	}
}

func TestAnEmptyLogIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(path+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := count(path); err == nil {
		t.Fatal("want an error for a log without a header")
	}
}

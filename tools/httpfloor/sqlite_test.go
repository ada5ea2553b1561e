package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestSQLiteFloorStoresEachCreate: every acknowledged put is a row, with
// a vector of memoryd's size, in each checkpoint mode.
func TestSQLiteFloorStoresEachCreate(t *testing.T) {
	for _, mode := range []string{"bounded", "passive", "none"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "floor.db")
			f, err := openSQLiteFloor(path, mode)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 50 {
						if err := f.put(fmt.Sprintf("mem_%d_%d", w, i), "some text"); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n, size int
			if err := db.QueryRow("SELECT count(*), min(length(embedding)) FROM memories").Scan(&n, &size); err != nil {
				t.Fatal(err)
			}
			if n != 400 || size != 512*4 {
				t.Fatalf("%d rows with vectors of %d bytes, want 400 of %d", n, size, 512*4)
			}
		})
	}
}

func TestSQLiteFloorRejectsUnknownMode(t *testing.T) {
	if _, err := openSQLiteFloor(filepath.Join(t.TempDir(), "x.db"), "sometimes"); err == nil {
		t.Fatal("want an error for -checkpoint sometimes")
	}
}

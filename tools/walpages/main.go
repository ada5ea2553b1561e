// Command walpages counts the pages in a SQLite write-ahead log by the
// table or index they belong to: what each commit writes, which is what
// a create costs the single writer (every page is a frame written to
// the log, then copied back by a checkpoint).
//
// Take the log while writes run, before a checkpoint empties it: stop
// the server hard and copy both files before anything opens them.
//
//	go run ./tools/load ... &  sleep 4; pkill -9 -f 'memoryd serve'
//	cp /tmp/m.db /tmp/m.db-wal /tmp/snap/
//	go run ./tools/walpages /tmp/snap/m.db
//
// Only the frames of the log's current generation (its header's salts)
// are counted; a commit is a frame that records the database size.
package main

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sort"

	_ "modernc.org/sqlite"
)

func main() {
	flag.Usage = func() { fmt.Fprintln(os.Stderr, "usage: walpages DB (reads DB-wal beside it)") }
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	c, err := count(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	c.print(os.Stdout)
}

// counts is a log's frames by b-tree name.
type counts struct {
	frames, commits int
	byName          map[string]int
}

// count reads path's log and names each frame's page through dbstat.
func count(path string) (*counts, error) {
	wal, err := os.ReadFile(path + "-wal")
	if err != nil {
		return nil, err
	}
	pages, commits, err := framePages(wal)
	if err != nil {
		return nil, err
	}
	names, err := pageNames(path)
	if err != nil {
		return nil, err
	}
	c := &counts{frames: len(pages), commits: commits, byName: map[string]int{}}
	for _, p := range pages {
		n, ok := names[p]
		if !ok {
			n = "(free or new)"
		}
		c.byName[n]++
	}
	return c, nil
}

// framePages returns the page number of each frame of the log's current
// generation, and how many of them end a commit.
func framePages(wal []byte) (pages []uint32, commits int, err error) {
	if len(wal) < 32 {
		return nil, 0, errors.New("walpages: the log has no header")
	}
	size := int(binary.BigEndian.Uint32(wal[8:12]))
	salt1, salt2 := binary.BigEndian.Uint32(wal[16:20]), binary.BigEndian.Uint32(wal[20:24])
	for off := 32; off+24+size <= len(wal); off += 24 + size {
		h := wal[off : off+24]
		if binary.BigEndian.Uint32(h[8:12]) != salt1 || binary.BigEndian.Uint32(h[12:16]) != salt2 {
			break // an earlier generation's frame: the log ends here
		}
		pages = append(pages, binary.BigEndian.Uint32(h[0:4]))
		if binary.BigEndian.Uint32(h[4:8]) != 0 {
			commits++
		}
	}
	return pages, commits, nil
}

// pageNames maps page numbers to the table or index that holds them.
func pageNames(path string) (map[uint32]string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT name, pageno FROM dbstat")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := map[uint32]string{}
	for rows.Next() {
		var name string
		var page uint32
		if err := rows.Scan(&name, &page); err != nil {
			return nil, err
		}
		names[page] = name
	}
	return names, rows.Err()
}

func (c *counts) print(w io.Writer) {
	fmt.Fprintf(w, "%d frames, %d commits", c.frames, c.commits)
	if c.commits > 0 {
		fmt.Fprintf(w, ", %.1f frames a commit", float64(c.frames)/float64(c.commits))
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return c.byName[names[i]] > c.byName[names[j]] })
	for _, n := range names {
		fmt.Fprintf(w, "%-32s %7d", n, c.byName[n])
		if c.commits > 0 {
			fmt.Fprintf(w, "  %5.2f a commit", float64(c.byName[n])/float64(c.commits))
		}
		fmt.Fprintln(w)
	}
}

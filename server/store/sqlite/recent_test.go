package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// The events the writer keeps in memory are the log's, exactly: same
// positions, order and content as ReadEvents, across a wrap of the window.
func TestRecentEventsAreTheLogs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	s := openT(t, path)
	if evs, ok := s.RecentEvents(0, 10); ok || len(evs) > 0 {
		t.Fatalf("nothing committed yet: got %d events, ok %v; want not ok", len(evs), ok)
	}
	appendN(t, s, "a", 3, 1)
	expectRecent(t, s, 0, 10, 3)
	expectRecent(t, s, 1, 1, 1)
	if evs, ok := s.RecentEvents(3, 10); !ok || len(evs) != 0 {
		t.Fatalf("at the newest event: got %d events, ok %v; want none, ok", len(evs), ok)
	}
	if _, ok := s.RecentEvents(4, 10); ok {
		t.Fatal("a position past what this process committed must be read from the log")
	}

	// More than the window holds, from concurrent writers (groups).
	n := sqlstore.RecentCap + 100
	appendN(t, s, "b", n, 16)
	last := int64(3 + n)
	if _, ok := s.RecentEvents(3, 10); ok {
		t.Fatal("events older than the window must be read from the log")
	}
	expectRecent(t, s, last-sqlstore.RecentCap, sqlstore.RecentCap, sqlstore.RecentCap)
	expectRecent(t, s, last-10, 100, 10)
}

// An event written by another process to the same file leaves a gap in
// what this one saw: the window restarts after it.
func TestRecentEventsAfterAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	s := openT(t, path)
	appendN(t, s, "a", 2, 1)
	appendN(t, openT(t, path), "elsewhere", 1, 1) // seq 3
	appendN(t, s, "a", 1, 1)                      // seq 4
	if _, ok := s.RecentEvents(2, 10); ok {
		t.Fatal("the other process's event is not in memory: want not ok")
	}
	expectRecent(t, s, 3, 10, 1)
}

func openT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// appendN appends n events of workspace ws from the given number of
// goroutines.
func appendN(t *testing.T, s *Store, ws string, n, writers int) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	for range writers {
		wg.Go(func() {
			for i := range next {
				ev := &memoryd.Event{Workspace: ws, Type: memoryd.EventMemoryCreated, Payload: fmt.Appendf(nil, `{"id":"%s_%d"}`, ws, i)}
				if err := s.AppendEvent(context.Background(), ev); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// expectRecent checks RecentEvents(after, limit) returns want events,
// equal to the log's.
func expectRecent(t *testing.T, s *Store, after int64, limit, want int) {
	t.Helper()
	got, ok := s.RecentEvents(after, limit)
	if !ok || len(got) != want {
		t.Fatalf("RecentEvents(%d, %d): %d events, ok %v; want %d", after, limit, len(got), ok, want)
	}
	log, err := s.ReadEvents(context.Background(), "", after, want)
	if err != nil {
		t.Fatal(err)
	}
	for i := range log {
		g, l := *got[i], *log[i]
		// The log stores microseconds.
		if g.CreatedAt.UnixMicro() != l.CreatedAt.UnixMicro() {
			t.Fatalf("event %d: created %v, log %v", l.Seq, g.CreatedAt, l.CreatedAt)
		}
		g.CreatedAt = l.CreatedAt
		if !reflect.DeepEqual(g, l) {
			t.Fatalf("event %d in memory %+v, in the log %+v", l.Seq, g, l)
		}
	}
}

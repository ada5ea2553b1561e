package weaviate

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/weaviatetest"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/vector/vectortest"
)

// TestTwoNodes: two indexes on one collection (two memoryd nodes) writing
// the same memories, and replays, leave one object per memory.
func TestTwoNodes(t *testing.T) {
	a := newIndex(t, Config{})
	b, err := Open(Config{Host: a.cfg.Host, GRPCHost: a.cfg.GRPCHost, Class: a.cfg.Class})
	if err != nil {
		t.Fatal(err)
	}
	vecs := vectortest.Vectors(41, 50, vectortest.Dims)
	for range 2 {
		for _, x := range []*Index{a, b} {
			if err := x.UpsertBatch("ws-a", ids(50), vecs); err != nil {
				t.Fatalf("UpsertBatch: %v", err)
			}
		}
	}
	if err := b.Upsert("ws-a", vectortest.ID(7), vecs[8]); err != nil {
		t.Fatal(err)
	}
	if n := a.Len("ws-a"); n != 50 {
		t.Fatalf("Len = %d after repeated writes of 50 memories from two nodes", n)
	}
	hits, err := a.Search("ws-a", vecs[8], 2, nil)
	if err != nil || len(hits) != 2 || hits[0].Score < 0.9999 || hits[1].Score < 0.9999 {
		t.Fatalf("node b's replacement not seen by node a: %v, %v", hits, err)
	}
	if err := a.Delete("ws-a", vectortest.ID(7)); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete("ws-a", vectortest.ID(7)); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("second delete from the other node: %v, want ErrNotFound", err)
	}
	if err := b.DeleteBatch("ws-a", append(ids(10), "absent")); err != nil {
		t.Fatalf("DeleteBatch: %v", err)
	}
	if n := a.Len("ws-a"); n != 40 {
		t.Fatalf("Len = %d after deleting 10 of 50", n)
	}
}

// TestWorkspaceNames: workspaces whose names differ only where Weaviate's
// tenant names cannot (dots, underscores, case) stay apart.
func TestWorkspaceNames(t *testing.T) {
	x := newIndex(t, Config{})
	names := []string{"a.b", "a_db", "a_b", "A_B", "a-b", "ab", "AB", "team.x.y.z",
		strings.Repeat("w", 100), strings.Repeat("w", 99) + "x"} // hashed tenant names
	vecs := vectortest.Vectors(42, len(names), vectortest.Dims)
	for i, ws := range names {
		for j := 0; j <= i; j++ { // workspace i holds i+1 vectors
			if err := x.Upsert(ws, vectortest.ID(j), vecs[i]); err != nil {
				t.Fatalf("Upsert(%q): %v", ws, err)
			}
		}
	}
	for i, ws := range names {
		if n := x.Len(ws); n != i+1 {
			t.Errorf("workspace %q holds %d vectors, want %d", ws, n, i+1)
		}
	}
}

// TestWiped: a collection deleted behind the index's back (Weaviate wiped)
// reads as empty, and the next write creates it again.
func TestWiped(t *testing.T) {
	x := newIndex(t, Config{})
	v := vectortest.Vectors(43, 2, vectortest.Dims)
	if err := x.Upsert("ws-a", "m1", v[0]); err != nil {
		t.Fatal(err)
	}
	if err := x.client.Schema().ClassDeleter().WithClassName(x.cfg.Class).Do(t.Context()); err != nil {
		t.Fatal(err)
	}
	if hits, err := x.Search("ws-a", v[0], 5, nil); err != nil || len(hits) != 0 {
		t.Fatalf("search after wipe: %v, %v; want no hits", hits, err)
	}
	if n, err := x.Count("ws-a"); err != nil || n != 0 {
		t.Fatalf("Count after wipe = %d, %v", n, err)
	}
	if err := x.Upsert("ws-a", "m2", v[1]); err != nil {
		t.Fatalf("upsert after wipe: %v", err)
	}
	if hits, err := x.Search("ws-a", v[1], 5, nil); err != nil || len(hits) != 1 || hits[0].ID != "m2" {
		t.Fatalf("search after re-creation: %v, %v", hits, err)
	}
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("%s: %v, want code %s", what, err, memoryd.EUNAVAILABLE)
	}
}

// TestNothingListening: no Weaviate at the address reads as unavailable
// (503 to API clients), not as an internal error, for every method.
func TestNothingListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	x, err := Open(Config{Host: addr, GRPCHost: addr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Open must not need Weaviate up: %v", err)
	}
	checkUnavailable(t, x)
}

// wantAway: err is unavailable, and the index feeder sees it as Weaviate
// gone (to compare it with the database once it is back).
func wantAway(t *testing.T, x *Index, what string, err error) {
	t.Helper()
	wantUnavailable(t, what, err)
	if !x.WentAway(err) {
		t.Fatalf("%s: %v is not WentAway", what, err)
	}
}

func checkUnavailable(t *testing.T, x *Index) {
	t.Helper()
	v := vectortest.Vectors(44, 1, vectortest.Dims)[0]
	wantAway(t, x, "Ping", x.Ping(t.Context()))
	wantAway(t, x, "Upsert", x.Upsert("ws-a", "m1", v))
	_, err := x.Search("ws-a", v, 3, nil)
	wantAway(t, x, "Search", err)
	_, err = x.SearchIDs("ws-a", v, 3, []string{"m1"})
	wantAway(t, x, "SearchIDs", err)
	_, err = x.Count("ws-a")
	wantAway(t, x, "Count", err)
	wantAway(t, x, "Delete", x.Delete("ws-a", "m1"))
}

// TestOutage: Weaviate stopped, then back: calls are unavailable meanwhile
// and the same index works again afterwards, data intact.
func TestOutage(t *testing.T) {
	srv := weaviatetest.Start(t)
	x, err := Open(Config{Host: srv.Host(), GRPCHost: srv.GRPCHost(), Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	vecs := vectortest.Vectors(45, 20, vectortest.Dims)
	if err := x.UpsertBatch("ws-a", ids(20), vecs); err != nil {
		t.Fatal(err)
	}
	srv.Halt()
	checkUnavailable(t, x)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := x.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	if err := x.Upsert("ws-a", "m-new", vecs[3]); err != nil {
		t.Fatalf("Upsert after restart: %v", err)
	}
	hits, err := x.Search("ws-a", vecs[3], 2, nil)
	if err != nil || len(hits) != 2 {
		t.Fatalf("Search after restart: %v, %v", hits, err)
	}
	if n := x.Len("ws-a"); n != 21 {
		t.Fatalf("Len after restart = %d, want 21", n)
	}
}

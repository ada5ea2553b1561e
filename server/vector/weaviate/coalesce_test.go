package weaviate

import (
	"fmt"
	"sync"
	"testing"

	"github.com/memoryd/memoryd/server/vector/vectortest"
)

// Single writes that arrive together share requests, and each caller
// gets its own outcome: all stored, a bad vector refused alone.
func TestSingleUpsertsShareRequests(t *testing.T) {
	x := newIndex(t, Config{Dims: vectortest.Dims})
	const n = 40
	vecs := vectortest.Vectors(71, n, vectortest.Dims)
	warm := vectortest.Vectors(70, 1, vectortest.Dims)[0]
	if err := x.Upsert("ws-a", "warm", warm); err != nil { // the collection and tenant exist first
		t.Fatal(err)
	}
	before := x.joinedRequests.Load()
	errs := make([]error, n+1)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n + 1 {
		wg.Go(func() {
			<-start
			if i == n {
				errs[i] = x.Upsert("ws-a", "bad", vecs[0][:vectortest.Dims-1])
				return
			}
			errs[i] = x.Upsert("ws-a", fmt.Sprintf("m%02d", i), vecs[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs[:n] {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if errs[n] == nil {
		t.Errorf("a vector of %d numbers in an index of %d was stored", vectortest.Dims-1, vectortest.Dims)
	}
	if got := x.joinedRequests.Load() - before; got < 1 || got > n/2 {
		t.Errorf("%d concurrent writes sent %d requests, want between 1 and %d", n, got, n/2)
	}
	if c, err := x.Count("ws-a"); err != nil || c != n+1 {
		t.Fatalf("Count = %d, %v; want %d", c, err, n+1)
	}
	for i := range n {
		hits, err := x.Search("ws-a", vecs[i], 1, nil)
		if err != nil || len(hits) != 1 || hits[0].ID != fmt.Sprintf("m%02d", i) {
			t.Fatalf("search for write %d: %v, %v", i, hits, err)
		}
	}
}

// Single writes to two workspaces at once each land in their own
// workspace: a workspace gathers its own batches (its own tenant).
func TestSingleUpsertsOfTwoWorkspaces(t *testing.T) {
	x := newIndex(t, Config{})
	vecs := vectortest.Vectors(72, 20, vectortest.Dims)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() {
			errs[i] = x.Upsert([]string{"ws-a", "ws-b"}[i%2], fmt.Sprintf("m%02d", i), vecs[i])
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	for _, ws := range []string{"ws-a", "ws-b"} {
		if c, err := x.Count(ws); err != nil || c != 10 {
			t.Errorf("Count(%s) = %d, %v; want 10", ws, c, err)
		}
	}
}

// A batch whose sending panicked still answers its callers and lets the
// next batch of its workspace go.
func TestHandOverAfterPanic(t *testing.T) {
	c := newCoalescer()
	b := &joined{docs: []Doc{{ID: "a"}, {ID: "b"}}, ready: make(chan struct{}), done: make(chan struct{})}
	nb := &joined{ready: make(chan struct{}), done: make(chan struct{})}
	c.flying["ws"], c.next["ws"] = true, nb
	func() {
		defer func() { _ = recover() }()
		defer c.handOver("ws", b)
		panic("send failed")
	}()
	select {
	case <-b.done:
	default:
		t.Fatal("the batch's callers are still waiting")
	}
	if len(b.errs) != 2 || b.errs[0] != errNotSent || b.errs[1] != errNotSent {
		t.Fatalf("errs = %v, want errNotSent for both", b.errs)
	}
	select {
	case <-nb.ready:
	default:
		t.Fatal("the next batch was not let go")
	}
	if !c.flying["ws"] {
		t.Fatal("the workspace is no longer in flight while its next batch goes")
	}
}

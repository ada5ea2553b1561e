package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// node is one memoryd's service and in-process index over a store.
type node struct {
	st  service.Store
	svc *service.Service
	idx *memindex.Index
	log *logBuffer
}

func newNode(st service.Store) *node {
	lb := &logBuffer{}
	n := &node{st: st, log: lb, idx: memindex.New()}
	svc, err := service.New(st, n.idx, hash.New(dims), service.WithLogger(slog.New(slog.NewTextHandler(lb, nil))))
	if err != nil {
		panic(err) // the options are constants
	}
	n.svc = svc
	return n
}

// holds reports whether n's index ranks id first for vec with a score of
// (nearly) 1: it holds vec as id's vector.
func (n *node) holds(ws, id string, vec []float32) bool {
	hits, err := n.idx.Search(ws, vec, 1, func(got string) bool { return got == id })
	return err == nil && len(hits) == 1 && hits[0].Score > 0.999
}

// randomVec is a random vector of dims.
func randomVec(r *rand.Rand) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// Two nodes on one SQLite file (two opens, as two processes): what A
// writes reaches B's index through ApplyCurrent, which applies the stored
// state whatever the event said: created, replaced, deleted, and a stored
// vector the index cannot rank taken out.
func TestApplyCurrentBringsAnotherNodesChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a, b := newNode(openStore(t, path)), newNode(openStore(t, path))
	ctx := context.Background()
	for i, id := range []string{"x", "y"} {
		if _, err := a.svc.Put(ctx, actor, service.PutInput{ID: id, Text: id, Embedding: unit(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if b.idx.Len("w") != 0 {
		t.Fatal("B's index holds A's writes before applying them")
	}
	apply := func() {
		t.Helper()
		if err := b.svc.ApplyCurrent(ctx, "w", []string{"x", "y", "never-written"}); err != nil {
			t.Fatal(err)
		}
	}
	apply()
	if !b.holds("w", "x", unit(0)) || !b.holds("w", "y", unit(1)) || b.idx.Len("w") != 2 {
		t.Fatalf("after the creates: B's index holds %d vectors, want x and y", b.idx.Len("w"))
	}
	if _, err := a.svc.Update(ctx, actor, "x", service.UpdateInput{Embedding: unit(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Delete(ctx, actor, "y"); err != nil {
		t.Fatal(err)
	}
	apply()
	apply() // twice: applying state is idempotent
	if !b.holds("w", "x", unit(7)) || b.holds("w", "x", unit(0)) || b.idx.Len("w") != 1 {
		t.Fatalf("after the update and delete: B's index holds %d vectors, want x with its new vector only", b.idx.Len("w"))
	}
	putRow(t, a.st, "w", "x", make([]float32, dims)) // a zero vector, written past the checks
	apply()
	if b.idx.Len("w") != 0 {
		t.Fatal("B's index keeps x's old vector after x was rewritten with one it cannot rank")
	}
	if !strings.Contains(b.log.String(), "stored vector left out of the index") {
		t.Fatalf("the unrankable vector is not logged:\n%s", b.log)
	}
}

// A node applying the log while it takes writes never undoes one: each
// writer checks, as soon as its write returns, that the index holds the
// vector it wrote, while ApplyCurrent keeps applying batches it read
// before, during and after those writes.
func TestApplyCurrentNeverUndoesThisNodesWrites(t *testing.T) {
	st := openStore(t, "")
	n := newNode(st)
	ctx := context.Background()
	const writers, rounds = 4, 150
	ids := make([]string, writers)
	for i := range ids {
		ids[i] = fmt.Sprint("m", i)
	}
	stop := make(chan struct{})
	var appliers sync.WaitGroup
	for range 2 {
		appliers.Add(1)
		go func() {
			defer appliers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := n.svc.ApplyCurrent(ctx, "w", ids); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	undone := 0
	for w, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range rounds {
				vec := randomVec(r)
				if _, err := n.svc.Put(ctx, actor, service.PutInput{ID: id, Text: id, Embedding: vec}); err != nil {
					t.Error(err)
					return
				}
				if !n.holds("w", id, vec) {
					mu.Lock()
					undone++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	appliers.Wait()
	if undone > 0 {
		t.Fatalf("%d of %d writes were undone in the index by an older state applied after them", undone, writers*rounds)
	}
}

// Rebuilding while the node serves puts every stored vector in the index;
// a memory deleted meanwhile elsewhere (its event lost) keeps a vector,
// which searches never return and remove when they meet it.
func TestRebuildIndexWhileTheNodeServes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a, b := newNode(openStore(t, path)), newNode(openStore(t, path))
	ctx := context.Background()
	for i := range 3 {
		if _, err := a.svc.Put(ctx, actor, service.PutInput{ID: fmt.Sprint("k", i), Text: "kept", Embedding: unit(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.svc.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Delete(ctx, actor, "k0"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Put(ctx, actor, service.PutInput{ID: "new", Text: "new", Embedding: unit(5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Update(ctx, actor, "k1", service.UpdateInput{Embedding: unit(6)}); err != nil {
		t.Fatal(err)
	}
	n, err := b.svc.RebuildIndex(ctx)
	if err != nil || n != 3 {
		t.Fatalf("RebuildIndex: %d memories, %v; want 3", n, err)
	}
	if !b.holds("w", "new", unit(5)) || !b.holds("w", "k1", unit(6)) || !b.holds("w", "k2", unit(2)) {
		t.Fatal("the rebuilt index lacks a stored vector")
	}
	if !strings.Contains(b.log.String(), "rebuilding the vector index from the memories table: done") {
		t.Fatalf("no progress log:\n%s", b.log)
	}
	if b.idx.Len("w") != 4 {
		t.Fatalf("index holds %d vectors, want the 3 stored and k0's orphan", b.idx.Len("w"))
	}
	res, err := b.svc.Search(ctx, actor, service.SearchQuery{Embedding: unit(0), Mode: service.ModeSemantic, Limit: 10, Threshold: 0.5})
	if err != nil || len(res.Hits) != 0 {
		t.Fatalf("search for the deleted memory's vector: %v %+v, want no hits", err, res)
	}
	if b.idx.Len("w") != 3 {
		t.Fatalf("index holds %d vectors after the search met the orphan, want 3", b.idx.Len("w"))
	}
}

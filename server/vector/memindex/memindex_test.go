package memindex

import (
	"errors"
	"math"
	"slices"
	"sync"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/vector/vectortest"
)

func TestContract(t *testing.T) {
	configs := map[string][]Option{
		"exact":      nil,
		"hnsw":       {WithExactBelow(0)},
		"transition": {WithExactBelow(50), WithHNSW(8, 64, 32)},
	}
	for name, opts := range configs {
		t.Run(name, func(t *testing.T) {
			vectortest.Run(t, func(*testing.T) memoryd.VectorIndex { return New(opts...) })
		})
	}
}

// load upserts vecs as itoa(i) and fails the test on error.
func load(t testing.TB, x *Index, ws string, vecs [][]float32) {
	t.Helper()
	for i, v := range vecs {
		if err := x.Upsert(ws, itoa(i), v); err != nil {
			t.Fatal(err)
		}
	}
}

// loadConcurrently upserts vecs into workspace "w" from workers goroutines.
func loadConcurrently(t *testing.T, x *Index, vecs [][]float32, workers int) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(vecs); i += workers {
				if err := x.Upsert("w", itoa(i), vecs[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

func mustSearch(t testing.TB, x *Index, ws string, q []float32, k int, allow func(string) bool) []memoryd.Scored {
	t.Helper()
	hits, err := x.Search(ws, q, k, allow)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func graphOf(x *Index, ws string) *graph {
	x.wait()
	s := x.space(ws, false)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.graph
}

// sameRanking asserts got equals the brute-force ranking (ids and scores).
func sameRanking(t *testing.T, got, want []memoryd.Scored) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d hits, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-5 {
			t.Fatalf("hit %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestExactIsExact(t *testing.T) {
	x := New()
	vecs := clustered(1, 1500, 48, 30, 0.6)
	load(t, x, "w", vecs)
	if graphOf(x, "w") != nil {
		t.Fatal("1500 vectors should stay in exact mode")
	}
	for _, q := range clustered(2, 20, 48, 30, 0.6) {
		sameRanking(t, mustSearch(t, x, "w", q, 10, nil), exactTopK(vecs, q, 10))
	}
}

// TestHNSWRecall is the unit-sized version of the recall benchmark.
func TestHNSWRecall(t *testing.T) {
	if raceEnabled {
		t.Skip("measures recall only; too slow under -race")
	}
	x := New(WithHNSW(0, 0, 128)) // a breadth the graph search is used at, at this size
	all := clustered(3, 5200, 64, 100, 0.6)
	vecs, queries := all[:5000], all[5000:]
	load(t, x, "w", vecs)
	if graphOf(x, "w") == nil {
		t.Fatal("5000 vectors should be in graph mode")
	}
	var recall float64
	for _, q := range queries {
		hits := mustSearch(t, x, "w", q, 10, nil)
		recall += recallAt(hits, exactTopK(vecs, q, 10))
	}
	if recall /= float64(len(queries)); recall < 0.95 {
		t.Fatalf("recall@10 = %.3f, want >= 0.95", recall)
	}
	t.Logf("recall@10 = %.4f", recall)
}

// TestModeTransitions crosses the threshold up and back down, checking
// results at each step.
func TestModeTransitions(t *testing.T) {
	x := New(WithExactBelow(100))
	vecs := clustered(5, 300, 16, 10, 0.6)
	load(t, x, "w", vecs[:99])
	if graphOf(x, "w") != nil {
		t.Fatal("99 vectors: want exact mode")
	}
	load(t, x, "w", vecs)
	if graphOf(x, "w") == nil {
		t.Fatal("300 vectors: want graph mode")
	}
	q := vecs[7]
	if hits := mustSearch(t, x, "w", q, 1, nil); hits[0].ID != itoa(7) {
		t.Fatalf("graph mode: %v", hits)
	}
	for i := 299; i >= 40; i-- {
		if err := x.Delete("w", itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if graphOf(x, "w") != nil {
		t.Fatal("40 vectors: want exact mode again")
	}
	if n := x.Len("w"); n != 40 {
		t.Fatalf("Len = %d", n)
	}
	sameRanking(t, mustSearch(t, x, "w", q, 50, nil), exactTopK(vecs[:40], q, 50))
}

// TestCompaction deletes and replaces enough graph nodes to trigger
// rebuilds, then checks nothing live was lost and nothing dead came back.
func TestCompaction(t *testing.T) {
	x := New(WithExactBelow(100))
	vecs := clustered(6, 900, 16, 40, 0.6)
	load(t, x, "w", vecs)
	repl := clustered(7, 900, 16, 40, 0.6)
	live := map[string][]float32{}
	for i := range vecs {
		switch i % 3 {
		case 0:
			if err := x.Delete("w", itoa(i)); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := x.Upsert("w", itoa(i), repl[i]); err != nil {
				t.Fatal(err)
			}
			live[itoa(i)] = repl[i]
		default:
			live[itoa(i)] = vecs[i]
		}
	}
	x.wait()
	s := x.space("w", false)
	if n, l := int(s.n.Load()), x.Len("w"); l != len(live) || n > 2*l {
		t.Fatalf("Len %d (want %d), slots %d: tombstones were not compacted", l, len(live), n)
	}
	for id, v := range live {
		hits := mustSearch(t, x, "w", v, 1, nil)
		if len(hits) != 1 || hits[0].ID != id || hits[0].Score < 0.9999 {
			t.Fatalf("%s not found by its own vector: %v", id, hits)
		}
	}
}

func TestSearchIDs(t *testing.T) {
	for _, exactBelow := range []int{0, 10000} {
		x := New(WithExactBelow(exactBelow))
		vecs := clustered(8, 500, 16, 10, 0.6)
		load(t, x, "w", vecs)
		ids := []string{itoa(3), itoa(3), itoa(400), "unknown", itoa(99), itoa(250)}
		sub := map[string][]float32{}
		for _, id := range ids {
			if id != "unknown" {
				sub[id] = vecs[slices.Index(idsOf(len(vecs)), id)]
			}
		}
		q := vecs[10]
		hits, err := x.SearchIDs("w", q, 3, ids)
		if err != nil {
			t.Fatal(err)
		}
		want := vectortest.BruteForce(sub, q, 3, nil)
		sameRanking(t, hits, want)
		if hits, _ := x.SearchIDs("w", q, 0, ids); len(hits) != 0 {
			t.Fatalf("k=0: %v", hits)
		}
		if _, err := x.SearchIDs("w", q[:5], 3, ids); memoryd.ErrorCode(err) != memoryd.EINVALID {
			t.Fatalf("wrong dimension: %v", err)
		}
	}
}

func idsOf(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = itoa(i)
	}
	return out
}

// TestSelectiveAllow: a filter keeping a handful of a large graph still
// yields the exact best allowed hits.
func TestSelectiveAllow(t *testing.T) {
	x := New(WithExactBelow(100))
	vecs := clustered(9, 1500, 16, 30, 0.6)
	load(t, x, "w", vecs)
	keep := map[string]bool{}
	var kept [][]float32
	var keptIDs []string
	for i := 0; i < len(vecs); i += 61 {
		keep[itoa(i)] = true
		kept = append(kept, vecs[i])
		keptIDs = append(keptIDs, itoa(i))
	}
	for _, q := range clustered(10, 10, 16, 30, 0.6) {
		want := exactTopK(kept, q, 10)
		for i := range want { // exactTopK names by position in kept
			want[i].ID = keptIDs[mustAtoi(want[i].ID)]
		}
		sameRanking(t, mustSearch(t, x, "w", q, 10, func(id string) bool { return keep[id] }), want)
	}
}

func mustAtoi(id string) int {
	n := 0
	for _, c := range id[1:] {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestDeleteAbsentIsNotFound(t *testing.T) {
	x := New()
	if err := x.Delete("w", "a"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("unknown workspace: %v", err)
	}
	load(t, x, "w", clustered(11, 3, 8, 1, 0.5))
	if err := x.Delete("w", "a"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestStoresACopy(t *testing.T) {
	x := New()
	v := []float32{1, 0, 0}
	if err := x.Upsert("w", "a", v); err != nil {
		t.Fatal(err)
	}
	v[0], v[1] = 0, 1
	hits := mustSearch(t, x, "w", []float32{1, 0, 0}, 1, nil)
	if hits[0].Score < 0.9999 {
		t.Fatalf("index kept the caller's slice: %v", hits)
	}
}

// TestDimensionFreeWhenEmpty: the dimension is fixed while a workspace
// holds vectors and free again once it is empty.
func TestDimensionFreeWhenEmpty(t *testing.T) {
	x := New()
	if err := x.Upsert("w", "a", []float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	err := x.Upsert("w", "b", []float32{1, 2, 3})
	var e *memoryd.Error
	if !errors.As(err, &e) || e.Code != memoryd.EINVALID {
		t.Fatalf("mismatch: %v, want *memoryd.Error %s", err, memoryd.EINVALID)
	}
	if err := x.Delete("w", "a"); err != nil {
		t.Fatal(err)
	}
	if err := x.Upsert("w", "b", []float32{1, 2, 3}); err != nil {
		t.Fatalf("empty workspace refused a new dimension: %v", err)
	}
}

// TestConcurrentGraphInserts drives the parallel insert path (graph mode
// from the first vector) with searches alongside, then checks every vector
// is reachable: a broken link update would strand nodes.
func TestConcurrentGraphInserts(t *testing.T) {
	x := New(WithExactBelow(0), WithHNSW(8, 48, 32))
	const writers, per = 4, 400
	vecs := clustered(12, writers*per, 24, 40, 0.6)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, q := range clustered(13, 200, 24, 40, 0.6) {
			if _, err := x.Search("w", q, 10, nil); err != nil {
				t.Error(err)
				return
			}
		}
	})
	loadConcurrently(t, x, vecs, writers)
	wg.Wait()
	if n := x.Len("w"); n != len(vecs) {
		t.Fatalf("Len = %d, want %d", n, len(vecs))
	}
	missed := 0
	for i, v := range vecs {
		hits := mustSearch(t, x, "w", v, 1, nil)
		if hits[0].ID != itoa(i) && hits[0].Score < 0.9999 {
			missed++
		}
	}
	if missed > len(vecs)/100 {
		t.Fatalf("%d of %d vectors not found by their own vector", missed, len(vecs))
	}
}

// TestFilteredGraphSearch runs the filtered graph search directly (the
// planner would pick the exact scan at this size) against brute force.
func TestFilteredGraphSearch(t *testing.T) {
	x := New(WithExactBelow(100), WithHNSW(12, 64, 48))
	all := clustered(60, 3100, 16, 30, 0.6)
	vecs, queries := all[:3000], all[3000:]
	load(t, x, "w", vecs)
	x.wait()
	s := x.space("w", false)
	for _, every := range []int{2, 10} {
		keep := func(id string) bool { return mustAtoi(id)%every == 0 }
		var kept [][]float32
		for i := 0; i < len(vecs); i += every {
			kept = append(kept, vecs[i])
		}
		var recall float64
		for _, q := range queries {
			s.mu.RLock()
			hits := s.graphSearch(unit(q), 10, s.cfg.efSearch, keep)
			s.mu.RUnlock()
			if len(hits) != 10 {
				t.Fatalf("1 in %d: %d hits", every, len(hits))
			}
			for _, h := range hits {
				if !keep(h.ID) {
					t.Fatalf("1 in %d: %s not allowed", every, h.ID)
				}
			}
			want := exactTopK(kept, q, 10)
			for i := range want { // exactTopK names by position in kept
				want[i].ID = itoa(mustAtoi(want[i].ID) * every)
			}
			recall += recallAt(hits, want)
		}
		if recall /= float64(len(queries)); recall < 0.95 {
			t.Fatalf("1 in %d: recall@10 %.3f", every, recall)
		}
	}
}

// TestPlanner: the exact scan is chosen for small workspaces and selective
// filters, the graph otherwise.
func TestPlanner(t *testing.T) {
	x := New(WithExactBelow(100), WithHNSW(0, 0, 128))
	load(t, x, "w", clustered(61, 5000, 8, 20, 0.6))
	x.wait()
	s := x.space("w", false)
	cases := []struct {
		every int // allow keeps 1 in every; 0: no filter
		k     int
		exact bool
	}{{0, 10, false}, {0, 6000, true}, {1, 10, false}, {1000, 10, true}}
	for _, c := range cases {
		var allow func(string) bool
		if c.every > 0 {
			allow = func(id string) bool { return mustAtoi(id)%c.every == 0 }
		}
		s.mu.RLock()
		got := s.preferExact(c.k, s.cfg.efSearch, allow)
		s.mu.RUnlock()
		if got != c.exact {
			t.Errorf("1 in %d, k=%d: exact %v, want %v", c.every, c.k, got, c.exact)
		}
	}
}

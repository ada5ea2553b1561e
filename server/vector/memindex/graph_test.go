package memindex

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/vector/vectortest"
)

// unreachable counts live nodes that no level-0 path from the entry point
// reaches; HNSW searches can never return those.
func unreachable(s *space) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.graph
	seen := make([]bool, s.n.Load())
	ep, _ := g.entry()
	stack := []int32{ep}
	seen[ep] = true
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, n := range g.neighbours(c, 0, nil) {
			if !seen[n] {
				seen[n] = true
				stack = append(stack, n)
			}
		}
	}
	un := 0
	for i, r := range seen {
		if !r && s.state(int32(i)) == stateLive {
			un++
		}
	}
	return un
}

// TestGraphConnected builds the graph three ways (one insert at a time,
// bulk in parallel at the threshold, concurrent upserts) on data tight
// enough that careless link pruning strands nodes.
func TestGraphConnected(t *testing.T) {
	vecs := clustered(20, 1500, 16, 30, 0.6)
	builds := map[string]func() *Index{
		"sequential": func() *Index {
			x := New(WithExactBelow(0))
			load(t, x, "w", vecs)
			return x
		},
		"bulk": func() *Index {
			x := New(WithExactBelow(len(vecs)))
			load(t, x, "w", vecs)
			return x
		},
		"concurrent": func() *Index {
			x := New(WithExactBelow(0))
			loadConcurrently(t, x, vecs, 3)
			return x
		},
	}
	for name, build := range builds {
		t.Run(name, func(t *testing.T) {
			x := build()
			x.wait()
			s := x.space("w", false)
			if s.graph == nil {
				t.Fatal("not in graph mode")
			}
			if n := unreachable(s); n > 0 {
				t.Fatalf("%d of %d nodes unreachable", n, len(vecs))
			}
		})
	}
}

// TestNoNodeStranded: with M 4 on tight clusters, the pruning heuristic
// alone leaves a few nodes in 3,000 with no link to them (each lost to a
// better one). Linked one at a time, with no repair, the in-link counts
// keep every live node linked; with three writers (the linker's workers
// linking at once) the linker's repair covers what they cannot. Either
// way the counts match the rows.
func TestNoNodeStranded(t *testing.T) {
	seeds := uint64(8)
	if raceEnabled {
		seeds = 2
	}
	check := func(t *testing.T, s *space, n int) {
		if got := unreachable(s); got > 0 {
			t.Errorf("%d of %d nodes unreachable", got, n)
		}
		checkInCounts(t, s)
	}
	for seed := range seeds {
		vecs := clustered(seed+1, 3000, 16, 30, 0.6)
		t.Run(fmt.Sprintf("seed %d, one at a time", seed+1), func(t *testing.T) {
			x := New(WithExactBelow(0), WithHNSW(4, 40, 0))
			x.cfg.linkOff.Store(true)
			load(t, x, "w", vecs)
			x.wait()
			s := x.space("w", false)
			s.mu.RLock()
			s.graph.insertAll(s, 0, s.n.Load(), 1)
			s.mu.RUnlock()
			check(t, s, len(vecs))
		})
		t.Run(fmt.Sprintf("seed %d, 3 writers", seed+1), func(t *testing.T) {
			x := New(WithExactBelow(0), WithHNSW(4, 40, 0))
			loadConcurrently(t, x, vecs, 3)
			x.wait()
			check(t, x.space("w", false), len(vecs))
		})
	}
}

// TestRepairLinksIslands cuts every level-0 link to two nodes but theirs
// to each other, the island concurrent inserts can leave: the linker
// repairs the risky graph once it has linked everything.
func TestRepairLinksIslands(t *testing.T) {
	x := New(WithExactBelow(0), WithHNSW(4, 40, 0))
	load(t, x, "w", clustered(5, 500, 16, 5, 0.6))
	x.wait()
	s := x.space("w", false)
	g, n := s.graph, s.n.Load()
	ep, _ := g.entry()
	a, b := n-1, n-2
	if a == ep || b == ep {
		a, b = n-3, n-4
	}
	for node := range n {
		links := slices.DeleteFunc(g.neighbours(node, 0, nil), func(o int32) bool { return o == a || o == b })
		switch node {
		case a:
			links = append(links[:min(len(links), g.m0-1)], b)
		case b:
			links = append(links[:min(len(links), g.m0-1)], a)
		}
		r := g.row(node, 0)
		r[0] = int32(copy(r[1:], links))
	}
	recount(g, n)
	if got := unreachable(s); got != 2 {
		t.Fatalf("after cutting the links to %d and %d: %d unreachable, want 2", a, b, got)
	}
	// The linker repairs when it has linked a write: one far from a and b.
	g.risky.Store(true)
	far := slices.Clone(s.vec(a))
	for i := range far {
		far[i] = -far[i]
	}
	if err := x.Upsert("w", "far", far); err != nil {
		t.Fatal(err)
	}
	x.wait()
	if got := unreachable(s); got != 0 {
		t.Errorf("after the linker's repair: %d unreachable", got)
	}
	checkInCounts(t, s)
}

// recount sets every slot's level-0 in-link count from the rows.
func recount(g *graph, n int32) {
	for node := range n {
		*g.in0.at(node) = 0
	}
	for node := range n {
		for _, o := range g.neighbours(node, 0, nil) {
			*g.in0.at(o)++
		}
	}
}

// checkInCounts compares each slot's level-0 in-link count with the links
// to it in every row.
func checkInCounts(t *testing.T, s *space) {
	t.Helper()
	g, n := s.graph, s.n.Load()
	want := make([]int32, n)
	for node := range n {
		for _, o := range g.neighbours(node, 0, nil) {
			want[o]++
		}
	}
	for node := range n {
		if got := atomic.LoadInt32(g.in0.at(node)); got != want[node] {
			t.Fatalf("node %d: in-link count %d, %d links to it", node, got, want[node])
		}
	}
}

// TestLinksValid checks every link row: counts within bounds, no self
// links, no duplicates, targets in range.
func TestLinksValid(t *testing.T) {
	x := New(WithExactBelow(200), WithHNSW(6, 40, 20))
	load(t, x, "w", clustered(21, 1200, 8, 20, 0.5))
	s := x.space("w", false)
	g := s.graph
	n := s.n.Load()
	for node := range n {
		for l := 0; l <= int(g.level(node)); l++ {
			links := g.neighbours(node, l, nil)
			maxLinks := g.m
			if l == 0 {
				maxLinks = g.m0
			}
			if len(links) > maxLinks {
				t.Fatalf("node %d level %d: %d links > %d", node, l, len(links), maxLinks)
			}
			sorted := slices.Sorted(slices.Values(links))
			if len(slices.Compact(sorted)) != len(links) {
				t.Fatalf("node %d level %d: duplicate links %v", node, l, links)
			}
			for _, o := range links {
				if o == node || o < 0 || o >= n || int(g.level(o)) < l {
					t.Fatalf("node %d level %d: bad link %d", node, l, o)
				}
			}
		}
	}
}

// TestEarlyStop: on data whose best results settle early, a wide search
// with the early stop visits a fraction of the nodes the ef bound alone
// lets it visit, and finds the same best k; on overlapping clusters,
// where they keep changing, it keeps the recall of the ef bound.
func TestEarlyStop(t *testing.T) {
	const k, ef = 10, 768
	t.Run("settled", func(t *testing.T) {
		vecs := clustered(30, 4000, 32, 40, 0.3)
		var withStop, without int
		earlyStopRun(t, vecs, k, ef, func(q []float32, search func(earlyStop) ([]memoryd.Scored, int)) {
			a, va := search(searchStop(k, ef))
			b, vb := search(earlyStop{})
			if !slices.Equal(a, b) {
				t.Fatalf("best %d with the early stop %v, without %v", k, a, b)
			}
			withStop += va
			without += vb
		})
		if withStop*2 > without {
			t.Fatalf("the early stop visited %d nodes, the ef bound alone %d: want at most half", withStop, without)
		}
		t.Logf("visited %d nodes with the early stop, %d without", withStop, without)
	})
	t.Run("overlapping", func(t *testing.T) {
		const ef = 40 // narrow: at 768 it would visit most of the graph
		vecs := clustered(31, 8000, 256, 800, 1.6)
		var withStop, without, n float64
		earlyStopRun(t, vecs, k, ef, func(q []float32, search func(earlyStop) ([]memoryd.Scored, int)) {
			truth, _ := search(earlyStop{patience: -1})
			a, _ := search(searchStop(k, ef))
			b, _ := search(earlyStop{})
			withStop += vectortest.Recall(a, truth)
			without += vectortest.Recall(b, truth)
			n++
		})
		if withStop /= n; withStop < without/n-0.01 {
			t.Fatalf("recall@%d with the early stop %.3f, without %.3f", k, withStop, without/n)
		}
		t.Logf("recall@%d with the early stop %.3f, without %.3f", k, withStop, without/n)
	})
}

// earlyStopRun builds a graph of vecs and calls each for a query made of
// every 100th vector, with a search of that query at breadth ef under a
// given early stop, which returns its best k and the nodes it
// visited. earlyStop{patience: -1} searches the whole graph (ef = all).
func earlyStopRun(t *testing.T, vecs [][]float32, k, ef int, each func(q []float32, search func(earlyStop) ([]memoryd.Scored, int))) {
	x := New(WithExactBelow(0))
	load(t, x, "w", vecs)
	x.wait()
	s := x.space("w", false)
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.graph
	sc := getScratch(s.capacity())
	defer putScratch(sc)
	for i := 0; i < len(vecs); i += 100 {
		q := unit(vecs[i])
		each(q, func(stop earlyStop) (best []memoryd.Scored, visited int) {
			breadth := ef
			if stop.patience < 0 {
				breadth, stop = len(vecs), earlyStop{}
			}
			ep, top := g.entry()
			cur := item{dot(q, s.vec(ep)), ep}
			for l := top; l > 0; l-- {
				cur = g.greedy(s, sc, q, cur, l)
			}
			found := g.searchLayer(s, sc, codeOf(q), cur, breadth, 0, stop, nil)
			for _, it := range found[:k] {
				best = append(best, memoryd.Scored{ID: s.id(it.slot), Score: it.sim})
			}
			for _, m := range sc.visit.marks {
				if m == sc.visit.gen {
					visited++
				}
			}
			return best, visited
		})
	}
}

func TestMinHeapOffer(t *testing.T) {
	var h minHeap
	for i, sim := range []float32{0.5, 0.1, 0.9, 0.3, 0.7, 0.2} {
		h.offer(item{sim, int32(i)}, 3)
	}
	if h.offer(item{0.4, 9}, 3) {
		t.Fatal("0.4 replaced one of the best three (0.9, 0.7, 0.5)")
	}
	if !h.offer(item{0.8, 9}, 3) {
		t.Fatal("0.8 did not enter the best three")
	}
	var got []float32
	for len(h) > 0 {
		got = append(got, h.pop().sim)
	}
	if want := []float32{0.7, 0.8, 0.9}; !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
}

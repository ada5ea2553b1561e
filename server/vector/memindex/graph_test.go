package memindex

import (
	"slices"
	"sync"
	"testing"
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
			var wg sync.WaitGroup
			for w := range 3 {
				wg.Go(func() {
					for i := w; i < len(vecs); i += 3 {
						if err := x.Upsert("w", itoa(i), vecs[i]); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
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

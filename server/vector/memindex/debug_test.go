package memindex

import "testing"

func (g *graph) reachable(s *space) []bool {
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
	return seen
}

func TestDebugReach(t *testing.T) {
	x := New(WithExactBelow(100))
	vecs := clustered(6, 2000, 16, 40, 0.6)
	load(t, x, "w", vecs)
	s := x.space("w", false)
	un := 0
	for i, r := range s.graph.reachable(s) {
		if !r && s.states[i] == stateLive {
			un++
		}
	}
	t.Logf("fresh: unreachable live %d of %d", un, s.n.Load())
	for i := range vecs {
		if i%3 == 0 {
			x.Delete("w", itoa(i))
		}
	}
	un = 0
	for i, r := range s.graph.reachable(s) {
		if !r && s.states[i] == stateLive {
			un++
		}
	}
	t.Logf("after deletes: unreachable live %d of %d, dead %d", un, s.n.Load(), s.dead)
}

func countUnreach(s *space) int {
	un := 0
	for i, r := range s.graph.reachable(s) {
		if !r && s.states[i] == stateLive {
			un++
		}
	}
	return un
}

func TestDebugReach2(t *testing.T) {
	for seed := uint64(1); seed < 6; seed++ {
		x := New(WithExactBelow(100))
		vecs := clustered(seed, 2000, 16, 40, 0.6)
		load(t, x, "w", vecs)
		s := x.space("w", false)
		a := countUnreach(s)
		s.mu.Lock()
		s.compact()
		s.mu.Unlock()
		b := countUnreach(s)
		x2 := New(WithExactBelow(3000))
		load(t, x2, "w", vecs)
		s2 := x2.space("w", false)
		s2.mu.Lock()
		s2.buildGraph()
		s2.mu.Unlock()
		t.Logf("seed %d: sequential %d, rebuilt %d, bulk %d", seed, a, b, countUnreach(s2))
	}
}

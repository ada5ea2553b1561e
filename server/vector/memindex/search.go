package memindex

import (
	"cmp"
	"slices"

	memoryd "github.com/memoryd/memoryd/server"
)

const (
	// filterSample is how many slots are tried against allow to estimate
	// how selective it is.
	filterSample = 256
	// minSampleHits: below this many accepted samples the filter keeps so
	// few vectors (under ~1.5%) that a graph search would wander over most
	// of the graph to find k of them; an exact scan of the accepted ones
	// is cheaper and exact.
	minSampleHits = 4
)

// search ranks the workspace's vectors against q (normalised), best first.
func (s *space) search(q []float32, k int, allow func(string) bool) ([]memoryd.Scored, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.live.Load() == 0 {
		return []memoryd.Scored{}, nil
	}
	if len(q) != s.dim {
		return nil, s.dimError(len(q))
	}
	if s.graph == nil || s.preferExact(k, allow) {
		return s.exact(q, k, allow), nil
	}
	return s.graphSearch(q, k, allow), nil
}

func (s *space) efSearch(k int) int { return max(k, s.cfg.efSearch) }

// preferExact reports whether an exact scan beats the graph for this query.
func (s *space) preferExact(k int, allow func(string) bool) bool {
	if int(s.live.Load()) <= s.efSearch(k) {
		return true
	}
	if allow == nil {
		return false
	}
	n := int(s.n.Load())
	step := max(n/filterSample, 1)
	tried, hits := 0, 0
	for i := 0; i < n && tried < filterSample; i += step {
		slot := int32(i)
		if s.state(slot) != stateLive {
			continue
		}
		tried++
		if allow(s.ids[slot]) {
			hits++
		}
	}
	return hits < min(minSampleHits, tried)
}

// exact scans every live vector; mu is held shared.
func (s *space) exact(q []float32, k int, allow func(string) bool) []memoryd.Scored {
	t := topK{k: k, h: make(minHeap, 0, min(k, int(s.live.Load())))}
	n := s.n.Load()
	for slot := range n {
		if s.state(slot) != stateLive || (allow != nil && !allow(s.ids[slot])) {
			continue
		}
		t.offer(dot(q, s.vec(slot)), slot)
	}
	return s.scored(t.h)
}

// graphSearch is the HNSW query: greedy descent through the upper levels,
// then a best-first search of level 0 that only accepts live, allowed
// nodes.
func (s *space) graphSearch(q []float32, k int, allow func(string) bool) []memoryd.Scored {
	g := s.graph
	sc := getScratch(s.capacity())
	defer putScratch(sc)
	ep, top := g.entry()
	cur := item{dot(q, s.vec(ep)), ep}
	for l := top; l > 0; l-- {
		cur = g.greedy(s, sc, q, cur, l)
	}
	ok := func(n int32) bool {
		return s.state(n) == stateLive && (allow == nil || allow(s.ids[n]))
	}
	found := g.searchLayer(s, sc, q, cur, s.efSearch(k), 0, ok)
	if len(found) < k && int(s.live.Load()) > len(found) {
		// The search ran out of graph before finding k: only possible
		// when allow leaves fewer than k or the graph is not connected.
		// The exact scan settles both.
		return s.exact(q, k, allow)
	}
	return s.scored(found[:min(k, len(found))])
}

// searchIDs ranks only the given ids, exactly.
func (s *space) searchIDs(q []float32, k int, ids []string) ([]memoryd.Scored, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.live.Load() == 0 {
		return []memoryd.Scored{}, nil
	}
	if len(q) != s.dim {
		return nil, s.dimError(len(q))
	}
	slots := make([]int32, 0, len(ids))
	s.meta.Lock()
	for _, id := range ids {
		if slot, ok := s.byID[id]; ok {
			slots = append(slots, slot)
		}
	}
	s.meta.Unlock()
	slices.Sort(slots)
	slots = slices.Compact(slots) // a repeated id counts once
	t := topK{k: k, h: make(minHeap, 0, min(k, len(slots)))}
	for _, slot := range slots {
		if s.state(slot) == stateLive {
			t.offer(dot(q, s.vec(slot)), slot)
		}
	}
	return s.scored(t.h), nil
}

// scored turns items into hits, best first (ties by id, for stable output).
func (s *space) scored(items []item) []memoryd.Scored {
	out := make([]memoryd.Scored, len(items))
	for i, it := range items {
		out[i] = memoryd.Scored{ID: s.ids[it.slot], Score: it.sim}
	}
	slices.SortFunc(out, func(a, b memoryd.Scored) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

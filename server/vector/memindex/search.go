package memindex

import (
	"cmp"
	"slices"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// filterSample is how many slots are tried against allow to estimate the
// share f of the workspace it keeps.
const filterSample = 256

// smallGraph: a graph of up to smallGraph*ef live vectors is scanned
// exactly instead. A search of breadth ef visits much of a graph that
// small, one cache miss a node, while the scan reads the codes in order
// (BenchmarkHashTexts: at 5k vectors and ef=768 the scan took a sixth
// of the graph search's time).
const smallGraph = 8

// search ranks the workspace's vectors against q (normalised), best first,
// exploring ef candidates in the graph (0: the index's setting;
// ExactEf: an exact scan).
func (s *space) search(q []float32, k, ef int, allow func(string) bool) ([]memoryd.Scored, error) {
	s.noteSearch()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.live.Load() == 0 {
		return []memoryd.Scored{}, nil
	}
	if len(q) != s.dim {
		return nil, s.dimError(len(q))
	}
	setting := ef == 0
	if setting {
		ef = s.cfg.efSearch
	}
	if ef == ExactEf || s.preferExact(k, ef, allow) {
		return s.exact(q, k, allow), nil
	}
	if setting && allow == nil {
		ef = sizedEf(ef, k, s.live.Load())
	}
	return s.graphSearch(q, k, ef, allow), nil
}

// efAtSize is the workspace size at which the index's breadth setting
// applies in full. A smaller graph reaches the same recall with
// proportionally fewer candidates (BenchmarkOverlap with MEMINDEX_N), so
// an unfiltered search at the setting explores ef*live/efAtSize of them,
// at least minSizedEf and at least the best it re-scores exactly
// (rerankOf(k): a wide top-k, such as hybrid's, keeps a wide walk);
// larger graphs keep the setting. A filtered search keeps it too: it
// meets allowed nodes only now and then, and the planner (preferExact)
// costs it at the full breadth. An explicit per-call breadth (SearchEf)
// is taken as given.
const (
	efAtSize   = 100_000
	minSizedEf = 64
)

// sizedEf is the breadth of an unfiltered top-k search at the setting ef
// in a workspace of live vectors.
func sizedEf(ef, k int, live int64) int {
	if live >= efAtSize {
		return ef
	}
	return min(ef, max(minSizedEf, rerankOf(k), int(int64(ef)*live/efAtSize)))
}

// efSearch is the breadth a query explores: ef, never less than k.
func (s *space) efSearch(k, ef int) int { return max(k, ef) }

// noteSearch records that searches are coming (for the linker), writing
// the shared clock at most every few milliseconds so concurrent searches
// do not contend for its cache line.
func (s *space) noteSearch() {
	now := time.Now().UnixNano()
	if now-s.lastSearch.Load() > int64(5*time.Millisecond) {
		s.lastSearch.Store(now)
	}
}

// preferExact reports whether an exact scan beats the graph for a query.
// Without a filter the graph wins unless the workspace is under
// smallGraph*ef. With a filter keeping a share f (sampled), both costs are
// estimated in dot products: the graph search expands about ef/f nodes
// of m0 links, ~0.75 of them new, and scores rejected nodes too (it must
// walk through them); the exact scan makes an allow call per slot (~0.15
// of a dot with a map-backed filter) and scores the kept ones. Fitted to
// measurements at 100k 512-d vectors, where the two cross near f=0.13 at
// ~5 ms (BenchmarkFiltered). Hopping over rejected nodes without scoring
// them (ACORN-style) was tried: its extra allow calls ate the savings
// there, and recall fell for small f.
func (s *space) preferExact(k, ef int, allow func(string) bool) bool {
	live := float64(s.live.Load())
	ef = s.efSearch(k, ef)
	if s.graph == nil || live <= float64(smallGraph*ef) {
		return true
	}
	if allow == nil {
		return false
	}
	f := s.keptShare(allow)
	tail := float64(s.n.Load() - s.linked.Load()) // scanned either way
	graphCost := 0.75*float64(ef*s.graph.m0)/f + tail*(0.15+f)
	exactCost := live * (0.15 + f)
	return exactCost < graphCost
}

// keptShare estimates the share of live vectors allow keeps from an
// evenly spread sample (never 0, so costs stay finite).
func (s *space) keptShare(allow func(string) bool) float64 {
	n := int(s.n.Load())
	step := max(n/filterSample, 1)
	tried, hits := 0, 0
	for i := 0; i < n && tried < filterSample; i += step {
		slot := int32(i)
		if s.state(slot) != stateLive {
			continue
		}
		tried++
		if allow(s.id(slot)) {
			hits++
		}
	}
	return max(float64(hits), 0.5) / float64(max(tried, 1))
}

// exact scans every live vector; mu is held shared.
func (s *space) exact(q []float32, k int, allow func(string) bool) []memoryd.Scored {
	t := topK{k: k, h: make(minHeap, 0, min(k, int(s.live.Load())))}
	s.scan(q, 0, s.n.Load(), allow, &t)
	return s.scored(t.h)
}

// scan offers the live, allowed slots among [from, to) to t: it ranks
// them by their int8 codes, which reads a quarter of the bytes, and
// offers the best rerankOf(t.k) with their exact scores.
func (s *space) scan(q []float32, from, to int32, allow func(string) bool, t *topK) {
	if to-from <= int32(rerankOf(t.k)) {
		for slot := from; slot < to; slot++ {
			if s.state(slot) == stateLive && (allow == nil || allow(s.id(slot))) {
				t.offer(dot(q, s.vec(slot)), slot)
			}
		}
		return
	}
	qc := codeOf(q)
	c := topK{k: rerankOf(t.k), h: make(minHeap, 0, rerankOf(t.k))}
	for slot := from; slot < to; slot++ {
		if s.state(slot) != stateLive || (allow != nil && !allow(s.id(slot))) {
			continue
		}
		c.offer(s.sim8(qc, slot), slot)
	}
	for _, it := range c.h {
		t.offer(dot(q, s.vec(it.slot)), it.slot)
	}
}

// graphSearch searches the linked slots through the graph and scans the
// unlinked tail exactly, merging the two. linked is loaded once, first:
// the graph part accepts only slots below it and the scan takes the rest
// up to n, so a slot the linker finishes meanwhile (already reachable in
// the graph) still counts in exactly one part.
func (s *space) graphSearch(q []float32, k, ef int, allow func(string) bool) []memoryd.Scored {
	linked := s.linked.Load()
	t := topK{k: k, h: make(minHeap, 0, min(k, int(s.live.Load())))}
	if linked > 0 {
		s.searchLinked(q, k, ef, allow, linked, &t)
	}
	s.scan(q, linked, s.n.Load(), allow, &t)
	if len(t.h) < k && int(s.live.Load()) > len(t.h) {
		// The search ran out of graph before finding k: only possible
		// when allow leaves fewer than k or the graph is not connected.
		// The exact scan settles both.
		return s.exact(q, k, allow)
	}
	return s.scored(t.h)
}

// searchLinked is the HNSW query over slots [0, linked): greedy descent
// through the upper levels, then a search of level 0 that only accepts
// live, allowed, linked nodes. Its hits are offered to t.
func (s *space) searchLinked(q []float32, k, ef int, allow func(string) bool, linked int32, t *topK) {
	g := s.graph
	ep, top := g.entry()
	if ep < 0 { // every linked slot was dead when its turn came
		return
	}
	sc := getScratch(s.capacity())
	defer putScratch(sc)
	cur := item{dot(q, s.vec(ep)), ep}
	for l := top; l > 0; l-- {
		cur = g.greedy(s, sc, q, cur, l)
	}
	ok := func(n int32) bool {
		return n < linked && s.state(n) == stateLive && (allow == nil || allow(s.id(n)))
	}
	ef = s.efSearch(k, ef)
	// A filtered search meets an allowed node only now and then, so a
	// run of expansions without a better one says little: it searches
	// to the ef bound (the planner already costs it that way).
	var stop earlyStop
	if allow == nil {
		stop = searchStop(k, ef)
	}
	found := g.searchLayer(s, sc, codeOf(q), cur, ef, 0, stop, ok)
	// Only the coded best are re-scored, as in the exact scan: each
	// re-score reads a whole vector, four times its code, from anywhere
	// in memory, and a wide search finds hundreds.
	found = found[:min(len(found), rerankOf(k))]
	s.rescore(q, found)
	for _, it := range found {
		t.offer(it.sim, it.slot)
	}
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
		out[i] = memoryd.Scored{ID: s.id(it.slot), Score: it.sim}
	}
	slices.SortFunc(out, func(a, b memoryd.Scored) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

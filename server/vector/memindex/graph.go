package memindex

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

const (
	nStripes = 1024 // node locks, shared by node id modulo nStripes
	maxLevel = 16
)

// graph is an HNSW graph over a space's slots (Malkov & Yashunin 2016).
// Level 0 links live in flat []int32 chunks (row = count + 2M ids, see
// rows.go) so the hot layer takes few allocations; the few nodes above
// level 0 carry a small slice for their upper levels.
//
// A node's link row is read and written under its stripe lock; no code
// path holds two stripe locks, so concurrent inserts cannot deadlock.
type graph struct {
	m, m0   int // max links above / at level 0
	efc     int
	levelMu float64

	levels rows[uint8]
	links0 rows[int32]   // cap rows of m0+1
	upper  rows[[]int32] // slot -> levels 1..L, each (m+1) wide
	in0    rows[int32]   // level-0 links to each slot, counted atomically (setRow0)
	risky  atomic.Bool   // a node was left with riskIn in-links or fewer (repair)

	epMu     sync.Mutex
	ep       int32
	topLevel int

	stripes [nStripes]sync.Mutex
}

func newGraph(cfg *config, capacity int) *graph {
	g := &graph{
		m:       cfg.m,
		m0:      2 * cfg.m,
		efc:     cfg.efConstruction,
		levelMu: 1 / math.Log(float64(cfg.m)),
		links0:  rows[int32]{width: 2*cfg.m + 1},
		ep:      -1,
	}
	g.grow(capacity)
	return g
}

// grow resizes the per-slot arrays to c slots; the space's mu is held
// exclusively, so no reader sees the swap.
func (g *graph) grow(c int) {
	g.levels.grow(c)
	g.links0.grow(c)
	g.upper.grow(c)
	g.in0.grow(c)
}

func (g *graph) level(node int32) uint8 { return *g.levels.at(node) }

func (g *graph) randomLevel(r *rand.Rand) uint8 {
	l := int(-math.Log(1-r.Float64()) * g.levelMu)
	return uint8(min(l, maxLevel))
}

// row returns node's link row at level (row[0] is the count); the caller
// holds the node's stripe lock.
func (g *graph) row(node int32, level int) []int32 {
	if level == 0 {
		return g.links0.row(node)
	}
	up := g.upper.at(node)
	if *up == nil {
		*up = make([]int32, int(g.level(node))*(g.m+1))
	}
	off := (level - 1) * (g.m + 1)
	return (*up)[off : off+g.m+1]
}

func (g *graph) lock(node int32) *sync.Mutex {
	mu := &g.stripes[int(node)%nStripes]
	mu.Lock()
	return mu
}

// neighbours copies node's links at level into buf.
func (g *graph) neighbours(node int32, level int, buf []int32) []int32 {
	mu := g.lock(node)
	r := g.row(node, level)
	buf = append(buf[:0], r[1:1+r[0]]...)
	mu.Unlock()
	return buf
}

func (g *graph) entry() (int32, int) {
	g.epMu.Lock()
	defer g.epMu.Unlock()
	return g.ep, g.topLevel
}

// insertAll links the live slots among [from, to) using workers
// goroutines; dead ones are left out (see linkSome).
func (g *graph) insertAll(s *space, from, to int32, workers int) {
	// An empty graph's first node becomes its entry point: link it alone.
	for ; from < to; from++ {
		if ep, _ := g.entry(); ep >= 0 {
			break
		}
		if s.state(from) == stateLive {
			g.insert(s, from)
		}
	}
	if workers <= 1 || to-from <= 1 {
		for i := from; i < to; i++ {
			if s.state(i) == stateLive {
				g.insert(s, i)
			}
		}
		return
	}
	var next atomic.Int32
	next.Store(from)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= to {
					return
				}
				if s.state(i) == stateLive {
					g.insert(s, i)
				}
			}
		})
	}
	wg.Wait()
}

// insert links node q, whose vector and level are set.
func (g *graph) insert(s *space, q int32) {
	level := int(g.level(q))
	g.epMu.Lock()
	ep, top := g.ep, g.topLevel
	if ep < 0 {
		g.ep, g.topLevel = q, level
		g.epMu.Unlock()
		return
	}
	g.epMu.Unlock()

	sc := getScratch(s.capacity())
	defer putScratch(sc)
	v := s.vec(q)
	cur := item{dot(v, s.vec(ep)), ep}
	for l := top; l > level; l-- {
		cur = g.greedy(s, sc, v, cur, l)
	}
	for l := min(level, top); l >= 0; l-- {
		found := g.searchLayer(s, sc, s.code(q), cur, g.efc, l, earlyStop{}, nil)
		s.rescore(v, found)
		cur = found[0]
		cands := g.preferLive(s, sc, found, q)
		nb := g.selectNeighbours(s, cands, g.m, &sc.sel)
		g.setLinks(s, q, l, nb, sc)
		for _, n := range nb {
			g.addLink(s, n.slot, q, l, sc)
		}
		if l == 0 {
			g.anchor(s, sc, q, nb)
		}
	}
	if level > top {
		g.epMu.Lock()
		if level > g.topLevel {
			g.ep, g.topLevel = q, level
		}
		g.epMu.Unlock()
	}
}

// anchor makes sure new node q has a level-0 in-link once its neighbours
// nb had their say: a forced one from the nearest when none of them kept
// q. A node left with few marks the graph risky (repair).
func (g *graph) anchor(s *space, sc *scratch, q int32, nb []item) {
	if len(nb) > 0 && atomic.LoadInt32(g.in0.at(q)) == 0 {
		g.link(s, nb[0].slot, q, 0, sc, true)
	}
	if atomic.LoadInt32(g.in0.at(q)) <= riskIn {
		g.risky.Store(true)
	}
}

// preferLive drops q itself and dead nodes from link candidates (a link
// to a tombstone only helps until the next rebuild), unless nothing else
// is left.
func (g *graph) preferLive(s *space, sc *scratch, found []item, q int32) []item {
	out := sc.live[:0]
	for _, it := range found {
		if it.slot != q && s.state(it.slot) == stateLive {
			out = append(out, it)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, it := range found {
		if it.slot != q {
			out = append(out, it)
		}
	}
	sc.live = out
	return out
}

// setLinks gives q its links at level. A concurrent insert that reached q
// through an upper level may already have linked back to it here; those
// links are kept, so neither side loses its edge.
func (g *graph) setLinks(s *space, q int32, level int, nb []item, sc *scratch) {
	mu := g.lock(q)
	defer mu.Unlock()
	r := g.row(q, level)
	nb = append(sc.merge[:0], nb...) // the caller still ranges over its nb
	for _, o := range r[1 : 1+r[0]] {
		if !slices.ContainsFunc(nb, func(it item) bool { return it.slot == o }) {
			nb = append(nb, item{dot(s.vec(q), s.vec(o)), o})
		}
	}
	if maxLinks := len(r) - 1; len(nb) > maxLinks {
		slices.SortFunc(nb, byBest)
		nb = g.selectNeighbours(s, nb, maxLinks, &sc.kept)
	}
	if level == 0 {
		g.setRow0(sc, r, nb, -1)
	} else {
		setRow(r, nb)
	}
	sc.merge = nb
}

// addLink adds the back link n -> q; when n is full, n keeps the best
// diverse subset of its links plus q (the same heuristic as insertion).
func (g *graph) addLink(s *space, n, q int32, level int, sc *scratch) {
	g.link(s, n, q, level, sc, false)
}

// link is addLink; force keeps n -> q even when the heuristic would not
// (insert's last resort for a node that no neighbour kept a link to).
func (g *graph) link(s *space, n, q int32, level int, sc *scratch, force bool) {
	maxLinks := g.m
	if level == 0 {
		maxLinks = g.m0
	}
	mu := g.lock(n)
	defer mu.Unlock()
	r := g.row(n, level)
	cnt := int(r[0])
	if slices.Contains(r[1:1+cnt], q) { // n's own insert linked it already
		return
	}
	if cnt < maxLinks {
		r[1+cnt] = q
		r[0]++
		if level == 0 {
			g.addIn(q)
		}
		return
	}
	base := s.vec(n)
	cands := sc.prune[:0]
	cands = append(cands, item{dot(base, s.vec(q)), q})
	for _, o := range r[1 : 1+cnt] {
		if s.state(o) == stateLive {
			cands = append(cands, item{dot(base, s.vec(o)), o})
		}
	}
	slices.SortFunc(cands, byBest)
	kept := g.selectNeighbours(s, cands, maxLinks, &sc.kept)
	switch {
	case level > 0:
		setRow(r, kept)
	case force:
		g.setRow0(sc, r, kept, q)
	default:
		g.setRow0(sc, r, kept, -1)
	}
	sc.prune = cands
}

// setRow writes links into row r.
func setRow(r []int32, links []item) {
	r[0] = int32(len(links))
	for i, it := range links {
		r[1+i] = it.slot
	}
}

// setRow0 replaces level-0 row r by kept (at most the row's room), keeping
// every node reachable: a link that is its target's last in-link
// stays, in place of the worst kept link that may go, and so does force
// (a slot, or -1 for none). Without this a node whose in-links all lose to
// its neighbours' better links could never again be found by a search
// (tight clusters and a small M make it likely). The caller holds the
// row's lock; kept's buffer is reused.
func (g *graph) setRow0(sc *scratch, r []int32, kept []item, force int32) {
	old := r[1 : 1+r[0]]
	n := len(r) + 1 // a row's links, the new one, force
	inOld, inKept := newSlotSet(&sc.sets[0], n), newSlotSet(&sc.sets[1], n)
	for _, o := range old {
		inOld.add(o)
	}
	for _, it := range kept {
		inKept.add(it.slot)
	}
	var stayBuf [4]int32 // links that must stay: seldom any
	stays := stayBuf[:0]
	if force >= 0 && !inKept.has(force) {
		stays = append(stays, force)
	}
	for _, o := range old {
		if !inKept.has(o) && !g.dropIn(o) {
			stays = append(stays, o)
		}
	}
	for _, o := range stays {
		kept = g.makeRoom(inOld, stays, kept, len(r)-1)
		if len(kept) < len(r)-1 {
			kept = append(kept, item{slot: o})
		} else if inOld.has(o) {
			atomic.AddInt32(g.in0.at(o), -1) // no room left: it goes after all
		}
	}
	for _, it := range kept {
		if !inOld.has(it.slot) {
			g.addIn(it.slot)
		}
	}
	setRow(r, kept)
}

// makeRoom removes from a full kept the worst link that may go: a new one
// (not in old), or an old one whose target has other in-links; stay's are
// never removed.
func (g *graph) makeRoom(old slotSet, stay []int32, kept []item, room int) []item {
	if len(kept) < room {
		return kept
	}
	for i := len(kept) - 1; i >= 0; i-- {
		e := kept[i].slot
		if slices.Contains(stay, e) {
			continue
		}
		if !old.has(e) || g.dropIn(e) {
			return slices.Delete(kept, i, i+1)
		}
	}
	return kept
}

// slotSet is a set of at most a row's worth of slots: open addressing
// over slot+1 (0 is empty), at most half full.
type slotSet struct {
	s    []int32
	mask int
}

// newSlotSet makes a set for n slots in buf's memory.
func newSlotSet(buf *[]int32, n int) slotSet {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	if cap(*buf) < size {
		*buf = make([]int32, size)
	}
	s := (*buf)[:size]
	clear(s)
	return slotSet{s, size - 1}
}

func (h slotSet) add(x int32) {
	for i := slotHash(x) & h.mask; ; i = (i + 1) & h.mask {
		switch h.s[i] {
		case 0:
			h.s[i] = x + 1
			return
		case x + 1:
			return
		}
	}
}

func (h slotSet) has(x int32) bool {
	for i := slotHash(x) & h.mask; ; i = (i + 1) & h.mask {
		switch h.s[i] {
		case 0:
			return false
		case x + 1:
			return true
		}
	}
}

func slotHash(x int32) int { return int(uint32(x) * 2654435761 >> 16) }

// addIn counts a new level-0 link to n.
func (g *graph) addIn(n int32) { atomic.AddInt32(g.in0.at(n), 1) }

// dropIn uncounts a level-0 link to n unless it is n's last, and reports
// whether the link may go. Tombstones keep theirs too: searches still pass
// through them. The decrement comes first, so of two nodes dropping n's
// last two links at once, one keeps its link.
func (g *graph) dropIn(n int32) bool {
	p := g.in0.at(n)
	left := atomic.AddInt32(p, -1)
	if left <= riskIn {
		g.risky.Store(true)
	}
	if left > 0 {
		return true
	}
	atomic.AddInt32(p, 1)
	return false
}

// riskIn is the in-link count at or below which a node may be part of an
// island (repair): every node of an island of k nodes has at most k-1
// in-links, so islands of up to three nodes always mark the graph risky.
const riskIn = 2

// repair links every live node among the first n slots that no level-0
// path from the entry point reaches, from the nearest node that is
// reached, when the graph is risky. The in-link counts keep single nodes
// linked, but nodes linked at the same time can end up linking only each
// other (two nodes, each the other's one in-link). Nothing else may link
// meanwhile: the linker runs it with the tail empty, a build once linked.
// At the default M a graph is seldom risky, so the walk over every node
// is rare: about once per bulk load.
func (g *graph) repair(s *space, n int32) {
	if !g.risky.Swap(false) {
		return
	}
	ep, top := g.entry()
	if ep < 0 {
		return
	}
	seen := make([]bool, n)
	g.reach(ep, seen)
	sc := getScratch(s.capacity())
	defer putScratch(sc)
	for q := range n {
		if seen[q] || s.state(q) != stateLive {
			continue
		}
		v := s.vec(q)
		cur := item{dot(v, s.vec(ep)), ep}
		for l := top; l > 0; l-- {
			cur = g.greedy(s, sc, v, cur, l)
		}
		from := ep
		reached := func(u int32) bool { return u < n && seen[u] && u != q }
		if found := g.searchLayer(s, sc, s.code(q), cur, g.m, 0, earlyStop{}, reached); len(found) > 0 {
			s.rescore(v, found)
			from = found[0].slot
		}
		g.link(s, from, q, 0, sc, true)
		g.reach(q, seen)
	}
}

// reach marks in seen every node a level-0 path from start reaches
// (slots at or past len(seen), linked meanwhile, are left out).
func (g *graph) reach(start int32, seen []bool) {
	if seen[start] {
		return
	}
	seen[start] = true
	stack := []int32{start}
	var nb []int32
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nb = g.neighbours(c, 0, nb)
		for _, o := range nb {
			if int(o) < len(seen) && !seen[o] {
				seen[o] = true
				stack = append(stack, o)
			}
		}
	}
}

// selectNeighbours is HNSW's heuristic: walking candidates best first, keep
// one only if it is closer to the base than to every one already kept.
// That spreads links over directions, which keeps clustered data
// navigable. Leftover room is then filled with the best pruned candidates
// ("keepPrunedConnections"), so fewer back links get pruned away at all
// (setRow0 keeps a node's last one). cands is sorted best first and holds
// each slot once; the result reuses *buf.
func (g *graph) selectNeighbours(s *space, cands []item, m int, buf *[]item) []item {
	if len(cands) <= m {
		*buf = append((*buf)[:0], cands...)
		return *buf
	}
	out := (*buf)[:0]
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		cv := s.vec(c.slot)
		good := true
		for _, r := range out {
			if dot(cv, s.vec(r.slot)) > c.sim {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
		}
	}
	// out is a subsequence of cands: the ones it skips were pruned.
	j, kept := 0, len(out)
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		if j < kept && out[j].slot == c.slot {
			j++
			continue
		}
		out = append(out, c)
	}
	*buf = out
	return out
}

func byBest(a, b item) int { return cmp.Compare(b.sim, a.sim) }

// greedy walks level l towards v from cur while a neighbour is closer.
func (g *graph) greedy(s *space, sc *scratch, v []float32, cur item, l int) item {
	for changed := true; changed; {
		changed = false
		sc.nb = g.neighbours(cur.slot, l, sc.nb)
		for _, n := range sc.nb {
			if sim := dot(v, s.vec(n)); sim > cur.sim {
				cur, changed = item{sim, n}, true
			}
		}
	}
	return cur
}

// searchLayer is HNSW's best-first search of one level from entry,
// keeping the ef best nodes accepted by ok (every node when ok is nil).
// It scores by int8 codes (quantize.go): a visited node is a cache miss,
// and its code is a quarter of its vector's bytes. Callers re-score the
// result exactly (space.rescore).
// Rejected nodes are still expanded, so filters and tombstones do not cut
// the graph; the search runs on until ef accepted nodes bound it, or
// until stop says its best results have settled. The result, best first,
// lives in sc.out.
func (g *graph) searchLayer(s *space, sc *scratch, v coded, entry item, ef, l int, stop earlyStop, ok func(int32) bool) []item {
	sc.visit.reset()
	sc.visit.mark(entry.slot)
	cand := sc.cand[:0]
	res := sc.res[:0]
	cand.push(entry)
	if ok == nil || ok(entry.slot) {
		res.push(entry)
	}
	best := sc.best[:0]
	stale := 0 // expansions since best last changed
	for len(cand) > 0 {
		c := cand.pop()
		if len(res) >= ef && c.sim < res.top().sim {
			break
		}
		if stop.patience > 0 && stale >= stop.patience {
			break
		}
		stale++
		// Keep the unvisited neighbours and start fetching their vectors
		// before scoring them: in a large workspace each vector is a cache
		// miss, and issuing them together overlaps the memory latency.
		sc.nb = g.neighbours(c.slot, l, sc.nb)
		fresh := sc.nb[:0]
		for _, n := range sc.nb {
			if !sc.visit.mark(n) {
				fresh = append(fresh, n)
				prefetch8(&s.codes.row(n)[0])
			}
		}
		for _, n := range fresh {
			sim := s.sim8(v, n)
			if len(res) >= ef && sim <= res.top().sim {
				continue
			}
			cand.push(item{sim, n})
			if ok == nil || ok(n) {
				res.push(item{sim, n})
				if len(res) > ef {
					res.pop()
				}
				if stop.patience > 0 && best.offer(item{sim, n}, stop.keep) {
					stale = 0
				}
			}
		}
	}
	if cap(sc.out) < len(res) {
		sc.out = make([]item, len(res), ef+1)
	}
	out := sc.out[:len(res)]
	for i := len(res) - 1; i >= 0; i-- {
		out[i] = res.pop()
	}
	sc.cand, sc.res, sc.out, sc.best = cand, res, out, best
	return out
}

// earlyStop ends a graph search before its ef bound once patience
// expansions in a row have not changed its best keep results; the zero
// value never does. The ef bound alone is the ef-th best node found, far
// below the top k when ef is wide (the default is set for hard data), so
// on data where the top k settle early a search went on expanding
// hundreds of nodes that could no longer change its answer
// (BenchmarkHashTexts measures it). Where the
// top results keep changing as the search explores (BenchmarkOverlap's
// overlapping clusters), the search keeps going until the bound.
type earlyStop struct{ keep, patience int }

// patienceShare makes a search of breadth ef patient for ef/patienceShare
// expansions, so ef stays the one accuracy knob: a wider search is also
// a more patient one. Benchmarks set MEMINDEX_PATIENCE=off to compare.
const patienceShare = 6

// noPatience turns the early stop off (benchmarks, for a side-by-side).
var noPatience bool

// searchStop is the early stop of a search for k results at breadth ef:
// it watches the candidates that are re-scored exactly (rerankOf).
func searchStop(k, ef int) earlyStop {
	if noPatience {
		return earlyStop{}
	}
	return earlyStop{keep: rerankOf(k), patience: max(ef/patienceShare, 1)}
}

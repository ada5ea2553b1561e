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
	}
	if level > top {
		g.epMu.Lock()
		if level > g.topLevel {
			g.ep, g.topLevel = q, level
		}
		g.epMu.Unlock()
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
	r[0] = int32(len(nb))
	for i, it := range nb {
		r[1+i] = it.slot
	}
	sc.merge = nb
}

// addLink adds the back link n -> q; when n is full, n keeps the best
// diverse subset of its links plus q (the same heuristic as insertion).
func (g *graph) addLink(s *space, n, q int32, level int, sc *scratch) {
	maxLinks := g.m
	if level == 0 {
		maxLinks = g.m0
	}
	mu := g.lock(n)
	defer mu.Unlock()
	r := g.row(n, level)
	cnt := int(r[0])
	if cnt < maxLinks {
		r[1+cnt] = q
		r[0]++
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
	r[0] = int32(len(kept))
	for i, it := range kept {
		r[1+i] = it.slot
	}
	sc.prune = cands
}

// selectNeighbours is HNSW's heuristic: walking candidates best first, keep
// one only if it is closer to the base than to every one already kept.
// That spreads links over directions, which keeps clustered data
// navigable. Leftover room is then filled with the best pruned candidates
// ("keepPrunedConnections"): without them a node whose back links all get
// pruned away becomes unreachable. cands is sorted best first and holds
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

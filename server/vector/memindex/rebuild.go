package memindex

import (
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
)

// inlineRebuildMax: spaces up to this many slots are rebuilt on the spot,
// under the exclusive lock (a few milliseconds); larger ones are rebuilt
// in the background while the current structure keeps serving.
const inlineRebuildMax = 512

// rebuildDue reports whether the space should change mode or shed its
// tombstones: an exact space reaching exactBelow gets a graph; a graph
// drops back to exact below half of it (half, so sizes near the threshold
// do not flap) and is rebuilt once dead nodes exceed tombstoneFrac. meta
// is held (or mu exclusively).
func (s *space) rebuildDue() bool {
	live := int(s.live.Load())
	if s.graph == nil {
		return live > 0 && live >= s.cfg.exactBelow
	}
	if live == 0 || live < s.cfg.exactBelow/2 {
		return true
	}
	return s.dead >= minTombstones && float64(s.dead) > tombstoneFrac*float64(s.n.Load())
}

// maybeRebuild starts a rebuild when one is due; the caller holds no lock.
// An exact space reaching the threshold is promoted on the spot (cheap:
// nothing is linked then); small graphs are rebuilt on the spot too.
// A rebuild's private copy is left as its replay makes it: the space
// that adopts it checks what is due right after.
func (s *space) maybeRebuild() {
	if s.private {
		return
	}
	s.mu.RLock()
	s.meta.Lock()
	due := !s.rebuilding && s.rebuildDue()
	inline := s.graph == nil || int(s.n.Load()) <= inlineRebuildMax
	if due && !inline {
		s.rebuilding = true
		s.journal = nil
	}
	s.meta.Unlock()
	s.mu.RUnlock()
	switch {
	case !due:
	case inline:
		s.mu.Lock()
		switch {
		case s.rebuilding || !s.rebuildDue():
		case s.graph == nil:
			s.promote()
		default:
			s.adopt(s.rebuilt())
		}
		s.mu.Unlock()
	default:
		s.bg.Go(s.rebuildInBackground)
	}
}

// promote switches an exact space to graph mode without building
// anything: its dense slots become the unlinked tail of an empty graph,
// which the linker links on its budget while searches keep scanning them
// exactly, as they did. A write burst crossing the threshold thus costs
// no CPU spike and no snapshot. mu held exclusively.
func (s *space) promote() {
	g := newGraph(s.cfg, s.capacity())
	n := s.n.Load()
	for i := range n {
		*g.levels.at(i) = g.randomLevel(s.rng)
	}
	s.graph = g
	s.linked.Store(0)
	s.dead = 0
	s.meta.Lock()
	s.startLinker()
	s.meta.Unlock()
}

// rebuildInBackground rebuilds from a snapshot without blocking readers or
// writers: writes made meanwhile are journaled and replayed onto the copy,
// first without locks while many arrive, then under the exclusive lock
// for the last few, which is the only time the space is blocked.
// Replaying only appends (tombstoning what it replaces), so it outpaces
// writers; the replayed slots become the adopted space's unlinked tail,
// as they were in the old one, and the linker takes them from there.
func (s *space) rebuildInBackground() {
	s.mu.RLock()
	s.meta.Lock()
	ns := s.snapshot()
	s.meta.Unlock()
	s.mu.RUnlock()
	ns.index()
	// Catch up without locks; bounded, as writers could outpace replay.
	for range 8 {
		s.meta.Lock()
		ops := s.journal
		s.journal = nil
		s.meta.Unlock()
		ns.replay(ops)
		s.stats.replayed.Add(int64(len(ops)))
		if len(ops) < 16 {
			break
		}
	}
	s.mu.Lock()
	ns.replay(s.journal)
	s.stats.replayed.Add(int64(len(s.journal)))
	s.stats.rebuilds.Add(1)
	s.adopt(ns)
	s.meta.Lock()
	s.journal, s.rebuilding = nil, false
	s.startLinker()
	s.meta.Unlock()
	s.mu.Unlock()
	s.maybeRebuild() // the replayed writes may call for the next one
}

// rebuilt returns a rebuilt copy of s; mu held exclusively.
func (s *space) rebuilt() *space {
	ns := s.snapshot()
	ns.index()
	return ns
}

// snapshot copies the live vectors, densely, into a private space in
// exact mode; mu is held (shared is enough: live slots never change in
// graph mode, and exact-mode writes need mu exclusively).
func (s *space) snapshot() *space {
	live := int(s.live.Load())
	ns := newSpace(s.cfg)
	ns.private = true
	ns.dim = s.dim
	ns.vecs = rows[float32]{width: s.dim}
	ns.codes = rows[int8]{width: s.dim}
	ns.byID = make(map[string]int32, live)
	ns.resize(max(live*5/4, 64))
	n := s.n.Load()
	for i := range n {
		if s.state(i) == stateLive {
			ns.add(s.id(i), s.vec(i))
		}
	}
	return ns
}

// index gives a private space the structure its size calls for.
func (ns *space) index() {
	if live := int(ns.live.Load()); live > 0 && live >= ns.cfg.exactBelow/2 {
		ns.buildGraph()
	}
}

// replay applies journaled writes to a private space. Writes to
// different ids commute, so ops are split by id over GOMAXPROCS workers,
// each keeping its ids' order: a long journal (say, a startup load that
// ran while the first graph was built) then replays on every core.
func (ns *space) replay(ops []op) {
	workers := runtime.GOMAXPROCS(0)
	// A change of dimension (the workspace emptied, then refilled) orders
	// writes across ids; so does anything under the parallel threshold.
	redim := slices.ContainsFunc(ops, func(o op) bool { return o.vec != nil && len(o.vec) != ns.dim })
	if len(ops) < 64 || workers == 1 || redim {
		ns.apply(ops)
		return
	}
	parts := make([][]op, workers)
	seed := maphash.MakeSeed()
	for _, o := range ops {
		w := maphash.String(seed, o.id) % uint64(workers)
		parts[w] = append(parts[w], o)
	}
	var wg sync.WaitGroup
	for _, part := range parts {
		wg.Go(func() { ns.apply(part) })
	}
	wg.Wait()
}

func (ns *space) apply(ops []op) {
	for _, o := range ops {
		if o.vec == nil {
			ns.delete(o.id)
		} else {
			// Dimension errors cannot happen: s accepted these writes.
			_ = ns.upsert(o.id, o.vec)
		}
	}
}

// adopt takes over a rebuilt copy's contents; mu held exclusively.
func (s *space) adopt(ns *space) {
	s.byID, s.ids, s.vecs, s.states = ns.byID, ns.ids, ns.vecs, ns.states
	s.codes, s.scales = ns.codes, ns.scales
	s.dim, s.dead, s.graph = ns.dim, ns.dead, ns.graph
	s.n.Store(ns.n.Load())
	s.linked.Store(ns.linked.Load())
	s.live.Store(ns.live.Load())
}

// buildGraph indexes every slot in a new graph, in parallel; mu held
// exclusively (or the space is private).
func (s *space) buildGraph() {
	g := newGraph(s.cfg, s.capacity())
	n := s.n.Load()
	for i := range n {
		*g.levels.at(i) = g.randomLevel(s.rng)
	}
	s.graph = g
	g.insertAll(s, 0, n, runtime.GOMAXPROCS(0))
	g.repair(s, n)
	s.linked.Store(n)
}

package memindex

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	memoryd "github.com/memoryd/memoryd/server"
)

// Slot states. A slot is reserved (stateFree), then published (stateLive)
// once its vector is written; stateDead marks a deleted or replaced vector.
// Graph slots are never reused until a rebuild, so a dead node keeps
// serving as a waypoint for searches.
const (
	stateFree uint32 = iota
	stateLive
	stateDead
)

// space is one workspace's vectors and, from exactBelow vectors on, its
// HNSW graph.
//
// Locking: mu is the structure lock. Writers hold it exclusively to grow
// the arrays, switch modes, rebuild, and for every write in exact mode
// (small sets, where that is cheap). In graph mode upserts and deletes hold
// it shared, take meta for the id map and counters only, and link graph
// nodes under striped per-node locks, so several inserts proceed in
// parallel with searches.
type space struct {
	cfg *config
	mu  sync.RWMutex

	meta   sync.Mutex // byID, ids[], dead, rng (graph mode, with mu shared)
	byID   map[string]int32
	ids    []string // slot -> id
	dead   int      // dead slots (graph mode)
	rng    *rand.Rand
	n      atomic.Int32 // slots in use
	live   atomic.Int64 // live vectors (Len)
	dim    int
	vecs   []float32 // cap*dim, one contiguous block
	states []uint32  // accessed atomically

	graph *graph // nil in exact mode
}

func newSpace(cfg *config) *space {
	return &space{cfg: cfg, byID: map[string]int32{}, rng: rand.New(rand.NewPCG(1, 2))}
}

func (s *space) capacity() int { return len(s.states) }

func (s *space) vec(slot int32) []float32 {
	off := int(slot) * s.dim
	return s.vecs[off : off+s.dim : off+s.dim]
}

func (s *space) state(slot int32) uint32 { return atomic.LoadUint32(&s.states[slot]) }

func (s *space) dimError(got int) error {
	return memoryd.Errorf(memoryd.EINVALID, "vector has %d dimensions, this workspace's vectors have %d", got, s.dim)
}

// upsert stores v (already normalised) under id.
func (s *space) upsert(id string, v []float32) error {
	s.mu.RLock()
	if s.graph != nil {
		done, err := s.upsertShared(id, v)
		s.mu.RUnlock()
		if done || err != nil {
			if done {
				s.maybeCompact()
			}
			return err
		}
	} else {
		s.mu.RUnlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upsertExclusive(id, v)
}

// upsertShared is the graph-mode fast path under mu held shared. It
// reports done=false, without changing anything, when the arrays are full.
func (s *space) upsertShared(id string, v []float32) (bool, error) {
	s.meta.Lock()
	if len(v) != s.dim {
		s.meta.Unlock()
		return true, s.dimError(len(v))
	}
	old, exists := s.byID[id]
	if exists && s.state(old) == stateLive && equalVec(s.vec(old), v) {
		s.meta.Unlock()
		return true, nil
	}
	if int(s.n.Load()) == s.capacity() {
		s.meta.Unlock()
		return false, nil
	}
	slot := s.reserve(id)
	if exists {
		s.kill(old)
	}
	s.graph.levels[slot] = s.graph.randomLevel(s.rng)
	s.meta.Unlock()

	s.fill(slot, v)
	s.graph.insert(s, slot)
	return true, nil
}

// upsertExclusive handles exact mode, a workspace's first vector and full
// arrays, with mu held exclusively.
func (s *space) upsertExclusive(id string, v []float32) error {
	if s.live.Load() == 0 && len(v) != s.dim {
		s.reset(len(v))
	}
	if len(v) != s.dim {
		return s.dimError(len(v))
	}
	if s.graph != nil {
		// Full arrays in graph mode: grow, then insert as upsertShared does.
		s.grow(1)
		done, err := s.upsertShared(id, v)
		if !done {
			panic("memindex: no room after grow")
		}
		return err
	}
	if slot, ok := s.byID[id]; ok {
		copy(s.vec(slot), v)
		return nil
	}
	s.grow(1)
	slot := s.reserve(id)
	s.fill(slot, v)
	if int(s.live.Load()) >= s.cfg.exactBelow {
		s.buildGraph()
	}
	return nil
}

// reserve takes the next slot for id; the caller holds meta or mu.
func (s *space) reserve(id string) int32 {
	slot := s.n.Load()
	s.n.Store(slot + 1)
	s.byID[id] = slot
	s.ids[slot] = id
	s.live.Add(1)
	return slot
}

// fill writes a reserved slot's vector and publishes it. A concurrent
// delete may have killed the slot already; it then stays dead.
func (s *space) fill(slot int32, v []float32) {
	copy(s.vec(slot), v)
	atomic.CompareAndSwapUint32(&s.states[slot], stateFree, stateLive)
}

// kill marks slot dead; the caller holds meta or mu.
func (s *space) kill(slot int32) {
	atomic.StoreUint32(&s.states[slot], stateDead)
	s.dead++
	s.live.Add(-1)
}

// grow makes room for extra more slots; mu held exclusively.
func (s *space) grow(extra int) {
	need := int(s.n.Load()) + extra
	if need <= s.capacity() {
		return
	}
	c := max(need, s.capacity()*3/2, 64)
	vecs := make([]float32, c*s.dim)
	copy(vecs, s.vecs)
	s.vecs = vecs
	states := make([]uint32, c)
	copy(states, s.states)
	s.states = states
	ids := make([]string, c)
	copy(ids, s.ids)
	s.ids = ids
	if s.graph != nil {
		s.graph.grow(c)
	}
}

// reset empties the space and fixes its dimension; mu held exclusively.
func (s *space) reset(dim int) {
	s.dim = dim
	s.byID = map[string]int32{}
	s.ids, s.vecs, s.states = nil, nil, nil
	s.n.Store(0)
	s.live.Store(0)
	s.dead = 0
	s.graph = nil
}

// delete removes id; it reports whether id was present.
func (s *space) delete(id string) bool {
	s.mu.RLock()
	if s.graph != nil {
		s.meta.Lock()
		slot, ok := s.byID[id]
		if ok {
			delete(s.byID, id)
			s.kill(slot)
		}
		s.meta.Unlock()
		s.mu.RUnlock()
		if ok {
			s.maybeCompact()
		}
		return ok
	}
	s.mu.RUnlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	slot, ok := s.byID[id]
	if !ok {
		return false
	}
	delete(s.byID, id)
	if s.graph != nil { // became a graph in between
		s.kill(slot)
		return true
	}
	s.swapRemove(slot)
	return true
}

// swapRemove keeps exact-mode storage dense by moving the last slot into
// the freed one; mu held exclusively.
func (s *space) swapRemove(slot int32) {
	last := s.n.Load() - 1
	if slot != last {
		copy(s.vec(slot), s.vec(last))
		s.ids[slot] = s.ids[last]
		s.byID[s.ids[slot]] = slot
	}
	s.ids[last] = ""
	s.states[last] = stateFree
	s.n.Store(last)
	s.live.Add(-1)
}

// maybeCompact rebuilds the graph once dead nodes exceed tombstoneFrac of
// it, and drops back to exact mode when the workspace has shrunk well
// below exactBelow (half, so sizes near the threshold do not flap).
func (s *space) maybeCompact() {
	s.mu.RLock()
	s.meta.Lock()
	due := s.compactionDue()
	s.meta.Unlock()
	s.mu.RUnlock()
	if !due {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.graph != nil && s.compactionDue() {
		s.compact()
	}
}

// compactionDue needs mu exclusively, or mu shared and meta.
func (s *space) compactionDue() bool {
	live := int(s.live.Load())
	if live == 0 || live < s.cfg.exactBelow/2 {
		return true
	}
	return s.dead >= minTombstones && float64(s.dead) > tombstoneFrac*float64(s.n.Load())
}

// compact moves the live vectors into fresh dense arrays and rebuilds the
// graph over them (or leaves exact mode on); mu held exclusively.
func (s *space) compact() {
	n := s.n.Load()
	live := int(s.live.Load())
	c := max(live*5/4, 64)
	vecs := make([]float32, c*s.dim)
	states := make([]uint32, c)
	ids := make([]string, c)
	byID := make(map[string]int32, live)
	j := int32(0)
	for i := range n {
		if s.states[i] != stateLive {
			continue
		}
		copy(vecs[int(j)*s.dim:], s.vec(i))
		states[j] = stateLive
		ids[j] = s.ids[i]
		byID[ids[j]] = j
		j++
	}
	s.vecs, s.states, s.ids, s.byID = vecs, states, ids, byID
	s.n.Store(j)
	s.dead = 0
	s.graph = nil
	if live > 0 && live >= s.cfg.exactBelow/2 {
		s.buildGraph()
	}
}

// buildGraph indexes every slot in a new graph, in parallel; mu held
// exclusively.
func (s *space) buildGraph() {
	g := newGraph(s.cfg, s.capacity())
	n := s.n.Load()
	for i := range n {
		g.levels[i] = g.randomLevel(s.rng)
	}
	s.graph = g
	g.insertAll(s, 0, n)
}

package memindex

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Slot states. A slot is free (stateFree) until it holds a vector
// (stateLive); stateDead marks a deleted or replaced vector.
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
// In graph mode slots [0, linked) are linked into the graph and slots
// [linked, n) are the tail: stored, searchable by an exact scan, but not
// yet linked. Upserts only append to the tail; the space's linker
// goroutine (link.go) moves linked forward in slot order.
//
// Locking: mu is the structure lock. Writers hold it exclusively to grow
// the arrays, switch modes, adopt a rebuild, and for every write in exact
// mode (small sets, where that is cheap). In graph mode upserts and
// deletes hold it shared and take meta for the id map and counters only;
// the linker holds it shared for one insert (or one small parallel
// chunk) at a time and links nodes under striped per-node locks, so
// searches run alongside.
type space struct {
	cfg *config
	mu  sync.RWMutex

	meta       sync.Mutex // byID, ids[], dead, rng, journal, rebuilding, linking
	byID       map[string]int32
	ids        rows[string] // slot -> id
	dead       int          // dead slots (graph mode)
	rng        *rand.Rand
	journal    []op // writes since a background rebuild's snapshot
	rebuilding bool // a background rebuild is running
	linking    bool // the linker goroutine is running
	private    bool // a rebuild's scratch copy: rebuilds inline, no journal, no linker

	// n counts slots in use; it is stored only once the new slot's vector
	// and state are written, so a reader loading n may read every slot
	// below it. linked is written by the linker (or under mu exclusively)
	// once the slots below it are fully linked.
	n      atomic.Int32
	linked atomic.Int32
	// lastWrite and lastSearch are when the space last took a write or a
	// search (unix nanoseconds): the linker holds back while either keeps
	// coming.
	lastWrite  atomic.Int64
	lastSearch atomic.Int64
	live       atomic.Int64 // live vectors (Len)
	dim        int
	vecs       rows[float32] // cap rows of dim
	codes      rows[int8]    // the vectors' int8 codes, for scans (quantize.go)
	scales     rows[float32] // each code's scale
	states     rows[uint32]  // accessed atomically

	graph *graph // nil in exact mode

	bg    sync.WaitGroup // background rebuilds, for tests
	stats struct{ rebuilds, replayed atomic.Int64 }
}

// op is one write, replayed onto a rebuilt copy; vec nil means delete.
type op struct {
	id  string
	vec []float32
}

func newSpace(cfg *config) *space {
	return &space{cfg: cfg, byID: map[string]int32{}, rng: rand.New(rand.NewPCG(1, 2))}
}

func (s *space) capacity() int { return s.states.len() }

func (s *space) id(slot int32) string { return *s.ids.at(slot) }

func (s *space) vec(slot int32) []float32 {
	return s.vecs.row(slot)
}

func (s *space) state(slot int32) uint32 { return atomic.LoadUint32(s.states.at(slot)) }

func (s *space) dimError(got int) error {
	return memoryd.Errorf(memoryd.EINVALID, "vector has %d dimensions, this workspace's vectors have %d", got, s.dim)
}

// record journals a write while a background rebuild runs; meta is held
// (or mu exclusively).
func (s *space) record(id string, v []float32) {
	if s.rebuilding {
		s.journal = append(s.journal, op{id, v})
	}
}

// upsert stores v (already normalised, owned by the index) under id.
func (s *space) upsert(id string, v []float32) error {
	s.lastWrite.Store(time.Now().UnixNano())
	if err := s.write(id, v); err != nil {
		return err
	}
	s.maybeRebuild()
	return nil
}

func (s *space) write(id string, v []float32) error {
	s.mu.RLock()
	if s.graph != nil {
		done, err := s.upsertShared(id, v)
		s.mu.RUnlock()
		if done || err != nil {
			return err
		}
	} else {
		s.mu.RUnlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upsertExclusive(id, v)
}

// upsertShared is the graph-mode fast path, with mu held (shared is
// enough). It reports done=false, without changing anything, when the
// arrays are full or an empty space gets a new dimension.
func (s *space) upsertShared(id string, v []float32) (bool, error) {
	s.meta.Lock()
	if len(v) != s.dim {
		s.meta.Unlock()
		if s.live.Load() == 0 { // an empty space takes any dimension
			return false, nil
		}
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
	// The level is drawn now, under meta (rng is not safe for concurrent
	// use), and published with the slot; the linker reads it later.
	*s.graph.levels.at(s.n.Load()) = s.graph.randomLevel(s.rng)
	s.add(id, v)
	if exists {
		s.kill(old)
	}
	s.record(id, v)
	s.startLinker()
	s.meta.Unlock()
	return true, nil
}

// upsertExclusive handles exact mode, a workspace's first vector (or
// first of a new dimension) and full arrays, with mu held exclusively.
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
		_, err := s.upsertShared(id, v)
		return err
	}
	s.meta.Lock()
	defer s.meta.Unlock()
	s.record(id, v)
	if slot, ok := s.byID[id]; ok {
		s.setVec(slot, v)
		return nil
	}
	s.grow(1)
	s.add(id, v)
	return nil
}

// add appends v as id's vector in the next slot, which has room; the
// caller holds meta or mu exclusively. The slot is published (n) last,
// after its vector and state, so lock-free readers of n (the linker, the
// tail scan) never see a half-written slot.
func (s *space) add(id string, v []float32) {
	slot := s.n.Load()
	*s.ids.at(slot) = id
	s.setVec(slot, v)
	atomic.StoreUint32(s.states.at(slot), stateLive)
	s.byID[id] = slot
	s.live.Add(1)
	s.n.Store(slot + 1)
}

// setVec writes v and its code into slot, which no reader may see yet
// (or mu is held exclusively).
func (s *space) setVec(slot int32, v []float32) {
	copy(s.vec(slot), v)
	*s.scales.at(slot) = quantize(v, s.codes.row(slot))
}

// kill marks slot dead; the caller holds meta or mu.
func (s *space) kill(slot int32) {
	atomic.StoreUint32(s.states.at(slot), stateDead)
	s.dead++
	s.live.Add(-1)
}

// grow makes room for extra more slots; mu held exclusively.
func (s *space) grow(extra int) {
	need := int(s.n.Load()) + extra
	if need <= s.capacity() {
		return
	}
	s.resize(max(need, s.capacity()*3/2, 64))
}

func (s *space) resize(c int) {
	s.vecs.grow(c)
	s.codes.grow(c)
	s.scales.grow(c)
	s.states.grow(c)
	s.ids.grow(c)
	if s.graph != nil {
		s.graph.grow(c)
	}
}

// reset empties the space and fixes its dimension; mu held exclusively.
func (s *space) reset(dim int) {
	s.dim = dim
	s.byID = map[string]int32{}
	s.ids, s.vecs, s.states = rows[string]{}, rows[float32]{width: dim}, rows[uint32]{}
	s.codes, s.scales = rows[int8]{width: dim}, rows[float32]{}
	s.n.Store(0)
	s.linked.Store(0)
	s.live.Store(0)
	s.dead = 0
	s.graph = nil
}

// delete removes id; it reports whether id was present.
func (s *space) delete(id string) bool {
	ok := s.remove(id)
	if ok {
		s.maybeRebuild()
	}
	return ok
}

func (s *space) remove(id string) bool {
	s.mu.RLock()
	if s.graph != nil {
		ok := s.removeShared(id)
		s.mu.RUnlock()
		return ok
	}
	s.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.graph != nil { // became a graph in between
		return s.removeShared(id)
	}
	s.meta.Lock()
	defer s.meta.Unlock()
	slot, ok := s.byID[id]
	if ok {
		s.record(id, nil)
		delete(s.byID, id)
		s.swapRemove(slot)
	}
	return ok
}

// removeShared tombstones id's graph node; mu held (shared is enough).
func (s *space) removeShared(id string) bool {
	s.meta.Lock()
	defer s.meta.Unlock()
	slot, ok := s.byID[id]
	if ok {
		s.record(id, nil)
		delete(s.byID, id)
		s.kill(slot)
	}
	return ok
}

// swapRemove keeps exact-mode storage dense by moving the last slot into
// the freed one; mu held exclusively.
func (s *space) swapRemove(slot int32) {
	last := s.n.Load() - 1
	if slot != last {
		s.setVec(slot, s.vec(last))
		*s.ids.at(slot) = s.id(last)
		s.byID[s.id(slot)] = slot
	}
	*s.ids.at(last) = ""
	*s.states.at(last) = stateFree
	s.n.Store(last)
	s.live.Add(-1)
}

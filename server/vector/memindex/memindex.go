// Package memindex is the in-process vector index (memoryd.VectorIndex).
//
// Per workspace, vectors are held normalised in flat []float32 chunks of
// 1024 (rows.go) and scores are cosine similarities (dot products of unit
// vectors, AVX2 on amd64). Each vector also has an 8-bit code that graph
// walks and scans rank by, re-ranking their best few exactly
// (quantize.go). A search's breadth is per index (WithHNSW; unfiltered
// searches in workspaces under 100,000 vectors explore proportionally
// fewer candidates, sizedEf) or per query (SearchEf), ExactEf for an
// exact scan; an unfiltered graph search may
// stop before its breadth once its best results have settled (earlyStop). Workspaces under WithExactBelow vectors
// (default 2000) are scanned exactly; larger ones keep an HNSW graph
// (int32 links, level 0 in flat chunks too). Filters are applied inside the search, not by
// over-fetching: the graph search expands rejected nodes but only ranks
// accepted ones, and a filter that a sample shows to keep under ~1.5% of
// the workspace gets an exact scan of the accepted vectors instead.
//
// Linking a vector into the graph costs 0.5-2 ms of CPU, so it is kept
// off the write path: an upsert only appends the vector to the
// workspace's slots (microseconds), and a per-workspace linker goroutine,
// started on demand and gone once it has caught up, links the unlinked
// tail in slot order under a CPU budget (WithLinking). Searches combine
// the graph search over linked slots with an exact scan of the tail, so
// every stored vector is found from the moment Upsert returns.
//
// Deletes and replacements leave tombstones (graph nodes still used for
// navigation, never returned; tail slots the linker then skips); past
// 30% tombstones, or on dropping below half the threshold, the workspace
// is rebuilt. Small ones are rebuilt on the spot; large ones from a
// snapshot in the background while the old structure keeps serving, with
// writes made meanwhile journaled and replayed before the switch. Growing
// past the threshold needs no rebuild: the exact-mode vectors become the
// tail of an empty graph.
//
// All methods are safe for concurrent use; linking runs in parallel with
// writes and searches.
package memindex

import (
	"sync"

	memoryd "github.com/memoryd/memoryd/server"
)

// Index holds one space per workspace.
type Index struct {
	cfg    *config
	mu     sync.RWMutex
	spaces map[string]*space
}

var _ memoryd.VectorIndex = (*Index)(nil)

// New returns an empty index.
func New(opts ...Option) *Index {
	return &Index{cfg: newConfig(opts), spaces: map[string]*space{}}
}

// space returns workspace's space, creating it when create is set (nil
// otherwise when absent).
func (x *Index) space(workspace string, create bool) *space {
	x.mu.RLock()
	s := x.spaces[workspace]
	x.mu.RUnlock()
	if s != nil || !create {
		return s
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if s = x.spaces[workspace]; s == nil {
		s = newSpace(x.cfg)
		x.spaces[workspace] = s
	}
	return s
}

// Upsert stores a normalised copy of vec under id, replacing any previous
// vector of id. All vectors of a workspace share one dimension (fixed by
// the first one, free again once the workspace is empty).
func (x *Index) Upsert(workspace, id string, vec []float32) error {
	v, err := normalized(vec, "vector")
	if err != nil {
		return err
	}
	return x.space(workspace, true).upsert(id, v)
}

// Delete removes id's vector; memoryd.ErrNotFound when there is none.
func (x *Index) Delete(workspace, id string) error {
	s := x.space(workspace, false)
	if s == nil || !s.delete(id) {
		return memoryd.ErrNotFound
	}
	return nil
}

// Search returns up to k ids of workspace most similar to query, best
// first. allow, when non-nil, restricts the candidates: it is applied
// while searching, so k allowed hits come back whenever k exist.
func (x *Index) Search(workspace string, query []float32, k int, allow func(id string) bool) ([]memoryd.Scored, error) {
	return x.SearchEf(workspace, query, k, 0, allow)
}

// SearchEf is Search with this query's accuracy: ef > 0 is the number of
// candidates the graph search explores (more finds more of the true
// nearest neighbours, for more time), 0 the index's default (WithHNSW),
// and ExactEf an exact scan of every vector.
func (x *Index) SearchEf(workspace string, query []float32, k, ef int, allow func(id string) bool) ([]memoryd.Scored, error) {
	if ef < 0 && ef != ExactEf {
		return nil, memoryd.Errorf(memoryd.EINVALID, "search breadth %d is negative", ef)
	}
	q, err := normalized(query, "query vector")
	if err != nil {
		return nil, err
	}
	s := x.space(workspace, false)
	if s == nil || k <= 0 {
		return []memoryd.Scored{}, nil
	}
	return s.search(q, k, ef, allow)
}

// SearchIDs ranks only the given ids (unknown ones are ignored) exactly;
// callers use it when a filter leaves few candidates.
func (x *Index) SearchIDs(workspace string, query []float32, k int, ids []string) ([]memoryd.Scored, error) {
	q, err := normalized(query, "query vector")
	if err != nil {
		return nil, err
	}
	s := x.space(workspace, false)
	if s == nil || k <= 0 || len(ids) == 0 {
		return []memoryd.Scored{}, nil
	}
	return s.searchIDs(q, k, ids)
}

// Len returns the number of vectors in workspace.
func (x *Index) Len(workspace string) int {
	if s := x.space(workspace, false); s != nil {
		return int(s.live.Load())
	}
	return 0
}

// Unlinked returns how many vectors of all workspaces wait for the linker
// (searches scan those exactly, so they cost more until it catches up),
// and how many the index holds: the linker's progress, e.g. after start.
func (x *Index) Unlinked() (unlinked, total int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, s := range x.spaces {
		tail, _ := s.tailState()
		unlinked += tail
		total += int(s.live.Load())
	}
	return unlinked, total
}

// wait blocks until background rebuilds and linking have finished, with
// linkers running flat out meanwhile (for tests and benchmarks).
func (x *Index) wait() {
	x.cfg.hurry.Add(1)
	defer x.cfg.hurry.Add(-1)
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, s := range x.spaces {
		s.bg.Wait()
	}
}

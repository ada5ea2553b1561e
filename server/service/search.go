package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
)

// Search modes.
const (
	ModeSemantic = "semantic"
	ModeKeyword  = "keyword"
	ModeHybrid   = "hybrid"
)

// SearchQuery is a search request.
type SearchQuery struct {
	Query     string
	Embedding []float32 // semantic search by vector instead of Query
	Mode      string
	Limit     int
	Threshold float32
	// Alpha weighs a hybrid search: 0 keyword only, 1 semantic only, nil
	// DefaultAlpha. Other modes refuse it.
	Alpha  *float32
	Filter memoryd.Filter
	// FilterJSON is the filters object as the client sent it, echoed in the
	// search.performed event.
	FilterJSON map[string]any
}

// Hit is one search result.
type Hit struct {
	Memory *memoryd.Memory
	Score  float32
}

// SearchResult is the ranked hits, best first.
type SearchResult struct {
	Hits    []Hit
	Elapsed time.Duration
}

// exactBelow is the filter match count under which a semantic search scans
// the matching rows exactly instead of walking the approximate index.
const exactBelow = 5000

// idSearcher is implemented by indexes that can rank an explicit id list.
type idSearcher interface {
	SearchIDs(workspace string, query []float32, k int, ids []string) ([]memoryd.Scored, error)
}

// Search ranks the workspace's memories and records a search.performed event.
func (s *Service) Search(ctx context.Context, a Actor, q SearchQuery) (*SearchResult, error) {
	if err := s.checkSearch(q); err != nil {
		return nil, err
	}
	start := time.Now()
	scored, err := s.rank(ctx, a, q)
	if err != nil {
		return nil, err
	}
	hits, err := s.load(ctx, a.Workspace, scored, q.Threshold, q.Mode)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Hits: hits, Elapsed: time.Since(start)}
	s.recordSearch(ctx, a, q, res)
	return res, nil
}

func (s *Service) rank(ctx context.Context, a Actor, q SearchQuery) ([]memoryd.Scored, error) {
	switch q.Mode {
	case ModeKeyword:
		return s.store.KeywordSearch(ctx, a.Workspace, q.Query, q.Filter, q.Limit)
	case ModeHybrid:
		return s.hybrid(ctx, a, q)
	default:
		return s.semantic(ctx, a, q)
	}
}

func (s *Service) queryVector(ctx context.Context, q SearchQuery) ([]float32, error) {
	if q.Embedding != nil {
		return q.Embedding, nil // checked by checkSearch
	}
	e, err := s.embedText(ctx, q.Query)
	return e.Vector, err
}

// semantic applies the filter before ranking, never an over-fetch that is
// then trimmed: an index that holds the filter attributes applies it
// itself (FilterSearcher); otherwise the matching ids restrict the
// candidates.
func (s *Service) semantic(ctx context.Context, a Actor, q SearchQuery) ([]memoryd.Scored, error) {
	vec, err := s.queryVector(ctx, q)
	if err != nil {
		return nil, err
	}
	if fs, ok := s.index.(memoryd.FilterSearcher); ok {
		return fs.SearchFilter(a.Workspace, vec, q.Limit, q.Filter)
	}
	if isEmpty(q.Filter) {
		return s.index.Search(a.Workspace, vec, q.Limit, nil)
	}
	ids, err := s.store.MatchIDs(ctx, a.Workspace, q.Filter)
	if err != nil {
		return nil, err
	}
	if ids2, ok := s.index.(idSearcher); ok && len(ids) < exactBelow {
		return ids2.SearchIDs(a.Workspace, vec, q.Limit, ids)
	}
	allowed := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		allowed[id] = struct{}{}
	}
	return s.index.Search(a.Workspace, vec, q.Limit, func(id string) bool { _, ok := allowed[id]; return ok })
}

// hybrid fuses the semantic and keyword rankings (see fuse), weighting
// the semantic one by alpha; alpha 0 is a keyword search and 1 a semantic
// one, so the other part is not run.
func (s *Service) hybrid(ctx context.Context, a Actor, q SearchQuery) ([]memoryd.Scored, error) {
	alpha := q.alpha()
	switch alpha {
	case 0:
		return s.store.KeywordSearch(ctx, a.Workspace, q.Query, q.Filter, q.Limit)
	case 1:
		return s.semantic(ctx, a, q)
	}
	wide := q
	wide.Limit = max(q.Limit*4, 50)
	sem, err := s.semantic(ctx, a, wide)
	if err != nil {
		return nil, err
	}
	kw, err := s.store.KeywordSearch(ctx, a.Workspace, q.Query, q.Filter, wide.Limit)
	if err != nil {
		return nil, err
	}
	texts, err := s.texts(ctx, a.Workspace, kw)
	if err != nil {
		return nil, err
	}
	return fuse(sem, kw, texts, q.Query, alpha, q.Limit), nil
}

// texts reads the texts of the hits, which fuse compares with the query.
func (s *Service) texts(ctx context.Context, ws string, hits []memoryd.Scored) (map[string]string, error) {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	mems, err := s.store.GetMemoriesMeta(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(mems))
	for id, m := range mems {
		out[id] = m.Text
	}
	return out, nil
}

// alpha is the request's semantic weight, or DefaultAlpha.
func (q SearchQuery) alpha() float32 {
	if q.Alpha == nil {
		return DefaultAlpha
	}
	return *q.Alpha
}

func isEmpty(f memoryd.Filter) bool {
	return f.Type == "" && f.Source == "" && len(f.Tags) == 0 && len(f.Metadata) == 0 &&
		f.CreatedAfter == nil && f.CreatedBefore == nil
}

// load fetches the memories of the hits above the threshold, keeping order.
// Hits the index found but the store has not are memories deleted since
// (the index had not yet applied the deletion, or lost its event): their
// vectors are removed.
func (s *Service) load(ctx context.Context, ws string, scored []memoryd.Scored, threshold float32, mode string) ([]Hit, error) {
	ids := make([]string, 0, len(scored))
	for _, sc := range scored {
		if sc.Score >= threshold {
			ids = append(ids, sc.ID)
		}
	}
	mems, err := s.store.GetMemoriesMeta(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	hits := make([]Hit, 0, len(ids))
	var gone []string
	for _, sc := range scored {
		m, ok := mems[sc.ID]
		switch {
		case ok && sc.Score >= threshold:
			hits = append(hits, Hit{Memory: m, Score: sc.Score})
		case !ok && sc.Score >= threshold:
			gone = append(gone, sc.ID)
		}
	}
	if len(gone) > 0 && mode != ModeKeyword {
		s.dropOrphans(ctx, ws, gone)
	}
	return hits, nil
}

// recordSearch appends search.performed (through the search log when one
// runs), with the query cut to MaxEventQueryBytes.
func (s *Service) recordSearch(ctx context.Context, a Actor, q SearchQuery, res *SearchResult) {
	filters := q.FilterJSON
	if filters == nil {
		filters = map[string]any{}
	}
	mode := events.SearchPerformedMode(q.Mode)
	payload, err := json.Marshal(events.SearchPerformed{
		Query: eventQuery(q.Query), Mode: &mode, ResultsCount: len(res.Hits),
		ExecutionTime: float64(res.Elapsed.Microseconds()) / 1000, UserId: a.User,
		Timestamp: s.now().UTC(), Filters: filters,
	})
	if err != nil {
		s.log.ErrorContext(ctx, "recording search.performed", "err", err)
		return
	}
	ev := &memoryd.Event{Workspace: a.Workspace, Type: memoryd.EventSearchPerformed, Payload: payload, CreatedAt: s.now().UTC()}
	if !s.searchLog.Load().enqueue(ev) {
		s.appendSearch(ctx, ev)
	}
}

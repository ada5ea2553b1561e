package httpapi

import (
	"context"
	"net/url"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// CreateMemory stores a memory or, when its id exists, replaces it (upsert).
func (s *Server) CreateMemory(ctx context.Context, req api.CreateMemoryRequestObject) (api.CreateMemoryResponseObject, error) {
	b := req.Body
	res, err := s.svc.Put(ctx, actor(ctx), service.PutInput{
		ID: deref(b.Id, ""), Text: b.Text, Metadata: deref(b.Metadata, nil), Embedding: deref(b.Embedding, nil),
	})
	if err != nil {
		return nil, err
	}
	if !res.Created {
		return api.CreateMemory200JSONResponse(storeResult(res)), nil
	}
	return api.CreateMemory201JSONResponse{Body: storeResult(res),
		Headers: api.CreateMemory201ResponseHeaders{Location: nonEmpty(s.base + "/memory/" + url.PathEscape(res.Memory.ID))}}, nil
}

// GetMemory reads one memory.
func (s *Server) GetMemory(ctx context.Context, req api.GetMemoryRequestObject) (api.GetMemoryResponseObject, error) {
	m, err := s.svc.Get(ctx, actor(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetMemory200JSONResponse(toAPIMemory(m, deref(req.Params.IncludeEmbedding, true))), nil
}

// UpdateMemory changes the given fields of an existing memory.
func (s *Server) UpdateMemory(ctx context.Context, req api.UpdateMemoryRequestObject) (api.UpdateMemoryResponseObject, error) {
	b := req.Body
	res, err := s.svc.Update(ctx, actor(ctx), req.Id, service.UpdateInput{
		Text: b.Text, Metadata: deref(b.Metadata, nil), Embedding: deref(b.Embedding, nil),
	})
	if err != nil {
		return nil, err
	}
	m := res.Memory
	return api.UpdateMemory200JSONResponse{Id: m.ID, Status: api.UpdateResultStatusUpdated,
		EmbeddingRegenerated: res.EmbeddingRegenerated, VectorDimensions: len(m.Embedding),
		TokensUsed: tokensIf(res.EmbeddingRegenerated, m.Tokens), UpdatedAt: m.UpdatedAt}, nil
}

func tokensIf(ok bool, n int) int {
	if ok {
		return n
	}
	return 0
}

// DeleteMemory removes a memory.
func (s *Server) DeleteMemory(ctx context.Context, req api.DeleteMemoryRequestObject) (api.DeleteMemoryResponseObject, error) {
	if _, err := s.svc.Delete(ctx, actor(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteMemory200JSONResponse{Success: true, DeletedId: req.Id}, nil
}

// ListMemories returns one page, newest first.
func (s *Server) ListMemories(ctx context.Context, req api.ListMemoriesRequestObject) (api.ListMemoriesResponseObject, error) {
	p := req.Params
	page, err := s.svc.List(ctx, actor(ctx), memoryd.ListQuery{
		Filter: listFilter(p), Limit: deref(p.Limit, 20), Cursor: deref(p.Cursor, ""),
	})
	if err != nil {
		return nil, err
	}
	out := api.ListMemories200JSONResponse{Memories: make([]api.Memory, 0, len(page.Memories)),
		Total: page.Total, HasMore: page.NextCursor != "", NextCursor: nonEmpty(page.NextCursor)}
	for _, m := range page.Memories {
		out.Memories = append(out.Memories, toAPIMemory(m, deref(p.IncludeEmbedding, false)))
	}
	return out, nil
}

// SearchMemories ranks memories by meaning, keywords or both.
func (s *Server) SearchMemories(ctx context.Context, req api.SearchMemoriesRequestObject) (api.SearchMemoriesResponseObject, error) {
	q, err := searchQuery(req.Body)
	if err != nil {
		return nil, err
	}
	res, err := s.svc.Search(ctx, actor(ctx), q)
	if err != nil {
		return nil, err
	}
	out := api.SearchMemories200JSONResponse{Query: q.Query, Mode: api.SearchResponseMode(q.Mode),
		Results: make([]api.SearchResult, 0, len(res.Hits)), TotalResults: len(res.Hits),
		SearchTimeMs: float64(res.Elapsed.Microseconds()) / 1000}
	for _, h := range res.Hits {
		out.Results = append(out.Results, api.SearchResult{Memory: toAPIMemory(h.Memory, false), Score: h.Score})
	}
	return out, nil
}

// searchQuery checks what the schema cannot say: a query or an embedding,
// and text for the modes that need it.
func searchQuery(b *api.SearchRequest) (service.SearchQuery, error) {
	q := service.SearchQuery{Query: deref(b.Query, ""), Embedding: deref(b.Embedding, nil),
		Mode: string(deref(b.Mode, api.SearchRequestModeSemantic)), Limit: deref(b.Limit, 10),
		Threshold: deref(b.Threshold, 0), Alpha: b.Alpha}
	q.Filter, q.FilterJSON = searchFilter(b.Filters)
	if q.Query == "" && q.Embedding == nil {
		return q, &memoryd.Error{Code: memoryd.EINVALID, Message: "Query field is required (or an embedding)",
			Details: map[string]any{"missing_fields": []string{"query"}}}
	}
	if q.Query == "" && q.Mode != service.ModeSemantic {
		return q, &memoryd.Error{Code: memoryd.EINVALID, Message: "Query text is required for " + q.Mode + " search",
			Details: map[string]any{"missing_fields": []string{"query"}}}
	}
	if q.Query != "" && q.Embedding != nil {
		return q, &memoryd.Error{Code: memoryd.EINVALID, Message: "Give either query or embedding, not both",
			Details: map[string]any{"fields": map[string]any{"embedding": "not allowed together with query"}}}
	}
	return q, nil
}

package conformance

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

func getChecks() []Check {
	return []Check{
		{ID: "MEM-GET-001", Level: Must, Profile: Core, Ref: "getMemory 200",
			Title: "GET /memory/{id} returns the memory with its embedding by default", Run: checkGetDefault},
		{ID: "MEM-GET-002", Level: Must, Profile: Core, Ref: "getMemory 200",
			Title: "include_embedding=false leaves the embedding out", Run: checkGetWithoutEmbedding},
		{ID: "MEM-GET-003", Level: Must, Profile: Core, Ref: "getMemory 404",
			Title: "an unknown id is 404 NOT_FOUND", Run: checkGetUnknown},
		{ID: "MEM-GET-004", Level: Must, Profile: Core, Ref: "getMemory 400",
			Title: "an id outside the MemoryID pattern or too long is 400 INVALID_REQUEST", Run: checkGetBadID},
	}
}

func checkGetDefault(ctx context.Context, t *T) {
	md := map[string]any{"type": "note", "tags": []any{t.Name("get")}, "source": "conformance"}
	sr := t.Create(ctx, t.A, map[string]any{"text": "get me " + t.RunID, "metadata": md})
	m := t.Get(ctx, t.A, sr.ID, nil)
	if m.ID != sr.ID || m.Text != "get me "+t.RunID {
		t.Errorf("got id %q text %q", m.ID, m.Text)
	}
	if m.Metadata["type"] != "note" || m.Metadata["source"] != "conformance" {
		t.Errorf("metadata %v", m.Metadata)
	}
	if !m.HasEmbedding || len(m.Embedding) != m.VectorDimensions || m.VectorDimensions != sr.VectorDimensions {
		t.Errorf("embedding of %d values, vector_dimensions %d (store said %d)", len(m.Embedding), m.VectorDimensions, sr.VectorDimensions)
	}
	if m.EmbeddingModel != sr.EmbeddingModel {
		t.Errorf("embedding_model %q, store said %q", m.EmbeddingModel, sr.EmbeddingModel)
	}
	if !m.CreatedAt.Equal(sr.CreatedAt) {
		t.Errorf("created_at %s, store said %s", m.CreatedAt, sr.CreatedAt)
	}
}

func checkGetWithoutEmbedding(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": "no embedding please"})
	m := t.Get(ctx, t.A, sr.ID, url.Values{"include_embedding": {"false"}})
	if m.HasEmbedding {
		t.Fatalf("embedding present with include_embedding=false")
	}
}

func checkGetUnknown(ctx context.Context, t *T) {
	resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + t.Name("missing")})
	t.ExpectError(resp, http.StatusNotFound)
}

// badIDs violate the MemoryID schema (pattern, maxLength 128).
func badIDs() []string {
	return []string{"bad*id", "bad id", strings.Repeat("a", 129)}
}

func checkGetBadID(ctx context.Context, t *T) {
	for _, id := range badIDs() {
		resp := t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + url.PathEscape(id)})
		t.ExpectError(resp, http.StatusBadRequest)
	}
}

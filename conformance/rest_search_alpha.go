package conformance

import (
	"context"
	"net/http"
	"slices"
	"time"
)

func searchAlphaChecks() []Check {
	return []Check{
		{ID: "MEM-SEARCH-ALPHA-001", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: 2 * time.Minute,
			Title: "hybrid alpha 0 ranks as keyword search, alpha 1 as semantic search; in between, scores within 0..1", Run: checkSearchAlphaEnds},
		{ID: "MEM-SEARCH-ALPHA-002", Level: Must, Profile: Core, Ref: "searchMemories 400",
			Title: "alpha outside 0..1, not a number, or with a mode other than hybrid is 400", Run: checkSearchAlphaInvalid},
	}
}

func checkSearchAlphaEnds(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	search := func(query, mode string, alpha any) SearchResponse {
		body := map[string]any{"query": query, "mode": mode, "filters": f.tagged(nil)}
		if alpha != nil {
			body["alpha"] = alpha
		}
		return t.Search(ctx, t.A, body)
	}
	kw, h0 := search(f.Rare, "keyword", nil), search(f.Rare, "hybrid", 0)
	if !slices.Equal(kw.IDs(), h0.IDs()) {
		t.Errorf("alpha 0 ranked %v, keyword search %v", h0.IDs(), kw.IDs())
	}
	query := f.Docs[4].Text
	sem, h1 := search(query, "semantic", nil), search(query, "hybrid", 1)
	if !slices.Equal(sem.IDs(), h1.IDs()) {
		t.Errorf("alpha 1 ranked %v, semantic search %v", h1.IDs(), sem.IDs())
	}
	for _, alpha := range []float64{0.25, 0.75} {
		s := search(f.Rare, "hybrid", alpha)
		if len(s.Results) == 0 || (s.Results[0].Memory.ID != f.Docs[0].ID && s.Results[0].Memory.ID != f.Docs[3].ID) {
			t.Errorf("alpha %.2f, query %q: got %v, want a memory containing it first", alpha, f.Rare, s.IDs())
		}
		for _, r := range s.Results {
			if r.Score < 0 || r.Score > 1 {
				t.Errorf("alpha %.2f: score %.6f outside 0..1", alpha, r.Score)
			}
		}
	}
}

func checkSearchAlphaInvalid(ctx context.Context, t *T) {
	bodies := []map[string]any{
		{"query": "x", "mode": "hybrid", "alpha": -0.1},
		{"query": "x", "mode": "hybrid", "alpha": 1.5},
		{"query": "x", "mode": "hybrid", "alpha": "half"},
		{"query": "x", "alpha": 0.5},
		{"query": "x", "mode": "semantic", "alpha": 0.5},
		{"query": "x", "mode": "keyword", "alpha": 0.5},
	}
	for _, b := range bodies {
		resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/search", JSON: b})
		if resp.Status != http.StatusBadRequest {
			t.Errorf("search %v: want 400, got %s", b, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
}

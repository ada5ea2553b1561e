package conformance

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

func searchChecks() []Check {
	slow := 2 * time.Minute
	return append([]Check{
		{ID: "MEM-SEARCH-001", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "semantic search (the default mode) ranks a memory first for its own text", Run: checkSearchSemantic},
		{ID: "MEM-SEARCH-002", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "results are ordered by score, descending, in every mode; total_results matches", Run: checkSearchOrder},
		{ID: "MEM-SEARCH-003", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "keyword search finds the memories containing a rare word, and only those with a positive score", Run: checkSearchKeyword},
		{ID: "MEM-SEARCH-004", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "hybrid search ranks the memory matching both ways first; scores within 0..1", Run: checkSearchHybrid},
		{ID: "MEM-SEARCH-005", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "every result has score >= threshold", Run: checkSearchThreshold},
		{ID: "MEM-SEARCH-006", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "filters type, tags, source and metadata apply before ranking", Run: checkSearchFilters},
		{ID: "MEM-SEARCH-007", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "search by a query embedding finds the memory stored with that embedding first", Run: checkSearchByEmbedding},
		{ID: "MEM-SEARCH-008", Level: Must, Profile: Core, Ref: "searchMemories 200", Timeout: slow,
			Title: "limit caps the number of results", Run: checkSearchLimit},
		{ID: "MEM-SEARCH-009", Level: Must, Profile: Core, Ref: "searchMemories 400",
			Title: "no query nor embedding, a bad mode, limit or threshold, an unknown field or filter, a wrong-dimension embedding is 400", Run: checkSearchInvalid},
		{ID: "MEM-SEARCH-010", Level: Must, Profile: Core, Ref: "searchMemories 413",
			Title: "an oversized search body is 413 PAYLOAD_TOO_LARGE", Run: checkSearchTooLarge},
	}, searchAlphaChecks()...)
}

// searchDoc is one memory of the search fixture.
type searchDoc struct {
	ID, Text, Type, Source string
	Tags                   []string
}

type searchFixture struct {
	Tag   string // on every memory of the fixture
	Rare  string // a made-up word only in Docs[0] and Docs[3]
	Docs  []searchDoc
	VecID string // memory stored with a client embedding
	Vec   []float64
}

func (t *T) searchFixture(ctx context.Context) *searchFixture {
	v, err := t.suite.fixture("search", func() (any, error) {
		tag := t.Name("search")
		rare := "zq" + strings.TrimPrefix(t.RunID, "cf") + "xv"
		f := &searchFixture{Tag: tag, Rare: rare}
		texts := []struct{ text, typ, src string }{
			{"The quarterly planning meeting decided to hire two engineers " + rare, "meeting", "slack"},
			{"Recipe: bake sourdough bread at 250 degrees for forty minutes", "note", "email"},
			{"The cat sat on the warm windowsill watching birds in the garden", "note", "slack"},
			{"Invoice " + rare + " for the database migration consulting work", "finance", "email"},
			{"Hiking trail notes: the northern ridge is closed after the storm", "task", "slack"},
			{"Kubernetes cluster upgrade plan for the payments service", "task", "email"},
		}
		for i, d := range texts {
			doc := searchDoc{ID: t.Name(fmt.Sprintf("search-%d", i)), Text: d.text, Type: d.typ, Source: d.src, Tags: []string{tag}}
			if i%2 == 0 {
				doc.Tags = append(doc.Tags, tag+"-even")
			}
			if err := t.suite.createFixture(ctx, t.A, map[string]any{"id": doc.ID, "text": doc.Text,
				"metadata": map[string]any{"type": doc.Type, "source": doc.Source, "tags": doc.Tags, "rank": i}}); err != nil {
				return nil, err
			}
			f.Docs = append(f.Docs, doc)
		}
		f.VecID, f.Vec = t.Name("search-vec"), unitVector(t.Dims(ctx, t.A), 99)
		if err := t.suite.createFixture(ctx, t.A, map[string]any{"id": f.VecID, "text": "stored with a client vector",
			"embedding": f.Vec, "metadata": map[string]any{"tags": []string{tag}}}); err != nil {
			return nil, err
		}
		return f, nil
	})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return v.(*searchFixture)
}

// createFixture stores a memory that lives until the end of the run.
func (s *Suite) createFixture(ctx context.Context, c *Client, body map[string]any) error {
	resp, err := c.Do(ctx, Request{Method: "POST", Path: "/memory", JSON: body})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusCreated || resp.SpecErr != nil {
		return fmt.Errorf("creating a fixture: %s %v", resp, resp.SpecErr)
	}
	var sr StoreResult
	if err := resp.Decode(&sr); err != nil {
		return err
	}
	s.suiteCleanup(func(ctx context.Context) { deleteQuietly(ctx, c, sr.ID) })
	return nil
}

func (f *searchFixture) tagged(extra map[string]any) map[string]any {
	filters := map[string]any{"tags": []string{f.Tag}}
	for k, v := range extra {
		filters[k] = v
	}
	return filters
}

func checkSearchSemantic(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	for _, d := range f.Docs {
		s := t.Search(ctx, t.A, map[string]any{"query": d.Text, "filters": f.tagged(nil)})
		if s.Mode != "semantic" {
			t.Errorf("default mode reported as %q, want semantic", s.Mode)
		}
		if s.Query != d.Text {
			t.Errorf("query echoed as %q", s.Query)
		}
		if len(s.Results) == 0 || s.Results[0].Memory.ID != d.ID {
			t.Errorf("query %q: top results %v, want %s first", d.Text, s.IDs(), d.ID)
			continue
		}
		if s.Results[0].Score < 0.99 {
			t.Errorf("a memory's own text scores %.4f, want about 1 (cosine)", s.Results[0].Score)
		}
	}
}

func (t *T) checkRanked(s SearchResponse, what string) {
	for i := 1; i < len(s.Results); i++ {
		if s.Results[i].Score > s.Results[i-1].Score {
			t.Errorf("%s: result %d scores %.6f above result %d (%.6f)", what, i, s.Results[i].Score, i-1, s.Results[i-1].Score)
		}
	}
	if s.TotalResults != len(s.Results) {
		t.Errorf("%s: total_results %d for %d results", what, s.TotalResults, len(s.Results))
	}
	for _, r := range s.Results {
		// Every fixture memory was embedded when it was created.
		if r.Memory.VectorDimensions <= 0 {
			t.Errorf("%s: result %s has vector_dimensions %d, want the length of its embedding", what, r.Memory.ID, r.Memory.VectorDimensions)
		}
	}
	if s.SearchTimeMS < 0 || math.IsNaN(s.SearchTimeMS) {
		t.Errorf("%s: search_time_ms %v", what, s.SearchTimeMS)
	}
}

func checkSearchOrder(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		for _, q := range []string{"planning meeting engineers", "bread recipe", f.Rare + " database"} {
			s := t.Search(ctx, t.A, map[string]any{"query": q, "mode": mode, "threshold": -1, "filters": f.tagged(nil)})
			if s.Mode != mode {
				t.Errorf("mode echoed as %q, want %q", s.Mode, mode)
			}
			t.checkRanked(s, mode+" "+q)
		}
	}
}

func checkSearchKeyword(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	s := t.Search(ctx, t.A, map[string]any{"query": f.Rare, "mode": "keyword", "filters": f.tagged(nil)})
	var positive []string
	for _, r := range s.Results {
		if r.Score > 0 {
			positive = append(positive, r.Memory.ID)
		}
	}
	t.expectIDs("keyword "+f.Rare, positive, []string{f.Docs[0].ID, f.Docs[3].ID})
	s = t.Search(ctx, t.A, map[string]any{"query": "sourdough", "mode": "keyword", "filters": f.tagged(nil)})
	if len(s.Results) == 0 || s.Results[0].Memory.ID != f.Docs[1].ID {
		t.Errorf("keyword sourdough: got %v, want %s first", s.IDs(), f.Docs[1].ID)
	}
}

func checkSearchHybrid(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	d := f.Docs[3]
	s := t.Search(ctx, t.A, map[string]any{"query": d.Text, "mode": "hybrid", "filters": f.tagged(nil)})
	if len(s.Results) == 0 || s.Results[0].Memory.ID != d.ID {
		t.Errorf("hybrid: got %v, want %s first", s.IDs(), d.ID)
	}
	for _, r := range s.Results {
		if r.Score < 0 || r.Score > 1 {
			t.Errorf("hybrid score %.6f outside 0..1", r.Score)
		}
	}
}

func checkSearchThreshold(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		for _, th := range []float64{0.2, 0.5, 0.99} {
			s := t.Search(ctx, t.A, map[string]any{"query": f.Docs[2].Text, "mode": mode, "threshold": th, "filters": f.tagged(nil)})
			for _, r := range s.Results {
				if r.Score < th {
					t.Errorf("%s threshold %.2f: %s scores %.6f", mode, th, r.Memory.ID, r.Score)
				}
			}
		}
	}
	s := t.Search(ctx, t.A, map[string]any{"query": f.Docs[2].Text, "threshold": 0.99, "filters": f.tagged(nil)})
	if !slices.Contains(s.IDs(), f.Docs[2].ID) {
		t.Errorf("semantic threshold 0.99 dropped the memory whose own text was the query: %v", s.IDs())
	}
}

func checkSearchFilters(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	query := "plans notes and work"
	cases := []struct {
		name    string
		filters map[string]any
		keep    func(d searchDoc) bool
	}{
		{"type=task", map[string]any{"type": "task"}, func(d searchDoc) bool { return d.Type == "task" }},
		{"source=email", map[string]any{"source": "email"}, func(d searchDoc) bool { return d.Source == "email" }},
		{"tags even", map[string]any{"tags": []string{f.Tag, f.Tag + "-even"}}, func(d searchDoc) bool { return len(d.Tags) == 2 }},
		{"metadata rank=2", map[string]any{"metadata": map[string]any{"rank": 2}}, func(d searchDoc) bool { return d.ID == f.Docs[2].ID }},
		{"type=note source=slack", map[string]any{"type": "note", "source": "slack"},
			func(d searchDoc) bool { return d.Type == "note" && d.Source == "slack" }},
	}
	for _, tc := range cases {
		var want []string
		for _, d := range f.Docs {
			if tc.keep(d) {
				want = append(want, d.ID)
			}
		}
		for _, mode := range []string{"semantic", "hybrid"} {
			s := t.Search(ctx, t.A, map[string]any{"query": query, "mode": mode, "threshold": -1, "limit": 100, "filters": f.tagged(tc.filters)})
			t.expectIDs(mode+" "+tc.name, s.IDs(), want)
		}
	}
}

func checkSearchByEmbedding(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	s := t.Search(ctx, t.A, map[string]any{"embedding": f.Vec, "filters": f.tagged(nil)})
	if len(s.Results) == 0 || s.Results[0].Memory.ID != f.VecID {
		t.Fatalf("search by embedding: got %v, want %s first", s.IDs(), f.VecID)
	}
	if s.Results[0].Score < 0.99 {
		t.Errorf("identical vector scores %.4f, want about 1", s.Results[0].Score)
	}
}

func checkSearchLimit(ctx context.Context, t *T) {
	f := t.searchFixture(ctx)
	for _, limit := range []int{1, 2, 5} {
		s := t.Search(ctx, t.A, map[string]any{"query": "notes", "limit": limit, "threshold": -1, "filters": f.tagged(nil)})
		if len(s.Results) != limit {
			t.Errorf("limit %d: %d results (the fixture has %d memories)", limit, len(s.Results), len(f.Docs)+1)
		}
	}
}

func checkSearchInvalid(ctx context.Context, t *T) {
	dims := t.Dims(ctx, t.A)
	bodies := []any{
		map[string]any{},
		map[string]any{"limit": 5},
		map[string]any{"query": ""},
		map[string]any{"query": "x", "mode": "fuzzy"},
		map[string]any{"query": "x", "limit": 0},
		map[string]any{"query": "x", "limit": 101},
		map[string]any{"query": "x", "threshold": 2},
		map[string]any{"query": "x", "colour": "blue"},
		map[string]any{"query": "x", "filters": map[string]any{"colour": "blue"}},
		map[string]any{"query": 5},
		map[string]any{"embedding": unitVector(dims+1, 3)},
	}
	for _, b := range bodies {
		resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/search", JSON: b})
		if resp.Status != http.StatusBadRequest {
			t.Errorf("search %v: want 400, got %s", b, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/search", Raw: []byte(`{"query":`)})
	t.ExpectError(resp, http.StatusBadRequest)
}

func checkSearchTooLarge(ctx context.Context, t *T) {
	big := strings.Repeat("y", t.suite.cfg.OversizeBytes)
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory/search", Raw: []byte(`{"query":"` + big + `"}`)})
	t.ExpectError(resp, http.StatusRequestEntityTooLarge)
}

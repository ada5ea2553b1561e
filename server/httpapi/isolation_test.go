package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
)

// A key of workspace A can neither read, list, search, update nor delete B's
// memories, and B's changes never show up in A.
func TestWorkspaceIsolation(t *testing.T) {
	e := testenv.New(t)
	r := e.Do("POST", "/api/v1/memory", e.KeyB, map[string]any{"id": "secret", "text": "the launch code is swordfish"})
	if r.Status != 201 {
		t.Fatalf("create in b: %d %s", r.Status, r.Raw)
	}
	testenv.WantError(t, e.Do("GET", "/api/v1/memory/secret", e.KeyA, nil), 404, "NOT_FOUND")
	testenv.WantError(t, e.Do("PUT", "/api/v1/memory/secret", e.KeyA, map[string]any{"text": "pwned"}), 404, "NOT_FOUND")
	testenv.WantError(t, e.Do("DELETE", "/api/v1/memory/secret", e.KeyA, nil), 404, "NOT_FOUND")
	testenv.WantError(t, e.Do("GET", "/api/v1/memory/secret", e.KeyA, nil, "X-Workspace-ID", "b"), 403, "FORBIDDEN")
	if r := e.Do("GET", "/api/v1/memory", e.KeyA, nil); r.Body["total"].(float64) != 0 {
		t.Fatalf("list leaks: %s", r.Raw)
	}
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "launch code swordfish", "mode": mode})
		if r.Status != 200 || len(r.Body["results"].([]any)) != 0 {
			t.Fatalf("%s search leaks: %s", mode, r.Raw)
		}
	}
	// Upserting the same id in A creates A's own memory and leaves B's alone.
	if r := e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"id": "secret", "text": "mine"}); r.Status != 201 {
		t.Fatalf("same id in a: %d %s", r.Status, r.Raw)
	}
	if r := e.Do("GET", "/api/v1/memory/secret", e.KeyB, nil); r.Body["text"] != "the launch code is swordfish" {
		t.Fatalf("b's memory changed: %s", r.Raw)
	}
}

func TestListPaginationAndFilters(t *testing.T) {
	e := testenv.New(t)
	for i := 0; i < 25; i++ {
		typ := []string{"note", "meeting"}[i%2]
		tags := []string{"all"}
		if i%3 == 0 {
			tags = append(tags, "third")
		}
		md := map[string]any{"type": typ, "tags": tags, "source": "test", "user_id": fmt.Sprintf("u%d", i%4)}
		if r := e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"text": fmt.Sprintf("memory number %d", i), "metadata": md}); r.Status != 201 {
			t.Fatalf("create %d: %s", i, r.Raw)
		}
	}
	seen := map[string]bool{}
	path := "/api/v1/memory?limit=7"
	for pages := 0; ; pages++ {
		r := e.Do("GET", path, e.KeyA, nil)
		if r.Body["total"].(float64) != 25 {
			t.Fatalf("total: %s", r.Raw)
		}
		for _, m := range r.Body["memories"].([]any) {
			id := m.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("duplicate %s", id)
			}
			seen[id] = true
		}
		next, _ := r.Body["next_cursor"].(string)
		if next == "" {
			if r.Body["has_more"] != false {
				t.Fatal("has_more without cursor")
			}
			break
		}
		path = "/api/v1/memory?limit=7&cursor=" + next
	}
	if len(seen) != 25 {
		t.Fatalf("saw %d of 25", len(seen))
	}
	for q, want := range map[string]float64{
		"type=note": 13, "tags=third": 9, "tags=third&tags=all": 9, "type=meeting&tags=third": 4,
		"metadata[user_id]=u1": 6, "source=test": 25, "source=other": 0,
		"created_after=2000-01-01T00:00:00Z": 25, "created_before=2000-01-01T00:00:00Z": 0,
	} {
		r := e.Do("GET", "/api/v1/memory?"+q, e.KeyA, nil)
		if r.Status != 200 || r.Body["total"].(float64) != want {
			t.Errorf("%s: want %v, got %d %s", q, want, r.Status, r.Raw)
		}
	}
	testenv.WantError(t, e.Do("GET", "/api/v1/memory?cursor=garbage!", e.KeyA, nil), 400, "INVALID_REQUEST")
}

func TestSearch(t *testing.T) {
	e := testenv.New(t)
	docs := map[string]map[string]any{
		"cats":    {"text": "cats purr and chase mice around the garden", "metadata": map[string]any{"type": "pets"}},
		"dogs":    {"text": "dogs bark and fetch sticks in the park", "metadata": map[string]any{"type": "pets"}},
		"stocks":  {"text": "the stock market fell sharply on interest rate fears", "metadata": map[string]any{"type": "finance"}},
		"recipes": {"text": "bake the bread at two hundred degrees for forty minutes", "metadata": map[string]any{"type": "food"}},
	}
	for id, d := range docs {
		d["id"] = id
		if r := e.Do("POST", "/api/v1/memory", e.KeyA, d); r.Status != 201 {
			t.Fatalf("create: %s", r.Raw)
		}
	}
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "cats chase mice", "mode": mode, "limit": 4})
		res := r.Body["results"].([]any)
		if r.Status != 200 || len(res) == 0 || res[0].(map[string]any)["memory"].(map[string]any)["id"] != "cats" {
			t.Fatalf("%s: %s", mode, r.Raw)
		}
		last := 2.0
		for _, h := range res {
			sc := h.(map[string]any)["score"].(float64)
			if sc > last {
				t.Fatalf("%s: scores not descending: %s", mode, r.Raw)
			}
			last = sc
		}
		if r.Body["total_results"].(float64) != float64(len(res)) || r.Body["mode"] != mode {
			t.Fatalf("%s: envelope: %s", mode, r.Raw)
		}
	}
	// Filters apply before ranking: the best finance match is returned even
	// though pets rank higher overall.
	r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "cats chase mice", "limit": 1, "filters": map[string]any{"type": "finance"}})
	res := r.Body["results"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["memory"].(map[string]any)["id"] != "stocks" {
		t.Fatalf("filtered: %s", r.Raw)
	}
	// A threshold above every score returns nothing.
	r = e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "cats chase mice", "threshold": 0.999})
	if len(r.Body["results"].([]any)) != 0 {
		t.Fatalf("threshold: %s", r.Raw)
	}
}

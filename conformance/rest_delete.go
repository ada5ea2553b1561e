package conformance

import (
	"context"
	"net/http"
	"net/url"
	"slices"
)

func deleteChecks() []Check {
	return []Check{
		{ID: "MEM-DELETE-001", Level: Must, Profile: Core, Ref: "deleteMemory 200, getMemory 404",
			Title: "DELETE answers {success: true, deleted_id}; the memory is then 404", Run: checkDelete},
		{ID: "MEM-DELETE-002", Level: Must, Profile: Core, Ref: "deleteMemory 404",
			Title: "deleting twice, or an unknown id, is 404 NOT_FOUND", Run: checkDeleteTwice},
		{ID: "MEM-DELETE-003", Level: Must, Profile: Core, Ref: "deleteMemory 400",
			Title: "DELETE with an id outside the MemoryID schema is 400", Run: checkDeleteBadID},
		{ID: "MEM-DELETE-004", Level: Must, Profile: Core, Ref: "deleteMemory 200, listMemories 200, searchMemories 200",
			Title: "a deleted memory no longer appears in lists or searches", Run: checkDeleteGone},
	}
}

func (t *T) del(ctx context.Context, c *Client, id string) *Response {
	return t.Do(ctx, c, Request{Method: "DELETE", Path: "/memory/" + url.PathEscape(id)})
}

func checkDelete(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": "delete me"})
	resp := t.del(ctx, t.A, sr.ID)
	t.Expect(resp, http.StatusOK)
	var dr DeleteResult
	if err := resp.Decode(&dr); err != nil {
		t.Fatalf("%v", err)
	}
	if !dr.Success || dr.DeletedID != sr.ID {
		t.Errorf("delete result %+v, want success true deleted_id %q", dr, sr.ID)
	}
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + sr.ID}), http.StatusNotFound)
}

func checkDeleteTwice(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": "delete me twice"})
	t.Expect(t.del(ctx, t.A, sr.ID), http.StatusOK)
	t.ExpectError(t.del(ctx, t.A, sr.ID), http.StatusNotFound)
	t.ExpectError(t.del(ctx, t.A, t.Name("never-existed")), http.StatusNotFound)
}

func checkDeleteBadID(ctx context.Context, t *T) {
	for _, id := range badIDs() {
		t.ExpectError(t.del(ctx, t.A, id), http.StatusBadRequest)
	}
}

func checkDeleteGone(ctx context.Context, t *T) {
	tag := t.Name("gone")
	text := "ephemeral memory about lighthouse keepers " + t.RunID
	sr := t.Create(ctx, t.A, map[string]any{"text": text, "metadata": map[string]any{"tags": []any{tag}}})
	if ids := t.ListAll(ctx, t.A, url.Values{"tags": {tag}}); !slices.Contains(ids, sr.ID) {
		t.Fatalf("a new memory is not listed under its tag: %v", ids)
	}
	t.Expect(t.del(ctx, t.A, sr.ID), http.StatusOK)
	if ids := t.ListAll(ctx, t.A, url.Values{"tags": {tag}}); len(ids) != 0 {
		t.Errorf("deleted memory still listed: %v", ids)
	}
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		s := t.Search(ctx, t.A, map[string]any{"query": text, "mode": mode, "threshold": -1})
		if slices.Contains(s.IDs(), sr.ID) {
			t.Errorf("deleted memory still found by %s search", mode)
		}
	}
}

package conformance

import (
	"context"
	"net/http"
	"net/url"
	"slices"
)

func isolationChecks() []Check {
	return []Check{
		{ID: "ISO-READ-001", Level: Must, Profile: Core, Ref: "getMemory 404",
			Title: "key B cannot read key A's memory (404, not 403: existence is not revealed)", Run: checkIsoRead},
		{ID: "ISO-LIST-001", Level: Must, Profile: Core, Ref: "listMemories 200",
			Title: "key B's lists never include key A's memories", Run: checkIsoList},
		{ID: "ISO-SEARCH-001", Level: Must, Profile: Core, Ref: "searchMemories 200",
			Title: "key B's searches never return key A's memories, in any mode", Run: checkIsoSearch},
		{ID: "ISO-UPDATE-001", Level: Must, Profile: Core, Ref: "updateMemory 404",
			Title: "key B cannot update key A's memory (404) and A's memory is unchanged", Run: checkIsoUpdate},
		{ID: "ISO-DELETE-001", Level: Must, Profile: Core, Ref: "deleteMemory 404",
			Title: "key B cannot delete key A's memory (404) and A's memory remains", Run: checkIsoDelete},
		{ID: "ISO-UPSERT-001", Level: Must, Profile: Core, Ref: "createMemory 201",
			Title: "key B posting key A's id creates B's own memory (201); A's is unchanged", Run: checkIsoUpsert},
	}
}

// isoMemory creates key A's memory that key B then tries to reach.
func (t *T) isoMemory(ctx context.Context, name string) (id, text, tag string) {
	t.NeedB()
	id, tag = t.Name("iso-"+name), t.Name("iso-tag-"+name)
	text = "confidential memory of workspace A about the orchard harvest " + t.RunID
	t.Create(ctx, t.A, map[string]any{"id": id, "text": text, "metadata": map[string]any{"tags": []string{tag}, "type": "secret"}})
	return id, text, tag
}

func (t *T) expectAUnchanged(ctx context.Context, id, text string) {
	if m := t.Get(ctx, t.A, id, nil); m.Text != text {
		t.Errorf("key A's memory changed: text %q", m.Text)
	}
}

func checkIsoRead(ctx context.Context, t *T) {
	id, _, _ := t.isoMemory(ctx, "read")
	t.ExpectError(t.Do(ctx, t.B, Request{Method: "GET", Path: "/memory/" + id}), http.StatusNotFound)
}

func checkIsoList(ctx context.Context, t *T) {
	id, _, tag := t.isoMemory(ctx, "list")
	l := t.List(ctx, t.B, url.Values{"tags": {tag}})
	if l.Total != 0 || len(l.Memories) != 0 {
		t.Errorf("B lists %d memories (total %d) under A's tag", len(l.Memories), l.Total)
	}
	for _, m := range t.List(ctx, t.B, url.Values{"limit": {"100"}}).Memories {
		if m.ID == id {
			t.Errorf("B's first page lists A's memory %s", id)
		}
	}
	if ids := t.ListAll(ctx, t.B, url.Values{"type": {"secret"}, "limit": {"100"}}); slices.Contains(ids, id) {
		t.Errorf("B's type filter lists A's memory %s", id)
	}
}

func checkIsoSearch(ctx context.Context, t *T) {
	id, text, tag := t.isoMemory(ctx, "search")
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		for _, filters := range []map[string]any{nil, {"tags": []string{tag}}} {
			body := map[string]any{"query": text, "mode": mode, "threshold": -1, "limit": 100}
			if filters != nil {
				body["filters"] = filters
			}
			if s := t.Search(ctx, t.B, body); slices.Contains(s.IDs(), id) {
				t.Errorf("B's %s search (filters %v) returns A's memory", mode, filters)
			}
		}
	}
	a := t.Get(ctx, t.A, id, nil)
	if s := t.Search(ctx, t.B, map[string]any{"embedding": a.Embedding, "threshold": -1, "limit": 100}); slices.Contains(s.IDs(), id) {
		t.Errorf("B's search by A's exact vector returns A's memory")
	}
}

func checkIsoUpdate(ctx context.Context, t *T) {
	id, text, _ := t.isoMemory(ctx, "update")
	t.ExpectError(t.Do(ctx, t.B, Request{Method: "PUT", Path: "/memory/" + id, JSON: map[string]any{"text": "hijacked"}}), http.StatusNotFound)
	t.expectAUnchanged(ctx, id, text)
}

func checkIsoDelete(ctx context.Context, t *T) {
	id, text, _ := t.isoMemory(ctx, "delete")
	t.ExpectError(t.Do(ctx, t.B, Request{Method: "DELETE", Path: "/memory/" + id}), http.StatusNotFound)
	t.expectAUnchanged(ctx, id, text)
}

func checkIsoUpsert(ctx context.Context, t *T) {
	id, text, _ := t.isoMemory(ctx, "upsert")
	sr := t.Create(ctx, t.B, map[string]any{"id": id, "text": "B's own memory with the same id"})
	if sr.ID != id || sr.Status != "stored" {
		t.Errorf("B's POST: id %q status %q, want %q stored", sr.ID, sr.Status, id)
	}
	t.expectAUnchanged(ctx, id, text)
	if m := t.Get(ctx, t.B, id, nil); m.Text != "B's own memory with the same id" {
		t.Errorf("B reads %q under its own id", m.Text)
	}
}

package conformance

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

func updateChecks() []Check {
	return []Check{
		{ID: "MEM-UPDATE-001", Level: Must, Profile: Core, Ref: "updateMemory 200",
			Title: "PUT with new text updates it and re-embeds; metadata not given is kept", Run: checkUpdateText},
		{ID: "MEM-UPDATE-002", Level: Must, Profile: Core, Ref: "updateMemory 200",
			Title: "PUT metadata replaces the metadata as a whole and keeps the text", Run: checkUpdateMetadata},
		{ID: "MEM-UPDATE-003", Level: Should, Profile: Core, Ref: "updateMemory 200",
			Title: "a metadata-only PUT does not re-embed (embedding_regenerated false, same vector)", Run: checkUpdateNoReembed},
		{ID: "MEM-UPDATE-004", Level: Must, Profile: Core, Ref: "updateMemory 200",
			Title: "PUT with a client embedding stores it as given", Run: checkUpdateEmbedding},
		{ID: "MEM-UPDATE-005", Level: Must, Profile: Core, Ref: "updateMemory 404",
			Title: "PUT on an unknown id is 404 and creates nothing", Run: checkUpdateUnknown},
		{ID: "MEM-UPDATE-006", Level: Must, Profile: Core, Ref: "updateMemory 400",
			Title: "PUT with an empty object, an unknown field, a wrong type, a bad id or a wrong-dimension embedding is 400", Run: checkUpdateInvalid},
		{ID: "MEM-UPDATE-007", Level: Must, Profile: Core, Ref: "updateMemory 413",
			Title: "PUT with an oversized body is 413 PAYLOAD_TOO_LARGE", Run: checkUpdateTooLarge},
	}
}

func (t *T) put(ctx context.Context, c *Client, id string, body any) *Response {
	return t.Do(ctx, c, Request{Method: "PUT", Path: "/memory/" + url.PathEscape(id), JSON: body})
}

func (t *T) update(ctx context.Context, c *Client, id string, body any) UpdateResult {
	resp := t.put(ctx, c, id, body)
	t.Expect(resp, http.StatusOK)
	var ur UpdateResult
	if err := resp.Decode(&ur); err != nil {
		t.Fatalf("%v", err)
	}
	if ur.ID != id || ur.Status != "updated" {
		t.Fatalf("update result id %q status %q, want %q updated", ur.ID, ur.Status, id)
	}
	return ur
}

func checkUpdateText(ctx context.Context, t *T) {
	md := map[string]any{"type": "meeting", "tags": []any{t.Name("upd"), "q4"}}
	sr := t.Create(ctx, t.A, map[string]any{"text": "Meeting notes", "metadata": md})
	before := t.Get(ctx, t.A, sr.ID, nil)
	ur := t.update(ctx, t.A, sr.ID, map[string]any{"text": "Updated meeting notes about a completely different subject: gardening"})
	if !ur.EmbeddingRegenerated {
		t.Errorf("embedding_regenerated false after a new text")
	}
	m := t.Get(ctx, t.A, sr.ID, nil)
	if m.Text != "Updated meeting notes about a completely different subject: gardening" {
		t.Errorf("text %q after update", m.Text)
	}
	if !reflect.DeepEqual(m.Metadata, before.Metadata) {
		t.Errorf("metadata changed by a text-only update: %v -> %v", before.Metadata, m.Metadata)
	}
	if m.UpdatedAt.Before(m.CreatedAt) || m.UpdatedAt.Before(before.UpdatedAt) {
		t.Errorf("updated_at %s is before created_at %s or the previous updated_at %s", m.UpdatedAt, m.CreatedAt, before.UpdatedAt)
	}
	if sameVector(m.Embedding, before.Embedding) {
		t.Errorf("embedding unchanged after a different text")
	}
}

func checkUpdateMetadata(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": "metadata replace",
		"metadata": map[string]any{"type": "a", "old": "gone", "tags": []any{"x"}}})
	newMD := map[string]any{"type": "b", "tags": []any{"y", "z"}, "new": map[string]any{"k": "v"}}
	t.update(ctx, t.A, sr.ID, map[string]any{"metadata": newMD})
	m := t.Get(ctx, t.A, sr.ID, nil)
	if !reflect.DeepEqual(m.Metadata, newMD) {
		t.Errorf("metadata %v, want exactly %v", m.Metadata, newMD)
	}
	if m.Text != "metadata replace" {
		t.Errorf("text changed to %q by a metadata-only update", m.Text)
	}
}

func checkUpdateNoReembed(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": "keep my vector"})
	before := t.Get(ctx, t.A, sr.ID, nil)
	ur := t.update(ctx, t.A, sr.ID, map[string]any{"metadata": map[string]any{"type": "x"}})
	if ur.EmbeddingRegenerated {
		t.Errorf("embedding_regenerated true for a metadata-only update")
	}
	if m := t.Get(ctx, t.A, sr.ID, nil); !sameVector(m.Embedding, before.Embedding) {
		t.Errorf("embedding changed by a metadata-only update")
	}
}

func checkUpdateEmbedding(ctx context.Context, t *T) {
	dims := t.Dims(ctx, t.A)
	sr := t.Create(ctx, t.A, map[string]any{"text": "vector update"})
	vec := unitVector(dims, 11)
	ur := t.update(ctx, t.A, sr.ID, map[string]any{"embedding": vec})
	if ur.VectorDimensions != dims {
		t.Errorf("vector_dimensions %d, want %d", ur.VectorDimensions, dims)
	}
	if m := t.Get(ctx, t.A, sr.ID, nil); !sameVector(m.Embedding, vec) {
		t.Errorf("stored embedding differs from the supplied one")
	}
}

func checkUpdateUnknown(ctx context.Context, t *T) {
	id := t.Name("nobody")
	resp := t.put(ctx, t.A, id, map[string]any{"text": "x"})
	if resp.Status < 300 {
		deleteQuietly(ctx, t.A, id)
	}
	t.ExpectError(resp, http.StatusNotFound)
	resp = t.Do(ctx, t.A, Request{Method: "GET", Path: "/memory/" + id})
	t.ExpectError(resp, http.StatusNotFound)
}

func checkUpdateInvalid(ctx context.Context, t *T) {
	dims := t.Dims(ctx, t.A)
	sr := t.Create(ctx, t.A, map[string]any{"text": "stays as is"})
	bodies := []any{
		map[string]any{},
		map[string]any{"text": "x", "colour": "blue"},
		map[string]any{"text": 42},
		map[string]any{"text": ""},
		map[string]any{"metadata": map[string]any{"tags": "not-an-array"}},
		map[string]any{"embedding": unitVector(dims+1, 2)},
	}
	for _, b := range bodies {
		resp := t.put(ctx, t.A, sr.ID, b)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("PUT %v: want 400, got %s", b, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
	resp := t.Do(ctx, t.A, Request{Method: "PUT", Path: "/memory/" + sr.ID, Raw: []byte(`{"text": "unterminated`)})
	t.ExpectError(resp, http.StatusBadRequest)
	for _, id := range badIDs() {
		t.ExpectError(t.put(ctx, t.A, id, map[string]any{"text": "x"}), http.StatusBadRequest)
	}
	if m := t.Get(ctx, t.A, sr.ID, nil); m.Text != "stays as is" {
		t.Errorf("a rejected update changed the text to %q", m.Text)
	}
}

func checkUpdateTooLarge(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": "small"})
	big := strings.Repeat("x", t.suite.cfg.OversizeBytes)
	resp := t.Do(ctx, t.A, Request{Method: "PUT", Path: "/memory/" + sr.ID, Raw: []byte(`{"text":"` + big + `"}`)})
	t.ExpectError(resp, http.StatusRequestEntityTooLarge)
}

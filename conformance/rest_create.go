package conformance

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
)

func createChecks() []Check {
	return []Check{
		{ID: "MEM-CREATE-001", Level: Must, Profile: Core, Ref: "createMemory 201",
			Title: "POST /memory without id stores the memory: 201, status stored, server-side embedding", Run: checkCreate},
		{ID: "MEM-CREATE-002", Level: Must, Profile: Core, Ref: "createMemory 201",
			Title: "the Location header of a 201 names the new memory", Run: checkCreateLocation},
		{ID: "MEM-CREATE-003", Level: Must, Profile: Core, Ref: "createMemory 201, createMemory 200",
			Title: "POST /memory with a client id creates (201) then updates (200, status updated) it: upsert", Run: checkUpsert},
		{ID: "MEM-CREATE-004", Level: Should, Profile: Core, Ref: "createMemory 200",
			Title: "an upsert keeps created_at and advances updated_at", Run: checkUpsertTimestamps},
		{ID: "MEM-CREATE-005", Level: Must, Profile: Core, Ref: "createMemory 201, getMemory 200",
			Title: "Unicode text (CJK, emoji, RTL, combining marks) round-trips byte for byte", Run: checkUnicode},
		{ID: "MEM-CREATE-006", Level: Must, Profile: Core, Ref: "createMemory 201, getMemory 200",
			Title: "nested metadata round-trips unchanged", Run: checkNestedMetadata},
		{ID: "MEM-CREATE-007", Level: Must, Profile: Core, Ref: "createMemory 201",
			Title: "a client embedding of the workspace's dimension is stored as given (embedding_generated false)", Run: checkClientEmbedding},
		{ID: "MEM-CREATE-008", Level: Must, Profile: Core, Ref: "createMemory 400",
			Title: "a client embedding of another dimension is 400 INVALID_REQUEST", Run: checkWrongDimension},
	}
}

func checkCreate(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": "Meeting notes from Q4 planning " + t.RunID,
		"metadata": map[string]any{"type": "meeting", "tags": []string{t.Name("create"), "q4"}}})
	if sr.Status != "stored" {
		t.Errorf("status %q, want stored", sr.Status)
	}
	if sr.ID == "" {
		t.Errorf("empty id")
	}
	if !sr.EmbeddingGenerated {
		t.Errorf("embedding_generated false without a client embedding")
	}
	if sr.VectorDimensions <= 0 {
		t.Errorf("vector_dimensions %d, want > 0", sr.VectorDimensions)
	}
	if sr.EmbeddingModel == "" {
		t.Errorf("empty embedding_model")
	}
}

func checkCreateLocation(ctx context.Context, t *T) {
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory", JSON: map[string]any{"text": "location " + t.RunID}})
	t.Expect(resp, http.StatusCreated)
	var sr StoreResult
	if err := resp.Decode(&sr); err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func(ctx context.Context) { deleteQuietly(ctx, t.A, sr.ID) })
	loc := resp.Header.Get("Location")
	if loc == "" {
		t.Fatalf("201 without Location")
	}
	reqURL, _ := url.Parse(resp.URL)
	target, err := reqURL.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q is not a URL: %v", loc, err)
	}
	want, _ := url.Parse(t.A.URL("/memory/"+url.PathEscape(sr.ID), nil))
	if target.Path != want.Path {
		t.Fatalf("Location %q resolves to path %q, want %q", loc, target.Path, want.Path)
	}
	m := t.Get(ctx, t.A, sr.ID, nil)
	if m.Text != "location "+t.RunID {
		t.Fatalf("memory at Location has text %q", m.Text)
	}
}

func checkUpsert(ctx context.Context, t *T) {
	id := t.Name("upsert")
	first := t.Create(ctx, t.A, map[string]any{"id": id, "text": "first version"})
	if first.ID != id || first.Status != "stored" {
		t.Fatalf("first POST: id %q status %q, want %q stored", first.ID, first.Status, id)
	}
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory",
		JSON: map[string]any{"id": id, "text": "second version", "metadata": map[string]any{"type": "v2"}}})
	t.Expect(resp, http.StatusOK)
	var sr StoreResult
	if err := resp.Decode(&sr); err != nil {
		t.Fatalf("%v", err)
	}
	if sr.ID != id || sr.Status != "updated" {
		t.Fatalf("second POST: id %q status %q, want %q updated", sr.ID, sr.Status, id)
	}
	m := t.Get(ctx, t.A, id, nil)
	if m.Text != "second version" || m.Metadata["type"] != "v2" {
		t.Fatalf("after upsert: text %q metadata %v", m.Text, m.Metadata)
	}
}

func checkUpsertTimestamps(ctx context.Context, t *T) {
	id := t.Name("upsert-ts")
	first := t.Create(ctx, t.A, map[string]any{"id": id, "text": "one"})
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory", JSON: map[string]any{"id": id, "text": "two"}})
	t.Expect(resp, http.StatusOK)
	m := t.Get(ctx, t.A, id, nil)
	if !m.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("created_at changed from %s to %s", first.CreatedAt, m.CreatedAt)
	}
	if m.UpdatedAt.Before(first.UpdatedAt) {
		t.Errorf("updated_at went back from %s to %s", first.UpdatedAt, m.UpdatedAt)
	}
}

// unicodeText mixes scripts, astral emoji, a ZWJ sequence, RTL text,
// combining marks (not normalised) and JSON-escaped characters.
const unicodeText = "日本語のメモ 😀👩‍💻 مرحبا שלום e\u0301 Å \u00e9 \t\"quotes\" \\ back\u2028line"

func checkUnicode(ctx context.Context, t *T) {
	sr := t.Create(ctx, t.A, map[string]any{"text": unicodeText + " " + t.RunID})
	m := t.Get(ctx, t.A, sr.ID, nil)
	if m.Text != unicodeText+" "+t.RunID {
		t.Fatalf("text changed:\n got %q\nwant %q", m.Text, unicodeText+" "+t.RunID)
	}
}

func nestedMetadata(t *T) map[string]any {
	return map[string]any{
		"type": "note", "source": "conformance", "tags": []any{t.Name("nested"), "ünïcode"},
		"timestamp": "2024-01-15T10:30:00Z",
		"project":   map[string]any{"name": "memoryd", "labels": []any{"a", "b"}, "deep": map[string]any{"level": float64(3), "ok": true}},
		"scores":    []any{float64(1), 2.5, map[string]any{"x": "y"}},
		"user_id":   "user123",
	}
}

func checkNestedMetadata(ctx context.Context, t *T) {
	md := nestedMetadata(t)
	sr := t.Create(ctx, t.A, map[string]any{"text": "nested metadata", "metadata": md})
	m := t.Get(ctx, t.A, sr.ID, nil)
	if !reflect.DeepEqual(m.Metadata, md) {
		t.Fatalf("metadata changed:\n got %v\nwant %v", m.Metadata, md)
	}
}

func checkClientEmbedding(ctx context.Context, t *T) {
	dims := t.Dims(ctx, t.A)
	vec := unitVector(dims, 7)
	sr := t.Create(ctx, t.A, map[string]any{"text": "client vector " + t.RunID, "embedding": vec})
	if sr.EmbeddingGenerated {
		t.Errorf("embedding_generated true for a supplied embedding")
	}
	if sr.VectorDimensions != dims {
		t.Errorf("vector_dimensions %d, want %d", sr.VectorDimensions, dims)
	}
	if sr.TokensUsed != 0 {
		t.Errorf("tokens_used %d for a supplied embedding, want 0", sr.TokensUsed)
	}
	m := t.Get(ctx, t.A, sr.ID, url.Values{"include_embedding": {"true"}})
	if !sameVector(m.Embedding, vec) {
		t.Errorf("stored embedding differs from the supplied one (len %d vs %d)", len(m.Embedding), len(vec))
	}
}

func checkWrongDimension(ctx context.Context, t *T) {
	dims := t.Dims(ctx, t.A)
	for _, n := range []int{dims + 1, dims - 1, 3} {
		if n < 1 || n == dims {
			continue
		}
		resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory",
			JSON: map[string]any{"id": t.Name("wrongdim"), "text": "wrong dimension", "embedding": unitVector(n, 1)}})
		if resp.Status < 300 {
			deleteQuietly(ctx, t.A, t.Name("wrongdim"))
		}
		t.ExpectError(resp, http.StatusBadRequest)
	}
}

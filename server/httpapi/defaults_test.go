package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
)

// The handlers apply the OpenAPI document's defaults themselves: the
// validator does not write them into requests (SkipSettingDefaults).
func TestDocumentDefaultsApply(t *testing.T) {
	e := testenv.New(t)
	for i := range 25 {
		body := map[string]any{"id": fmt.Sprintf("m%02d", i), "text": fmt.Sprintf("garden note %d about roses and tulips", i)}
		if r := e.Do("POST", "/api/v1/memory", e.KeyA, body); r.Status != 201 {
			t.Fatalf("create: %s", r.Raw)
		}
	}
	r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "garden note about roses and tulips"})
	if n := len(r.Body["results"].([]any)); r.Status != 200 || n != 10 || r.Body["mode"] != "semantic" {
		t.Errorf("search without limit or mode: %d results, mode %v (want 10, semantic): %d", n, r.Body["mode"], r.Status)
	}
	r = e.Do("GET", "/api/v1/memory", e.KeyA, nil)
	mems := r.Body["memories"].([]any)
	if r.Status != 200 || len(mems) != 20 {
		t.Fatalf("list without limit: %d memories (want 20): %d", len(mems), r.Status)
	}
	if _, ok := mems[0].(map[string]any)["embedding"]; ok {
		t.Errorf("list without include_embedding shows embeddings")
	}
	r = e.Do("GET", "/api/v1/memory/m00", e.KeyA, nil)
	if _, ok := r.Body["embedding"]; r.Status != 200 || !ok {
		t.Errorf("get without include_embedding shows no embedding: %d", r.Status)
	}
}

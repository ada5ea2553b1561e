package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/ratelimit"
)

func TestMemoryLifecycle(t *testing.T) {
	e := testenv.New(t)
	r := e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{
		"text":     "Meeting notes from Q4 planning",
		"metadata": map[string]any{"type": "meeting", "tags": []string{"planning", "q4"}, "user_id": "u1"},
	})
	if r.Status != http.StatusCreated || r.Body["status"] != "stored" || r.Body["embedding_generated"] != true ||
		r.Body["vector_dimensions"].(float64) != 512 || r.Body["tokens_used"].(float64) != 5 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	id := r.Body["id"].(string)
	if loc := r.Header.Get("Location"); loc != "/api/v1/memory/"+id {
		t.Fatalf("Location %q", loc)
	}

	r = e.Do("GET", "/api/v1/memory/"+id, e.KeyA, nil)
	emb, _ := r.Body["embedding"].([]any)
	if r.Status != 200 || r.Body["text"] != "Meeting notes from Q4 planning" || len(emb) != 512 ||
		r.Body["metadata"].(map[string]any)["user_id"] != "u1" {
		t.Fatalf("get: %d %s", r.Status, r.Raw)
	}

	r = e.Do("PUT", "/api/v1/memory/"+id, e.KeyA, map[string]any{"text": "Updated meeting notes"})
	if r.Status != 200 || r.Body["status"] != "updated" || r.Body["embedding_regenerated"] != true {
		t.Fatalf("put: %d %s", r.Status, r.Raw)
	}
	r = e.Do("GET", "/api/v1/memory/"+id+"?include_embedding=false", e.KeyA, nil)
	if r.Body["text"] != "Updated meeting notes" || r.Body["embedding"] != nil ||
		r.Body["metadata"].(map[string]any)["type"] != "meeting" {
		t.Fatalf("after put: %s", r.Raw)
	}

	r = e.Do("DELETE", "/api/v1/memory/"+id, e.KeyA, nil)
	if r.Status != 200 || r.Body["success"] != true || r.Body["deleted_id"] != id {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	testenv.WantError(t, e.Do("GET", "/api/v1/memory/"+id, e.KeyA, nil), 404, "NOT_FOUND")
	testenv.WantError(t, e.Do("DELETE", "/api/v1/memory/"+id, e.KeyA, nil), 404, "NOT_FOUND")
	testenv.WantError(t, e.Do("PUT", "/api/v1/memory/"+id, e.KeyA, map[string]any{"text": "x"}), 404, "NOT_FOUND")
}

func TestUpsertWithClientID(t *testing.T) {
	e := testenv.New(t)
	body := map[string]any{"id": "note-1", "text": "first version"}
	r := e.Do("POST", "/api/v1/memory", e.KeyA, body)
	if r.Status != 201 || r.Body["id"] != "note-1" {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	created := r.Body["created_at"]
	body["text"] = "second version"
	r = e.Do("POST", "/api/v1/memory", e.KeyA, body)
	if r.Status != 200 || r.Body["status"] != "updated" || r.Body["created_at"] != created {
		t.Fatalf("upsert: %d %s", r.Status, r.Raw)
	}
	r = e.Do("GET", "/api/v1/memory/note-1", e.KeyA, nil)
	if r.Body["text"] != "second version" {
		t.Fatalf("get: %s", r.Raw)
	}
}

func TestClientEmbedding(t *testing.T) {
	e := testenv.New(t)
	vec := make([]float64, 512)
	vec[3] = 1
	r := e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"text": "vector supplied", "embedding": vec})
	if r.Status != 201 || r.Body["embedding_generated"] != false || r.Body["tokens_used"].(float64) != 0 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	r = e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"text": "wrong", "embedding": []float64{1, 2, 3}})
	testenv.WantError(t, r, 400, "INVALID_REQUEST")
	if d := r.Body["details"].(map[string]any); d["expected_dimensions"].(float64) != 512 || d["got_dimensions"].(float64) != 3 {
		t.Fatalf("details: %s", r.Raw)
	}
	// Search by embedding finds the memory whose vector it is.
	r = e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"embedding": vec, "limit": 1})
	res := r.Body["results"].([]any)
	if r.Status != 200 || len(res) != 1 || res[0].(map[string]any)["memory"].(map[string]any)["text"] != "vector supplied" {
		t.Fatalf("search by embedding: %d %s", r.Status, r.Raw)
	}
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"embedding": []float64{1}}), 400, "INVALID_REQUEST")
}

func TestBadInput(t *testing.T) {
	e := testenv.New(t, testenv.WithMaxBodyBytes(4096), testenv.WithMaxTextBytes(100))
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"missing text", "POST", "/api/v1/memory", `{"metadata":{}}`, 400, "INVALID_REQUEST"},
		{"unknown field", "POST", "/api/v1/memory", `{"text":"x","colour":"red"}`, 400, "INVALID_REQUEST"},
		{"wrong type", "POST", "/api/v1/memory", `{"text":42}`, 400, "INVALID_REQUEST"},
		{"tags not strings", "POST", "/api/v1/memory", `{"text":"x","metadata":{"tags":[1]}}`, 400, "INVALID_REQUEST"},
		{"empty text", "POST", "/api/v1/memory", `{"text":""}`, 400, "INVALID_REQUEST"},
		{"not json", "POST", "/api/v1/memory", `{"text":`, 400, "INVALID_REQUEST"},
		{"no body", "POST", "/api/v1/memory", "", 400, "INVALID_REQUEST"},
		{"bad id", "POST", "/api/v1/memory", `{"id":"a b","text":"x"}`, 400, "INVALID_REQUEST"},
		{"text too large", "POST", "/api/v1/memory", fmt.Sprintf(`{"text":%q}`, strings.Repeat("x", 101)), 413, "PAYLOAD_TOO_LARGE"},
		{"body too large", "POST", "/api/v1/memory", fmt.Sprintf(`{"text":"x","metadata":{"pad":%q}}`, strings.Repeat("x", 5000)), 413, "PAYLOAD_TOO_LARGE"},
		{"empty update", "PUT", "/api/v1/memory/x", `{}`, 400, "INVALID_REQUEST"},
		{"bad limit", "GET", "/api/v1/memory?limit=0", nil, 400, "INVALID_REQUEST"},
		{"bad limit type", "GET", "/api/v1/memory?limit=abc", nil, 400, "INVALID_REQUEST"},
		{"bad date", "GET", "/api/v1/memory?created_after=yesterday", nil, 400, "INVALID_REQUEST"},
		{"search no query", "POST", "/api/v1/memory/search", `{"limit":3}`, 400, "INVALID_REQUEST"},
		{"search bad mode", "POST", "/api/v1/memory/search", `{"query":"x","mode":"fuzzy"}`, 400, "INVALID_REQUEST"},
		{"search keyword needs text", "POST", "/api/v1/memory/search", `{"embedding":[1],"mode":"keyword"}`, 400, "INVALID_REQUEST"},
		{"unknown path", "GET", "/api/v1/nope", nil, 404, "NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(c.method, c.path, e.KeyA, c.body)
			testenv.WantError(t, r, c.status, c.code)
		})
	}
	// Nothing of the above was stored.
	if r := e.Do("GET", "/api/v1/memory", e.KeyA, nil); r.Body["total"].(float64) != 0 {
		t.Fatalf("bad input changed state: %s", r.Raw)
	}
	r := e.Do("POST", "/api/v1/memory", e.KeyA, `{"metadata":{}}`)
	if mf := r.Body["details"].(map[string]any)["missing_fields"].([]any); len(mf) != 1 || mf[0] != "text" || r.Body["message"] != "Text field is required" {
		t.Fatalf("missing_fields: %s", r.Raw)
	}
}

func TestAuth(t *testing.T) {
	e := testenv.New(t)
	testenv.WantError(t, e.Do("GET", "/api/v1/memory", "", nil), 401, "UNAUTHORIZED")
	testenv.WantError(t, e.Do("GET", "/api/v1/memory", "mk_unknown", nil), 401, "UNAUTHORIZED")
	testenv.WantError(t, e.Do("GET", "/api/v1/memory", "", nil, "Authorization", "Basic abc"), 401, "UNAUTHORIZED")
	testenv.WantError(t, e.Do("GET", "/api/v1/memory", e.KeyA, nil, "X-Workspace-ID", "b"), 403, "FORBIDDEN")
	if r := e.Do("GET", "/api/v1/memory", e.KeyA, nil, "X-Workspace-ID", "a2"); r.Status != 200 {
		t.Fatalf("second workspace: %d %s", r.Status, r.Raw)
	}
	if r := e.Do("GET", "/api/v1/health", "", nil); r.Status != 200 || r.Body["status"] != "ok" {
		t.Fatalf("health: %s", r.Raw)
	}
	if r := e.Do("GET", "/api/v1/ready", "", nil); r.Status != 200 {
		t.Fatalf("ready: %s", r.Raw)
	}
	if r := e.Do("GET", "/api/v1/openapi.yaml", "", nil); r.Status != 200 || !strings.Contains(string(r.Raw), "operationId: createMemory") {
		t.Fatalf("openapi: %d", r.Status)
	}
}

func TestRateLimit(t *testing.T) {
	e := testenv.New(t, testenv.WithLimits(ratelimit.Limits{memoryd.TierFree: 3}))
	key := e.NewKey(memoryd.TierFree, "f")
	for i := 0; i < 3; i++ {
		if r := e.Do("GET", "/api/v1/memory", key, nil); r.Status != 200 {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	r := e.Do("GET", "/api/v1/memory", key, nil)
	testenv.WantError(t, r, 429, "RATE_LIMITED")
	if ra, _ := r.Body["retry_after"].(float64); ra < 1 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("retry_after missing: %s %v", r.Raw, r.Header)
	}
	// Other keys are not affected.
	if r := e.Do("GET", "/api/v1/memory", e.KeyA, nil); r.Status != 200 {
		t.Fatalf("unlimited key: %d", r.Status)
	}
}

func TestTrailingDataAfterJSONIsRejected(t *testing.T) {
	e := testenv.New(t)
	for _, body := range []string{`{"text": "x"} trailing`, `{"text": "x"}{"text": "y"}`} {
		r := e.Do("POST", "/api/v1/memory", e.KeyA, body)
		testenv.WantError(t, r, 400, "INVALID_REQUEST")
	}
	if r := e.Do("GET", "/api/v1/memory", e.KeyA, nil); r.Body["total"].(float64) != 0 {
		t.Fatalf("a rejected body stored something: %s", r.Raw)
	}
}

package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
)

func TestBatchCreate(t *testing.T) {
	e := testenv.New(t)
	e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"id": "old", "text": "old text"})
	r := e.Do("POST", "/api/v1/memory/batch", e.KeyA, map[string]any{"memories": []any{
		map[string]any{"id": "n1", "text": "first new", "metadata": map[string]any{"tags": []string{"x"}}},
		map[string]any{"id": "old", "text": "replaced"},
		map[string]any{"id": "bad", "text": "zero", "embedding": make([]float32, 512)},
		map[string]any{"text": "no id"},
	}})
	if r.Status != 200 || r.Body["stored"] != 2.0 || r.Body["updated"] != 1.0 || r.Body["failed"] != 1.0 {
		t.Fatalf("batch: %d %s", r.Status, r.Raw)
	}
	res := r.Body["results"].([]any)
	var got []string
	for _, x := range res {
		it := x.(map[string]any)
		s := fmt.Sprint(it["index"], " ", it["status"])
		if e, ok := it["error"].(map[string]any); ok {
			s += " " + e["error"].(string)
		}
		got = append(got, s)
	}
	if want := "[0 stored 1 updated 2 failed INVALID_REQUEST 3 stored]"; fmt.Sprint(got) != want {
		t.Fatalf("results %v, want %s", got, want)
	}
	testenv.WantError(t, e.Do("GET", "/api/v1/memory/bad", e.KeyA, nil), 404, "NOT_FOUND")
	if r := e.Do("GET", "/api/v1/memory/old", e.KeyA, nil); r.Body["text"] != "replaced" {
		t.Fatalf("old: %s", r.Raw)
	}
	// Searchable at once (reads your writes).
	r = e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "first new", "limit": 1})
	if hits := r.Body["results"].([]any); len(hits) != 1 || hits[0].(map[string]any)["memory"].(map[string]any)["id"] != "n1" {
		t.Fatalf("search after batch: %s", r.Raw)
	}
}

func TestBatchRefusesBadBodies(t *testing.T) {
	e := testenv.New(t, testenv.WithMaxBodyBytes(4<<20))
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/batch", e.KeyA, map[string]any{"memories": []any{}}), 400, "INVALID_REQUEST")
	many := make([]any, 1001)
	for i := range many {
		many[i] = map[string]any{"text": "t"}
	}
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/batch", e.KeyA, map[string]any{"memories": many}), 400, "INVALID_REQUEST")
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/batch", e.KeyA, map[string]any{"memories": []any{map[string]any{"txt": "x"}}}), 400, "INVALID_REQUEST")
	if r := e.Do("GET", "/api/v1/memory?limit=10", e.KeyA, nil); !strings.Contains(string(r.Raw), `"total":0`) {
		t.Fatalf("a refused batch wrote: %s", r.Raw)
	}
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/batch", "", map[string]any{"memories": many[:1]}), 401, "UNAUTHORIZED")
}

// A batch's memories reach the stream as one event each, in item order,
// right after the answer.
func TestBatchEventsReachTheStream(t *testing.T) {
	e := testenv.New(t)
	s, _ := e.OpenStream(e.KeyA, "", nil)
	defer s.Close()
	r := e.Do("POST", "/api/v1/memory/batch", e.KeyA, map[string]any{"memories": []any{
		map[string]any{"id": "s1", "text": "one"}, map[string]any{"id": "s2", "text": "two"}, map[string]any{"id": "s3", "text": "three"},
	}})
	if r.Status != 200 {
		t.Fatalf("batch: %d %s", r.Status, r.Raw)
	}
	for _, want := range []string{"s1", "s2", "s3"} {
		m := s.NextData(t)
		var p struct{ ID string }
		m.Decode(t, &p)
		if m.Event != "memory.created" || p.ID != want {
			t.Fatalf("stream sent %s %q, want memory.created %s", m.Event, p.ID, want)
		}
	}
}

package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/internal/testenv"
	"github.com/memoryd/memoryd/server/service"
)

// total is the number of memories the list of workspace a reports.
func total(e *testenv.Env) float64 {
	e.T.Helper()
	r := e.Do("GET", "/api/v1/memory", e.KeyA, nil)
	if r.Status != 200 {
		e.T.Fatalf("list: %d %s", r.Status, r.Raw)
	}
	return r.Body["total"].(float64)
}

// deepJSON is metadata nesting depth levels, the metadata object being 1.
func deepJSON(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + `{"leaf":true}` + strings.Repeat("}", depth-1)
}

func zeros(n int) []float64 { return make([]float64, n) }

// Item 1: a vector the index cannot rank is refused before the write, on
// create and on update, and the database still loads at the next start.
func TestZeroVectorIsRefusedAndNothingIsStored(t *testing.T) {
	e := testenv.New(t)
	underflow := make([]float64, 512)
	for i := range underflow {
		underflow[i] = 1e-50 // 0 as a float32
	}
	for _, vec := range [][]float64{zeros(512), underflow} {
		r := e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"id": "z", "text": "zero", "embedding": vec})
		testenv.WantError(t, r, 400, "INVALID_REQUEST")
	}
	testenv.WantError(t, e.Do("GET", "/api/v1/memory/z", e.KeyA, nil), 404, "NOT_FOUND")
	if n := total(e); n != 0 {
		t.Fatalf("a refused create stored %v memories", n)
	}
	vec := zeros(512)
	vec[1] = 1
	if r := e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"id": "p", "text": "fine", "embedding": vec}); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	for _, body := range []map[string]any{{"embedding": zeros(512)}, {"text": "changed", "embedding": zeros(512)}} {
		testenv.WantError(t, e.Do("PUT", "/api/v1/memory/p", e.KeyA, body), 400, "INVALID_REQUEST")
	}
	r := e.Do("GET", "/api/v1/memory/p", e.KeyA, nil)
	emb, _ := r.Body["embedding"].([]any)
	if r.Body["text"] != "fine" || len(emb) != 512 || emb[1] != 1.0 {
		t.Fatalf("a refused update changed the memory: %.200s", r.Raw)
	}
	wantStartable(t, e)
}

// wantStartable loads the index from the env's database as memoryd does at
// start, and wants every vector loaded.
func wantStartable(t testing.TB, e *testenv.Env) {
	t.Helper()
	svc, _ := newService(e.Store)
	if _, err := svc.LoadIndex(context.Background()); err != nil || svc.SkippedVectors() != 0 {
		t.Fatalf("the database would not start clean: %v, %d vectors skipped", err, svc.SkippedVectors())
	}
}

// Item 4: metadata deeper or larger than the limits is refused on create
// and update; metadata filters keep working.
func TestMetadataLimits(t *testing.T) {
	e := testenv.New(t)
	ok := fmt.Sprintf(`{"id":"ok","text":"x","metadata":%s}`, deepJSON(service.MaxMetadataDepth))
	if r := e.Do("POST", "/api/v1/memory", e.KeyA, ok); r.Status != 201 {
		t.Fatalf("metadata at the depth limit: %d %s", r.Status, r.Raw)
	}
	big := fmt.Sprintf(`{"pad":%q}`, strings.Repeat("p", service.MaxMetadataBytes))
	keys := make([]string, service.MaxMetadataKeys+1)
	for i := range keys {
		keys[i] = fmt.Sprintf(`"k%03d":1`, i)
	}
	for name, md := range map[string]string{
		"33 levels":   deepJSON(service.MaxMetadataDepth + 1),
		"1200 levels": deepJSON(1200),
		"list levels": strings.Repeat(`{"l":[`, 17) + "1" + strings.Repeat("]}", 17),
		"too large":   big,
		"too many":    "{" + strings.Join(keys, ",") + "}",
	} {
		r := e.Do("POST", "/api/v1/memory", e.KeyA, `{"text":"x","metadata":`+md+`}`)
		testenv.WantError(t, r, 400, "INVALID_REQUEST")
		if name == "33 levels" && r.Body["details"].(map[string]any)["max_metadata_depth"] != float64(service.MaxMetadataDepth) {
			t.Fatalf("details do not name the limit: %s", r.Raw)
		}
		testenv.WantError(t, e.Do("PUT", "/api/v1/memory/ok", e.KeyA, `{"metadata":`+md+`}`), 400, "INVALID_REQUEST")
	}
	if n := total(e); n != 1 {
		t.Fatalf("refused metadata was stored: %v memories", n)
	}
	if r := e.Do("GET", "/api/v1/memory?metadata[leaf]=x&tags=t", e.KeyA, nil); r.Status != 200 {
		t.Fatalf("metadata filter: %d %s", r.Status, r.Raw)
	}
	r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "x", "mode": "hybrid",
		"filters": map[string]any{"metadata": map[string]any{"leaf": true}}})
	if r.Status != 200 {
		t.Fatalf("search with a metadata filter: %d %s", r.Status, r.Raw)
	}
}

// Item 5: too many filter values are a 400, not a 500, in lists and
// searches; the limit itself is accepted.
func TestFilterCountLimits(t *testing.T) {
	e := testenv.New(t)
	e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"text": "x", "metadata": map[string]any{"tags": []string{"t"}}})
	tagsQuery := func(n int) string {
		q := url.Values{}
		for i := range n {
			q.Add("tags", fmt.Sprint("t", i))
		}
		return q.Encode()
	}
	mdQuery := func(n int) string {
		q := url.Values{}
		for i := range n {
			q.Add(fmt.Sprintf("metadata[k%d]", i), "v")
		}
		return q.Encode()
	}
	for _, n := range []int{service.MaxFilterTags + 1, 1000} {
		testenv.WantError(t, e.Do("GET", "/api/v1/memory?"+tagsQuery(n), e.KeyA, nil), 400, "INVALID_REQUEST")
		testenv.WantError(t, e.Do("GET", "/api/v1/memory?"+mdQuery(n), e.KeyA, nil), 400, "INVALID_REQUEST")
		for _, mode := range []string{"semantic", "keyword", "hybrid"} {
			tags, md := make([]string, n), map[string]any{}
			for i := range n {
				tags[i] = fmt.Sprint("t", i)
				md[fmt.Sprint("k", i)] = "v"
			}
			for _, f := range []map[string]any{{"tags": tags}, {"metadata": md}} {
				r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "x", "mode": mode, "filters": f})
				testenv.WantError(t, r, 400, "INVALID_REQUEST")
			}
		}
	}
	for _, q := range []string{tagsQuery(service.MaxFilterTags), mdQuery(service.MaxFilterMetadata)} {
		if r := e.Do("GET", "/api/v1/memory?"+q, e.KeyA, nil); r.Status != 200 {
			t.Fatalf("at the limit: %d %s", r.Status, r.Raw)
		}
	}
}

// A deepObject key nested under another (which the generated binder
// panics on, in either order) or malformed is a 400 with the envelope;
// one level deep still filters.
func TestNestedObjectQueryKeys(t *testing.T) {
	e := testenv.New(t)
	e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"text": "x", "metadata": map[string]any{"a": "v"}})
	for _, q := range []string{"metadata[a]=v&metadata[a][b]=x", "metadata[a][b]=x&metadata[a]=v", "metadata[a][b]=x",
		"metadata[a]b=x", "metadata]a[=x", "[a]=x", "metadata[a=x"} {
		t.Run(q, func(t *testing.T) {
			testenv.WantError(t, e.Do("GET", "/api/v1/memory?"+q, e.KeyA, nil), 400, "INVALID_REQUEST")
		})
	}
	r := e.Do("GET", "/api/v1/memory?metadata[a]=v", e.KeyA, nil)
	if r.Status != 200 || !strings.Contains(string(r.Raw), `"a":"v"`) {
		t.Fatalf("one level deep: %d %s", r.Status, r.Raw)
	}
}

// Item 6: every id that is accepted reads back at its URL; "." and ".."
// are refused.
func TestIDsRoundTripThroughThePath(t *testing.T) {
	e := testenv.New(t)
	for _, id := range []string{".", "..", "...", "search", "a/b", "a%2Fb", "é"} {
		testenv.WantError(t, e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"id": id, "text": "x"}), 400, "INVALID_REQUEST")
	}
	for _, id := range []string{"a.b", ".a", "a..", "searches", "Search", "tickets", "x:y-z_0", strings.Repeat("i", service.MaxIDLength)} {
		if r := e.Do("POST", "/api/v1/memory", e.KeyA, map[string]any{"id": id, "text": "x"}); r.Status != 201 {
			t.Fatalf("create %q: %d %s", id, r.Status, r.Raw)
		}
		if r := e.Do("GET", "/api/v1/memory/"+url.PathEscape(id), e.KeyA, nil); r.Status != 200 || r.Body["id"] != id {
			t.Fatalf("read back %q: %d %s", id, r.Status, r.Raw)
		}
		if r := e.Do("DELETE", "/api/v1/memory/"+url.PathEscape(id), e.KeyA, nil); r.Status != 200 {
			t.Fatalf("delete %q: %d %s", id, r.Status, r.Raw)
		}
	}
	if n := total(e); n != 0 {
		t.Fatalf("%v memories left", n)
	}
}

// Item 6: strings are refused, never rewritten: U+0000 (which PostgreSQL
// cannot keep) in bodies and query strings, and bytes that are not UTF-8
// in query strings.
func TestInvalidTextIsRefused(t *testing.T) {
	e := testenv.New(t)
	for _, body := range []string{`{"text":"nul \u0000"}`, `{"text":"x","metadata":{"k":["\u0000"]}}`} {
		testenv.WantError(t, e.Do("POST", "/api/v1/memory", e.KeyA, body), 400, "INVALID_REQUEST")
	}
	if n := total(e); n != 0 {
		t.Fatalf("%v memories stored from invalid text", n)
	}
	testenv.WantError(t, e.Do("GET", "/api/v1/memory?tags=%FF", e.KeyA, nil), 400, "INVALID_REQUEST")
	testenv.WantError(t, e.Do("GET", "/api/v1/memory?metadata[k]=%00", e.KeyA, nil), 400, "INVALID_REQUEST")
}

// Item 6: a JSON body whose strings encoding/json would rewrite to U+FFFD
// (bytes that are not UTF-8, lone surrogate escapes) is refused; a U+FFFD
// the client sent is kept.
func TestInvalidUTF8BodyIsRefused(t *testing.T) {
	e := testenv.New(t)
	for _, body := range []string{
		"{\"text\":\"bad \xff byte\"}",
		"{\"text\":\"x\",\"metadata\":{\"k\xfe\":1}}",
		`{"text":"lone \ud800 surrogate"}`,
		`{"text":"x","metadata":{"k":"\udc00"}}`,
	} {
		testenv.WantError(t, e.Do("POST", "/api/v1/memory", e.KeyA, body), 400, "INVALID_REQUEST")
	}
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/search", e.KeyA, "{\"query\":\"\xff\"}"), 400, "INVALID_REQUEST")
	if n := total(e); n != 0 {
		t.Fatalf("%v memories stored from invalid UTF-8", n)
	}
	r := e.Do("POST", "/api/v1/memory", e.KeyA, `{"id":"r","text":"kept \ufffd \ud83d\ude00"}`)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	if r := e.Do("GET", "/api/v1/memory/r", e.KeyA, nil); r.Body["text"] != "kept \ufffd \U0001F600" {
		t.Fatalf("read back: %s", r.Raw)
	}
}

// Item 6: the query is bounded at the door, and search.performed carries
// at most MaxEventQueryBytes of it.
func TestSearchQueryLimits(t *testing.T) {
	e := testenv.New(t)
	long := strings.Repeat("word ", service.MaxQueryChars/5+1)
	testenv.WantError(t, e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": long}), 400, "INVALID_REQUEST")
	q := long[:service.MaxQueryChars]
	if r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": q, "mode": "hybrid"}); r.Status != 200 || r.Body["query"] != q {
		t.Fatalf("search at the limit: %d %.300s", r.Status, r.Raw)
	}
	evs, err := e.Store.ReadEvents(context.Background(), "a", 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events: %v %d", err, len(evs))
	}
	if !strings.Contains(string(evs[0].Payload), `"query":"`+q[:service.MaxEventQueryBytes]+`"`) || len(evs[0].Payload) > 2*service.MaxEventQueryBytes {
		t.Fatalf("search.performed carries %d bytes: %.200s", len(evs[0].Payload), evs[0].Payload)
	}
}

// Item 6: the AsyncAPI document is served where the API says.
func TestAsyncAPIDocumentIsServed(t *testing.T) {
	e := testenv.New(t)
	r := e.Do("GET", "/api/v1/asyncapi.yaml", "", nil)
	if r.Status != 200 || !strings.Contains(string(r.Raw), "asyncapi: 3") || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("asyncapi.yaml: %d %q %.100s", r.Status, r.Header.Get("Content-Type"), r.Raw)
	}
	r = e.Do("GET", "/api/v1/ready", "", nil)
	if checks, _ := r.Body["checks"].(map[string]any); r.Status != 200 || checks["vector_index"] != "ok" {
		t.Fatalf("ready: %d %s", r.Status, r.Raw)
	}
}

// An embedding item that is not a number is 400 and stores nothing,
// whichever validator reads the body: a null sends it to the one that
// checks every item, the others are refused by the decoder after the one
// that checks only the length (strictJSON).
func TestEmbeddingItemsThatAreNotNumbers(t *testing.T) {
	e := testenv.New(t)
	for _, bad := range []any{nil, true, "0.5", []any{0.5}, map[string]any{"x": 1}, 1e39} {
		vec := make([]any, 512)
		for i := range vec {
			vec[i] = 0.01
		}
		vec[7] = bad
		for _, req := range []struct{ method, path string }{{"POST", "/api/v1/memory"}, {"POST", "/api/v1/memory/search"}, {"POST", "/api/v1/memory/batch"}} {
			body := map[string]any{"id": "n", "text": "not a number", "embedding": vec}
			switch req.path {
			case "/api/v1/memory/search":
				body = map[string]any{"embedding": vec, "mode": "semantic"}
			case "/api/v1/memory/batch":
				body = map[string]any{"memories": []any{body}}
			}
			r := e.Do(req.method, req.path, e.KeyA, body)
			if r.Status != 400 || r.Body["error"] != "INVALID_REQUEST" {
				t.Fatalf("%s %s with embedding item %#v: %d %.300s, want 400 INVALID_REQUEST", req.method, req.path, bad, r.Status, r.Raw)
			}
		}
	}
	if n := total(e); n != 0 {
		t.Fatalf("refused requests stored %v memories", n)
	}
}

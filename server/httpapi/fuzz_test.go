package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
)

// The fuzz targets send arbitrary input through the real listening server
// and then check what a bad input could have broken for later requests,
// not only its own answer: a request answered 400 that still stored a row
// the index cannot load, or metadata no filter can read, breaks the
// workspace or the next start. After every input:
//
//   - no answer is a 5xx, and every answer matches the OpenAPI document;
//   - every stored memory reads back at its URL;
//   - lists and searches with tag and metadata filters answer 200;
//   - the database starts: the index loads (as at start) skipping nothing.
//
// (The last three only after an input that changed a memory; see
// changedMemories.) Then the database is put back as it was (the pinned memory alone), so
// each input starts from the same small database and one failing input
// does not fail the next.

// pinnedID is a memory every fuzz server holds: the update target, and a
// row for every filter to evaluate.
const pinnedID = "pinned"

func newFuzzEnv(f *testing.F) *testenv.Env {
	e := testenv.New(f, testenv.WithMaxTextBytes(2000))
	resetStore(f, e)
	return e
}

// resetStore deletes every memory of workspace a straight in the store
// (an input may have stored one the API cannot reach) and writes the
// pinned memory afresh.
func resetStore(t testing.TB, e *testenv.Env) {
	t.Helper()
	ctx := context.Background()
	page, err := e.Store.ListMemories(ctx, "a", memoryd.ListQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	noEvent := func(*memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: "a", Type: memoryd.EventMemoryDeleted, Payload: []byte(`{}`), CreatedAt: time.Now()}, nil
	}
	for _, m := range page.Memories {
		if _, err := e.Store.DeleteMemory(ctx, "a", m.ID, noEvent); err != nil {
			t.Fatal(err)
		}
	}
	vec := make([]float32, 512)
	vec[0] = 1
	now := time.Now().UTC()
	pinned := &memoryd.Memory{ID: pinnedID, Workspace: "a", Text: "pinned memory", Embedding: vec, EmbeddingModel: "client",
		Metadata:  map[string]any{"tags": []any{"pinned"}, "k": "v", "nested": map[string]any{"a": []any{1.0, "b"}}},
		CreatedAt: now, UpdatedAt: now}
	if _, _, err := e.Store.PutMemory(ctx, pinned, noEvent); err != nil {
		t.Fatal(err)
	}
}

// fuzzBody sends each input to method path and checks the invariants.
func fuzzBody(f *testing.F, method, path string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		e.T = t // one input at a time per process
		before := lastSeq(t, e)
		if r := e.Do(method, path, e.KeyA, body); r.Status >= 500 {
			t.Fatalf("%s %s %q -> %d %s", method, path, body, r.Status, r.Raw)
		}
		if changedMemories(t, e, before) {
			t.Cleanup(func() { resetStore(t, e) })
			checkInvariants(t, e)
		}
	})
}

func lastSeq(t testing.TB, e *testenv.Env) int64 {
	_, last, err := e.Store.EventBounds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// changedMemories reports whether a memory changed since the log position
// after: every change appends its event in the same transaction, whatever
// the request's answer was. An input that changed nothing cannot have
// broken what held before it, so the invariants are checked only after
// changes; most inputs change nothing, and the fuzzer runs more of them.
func changedMemories(t testing.TB, e *testenv.Env, after int64) bool {
	evs, err := e.Store.ReadEvents(context.Background(), "", after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.HasPrefix(ev.Type, "memory.") {
			return true
		}
	}
	return false
}

// checkInvariants checks what no input may break.
func checkInvariants(t *testing.T, e *testenv.Env) {
	t.Helper()
	readAll(t, e)
	if r := e.Do("GET", "/api/v1/memory?tags=pinned&metadata[k]=v&type=t", e.KeyA, nil); r.Status != 200 {
		t.Fatalf("filtered list after the input: %d %s", r.Status, r.Raw)
	}
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		r := e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "pinned memory", "mode": mode,
			"filters": map[string]any{"tags": []string{"pinned"}, "metadata": map[string]any{"k": "v"}}})
		if r.Status != 200 {
			t.Fatalf("filtered %s search after the input: %d %s", mode, r.Status, r.Raw)
		}
	}
	wantStartable(t, e)
}

// readAll lists every memory of the workspace and reads each back at its
// URL.
func readAll(t *testing.T, e *testenv.Env) {
	t.Helper()
	cursor := ""
	for {
		r := e.Do("GET", "/api/v1/memory?limit=100&cursor="+url.QueryEscape(cursor), e.KeyA, nil)
		if r.Status != 200 {
			t.Fatalf("list after the input: %d %s", r.Status, r.Raw)
		}
		for _, m := range r.Body["memories"].([]any) {
			id := m.(map[string]any)["id"].(string)
			if g := e.Do("GET", "/api/v1/memory/"+url.PathEscape(id), e.KeyA, nil); g.Status != 200 || g.Body["id"] != id {
				t.Fatalf("memory %q does not read back at its URL: %d %s", id, g.Status, g.Raw)
			}
		}
		next, _ := r.Body["next_cursor"].(string)
		if next == "" {
			return
		}
		cursor = next
	}
}

// vectorJSON is a JSON array of n copies of v.
func vectorJSON(n int, v string) string {
	return "[" + strings.TrimSuffix(strings.Repeat(v+",", n), ",") + "]"
}

// Seeds shared by the targets: the inputs that broke memoryd before
// (a zero vector, metadata over 1,000 levels deep, ~1,000 filter values,
// ids that do not round-trip) and their neighbours at the limits.
var (
	zeroVector = vectorJSON(512, "0")
	unitVector = "[1," + strings.TrimPrefix(vectorJSON(511, "0"), "[")
	deep1200   = deepJSON(1200) // SQLite's JSON functions stop at 1,000
	deep33     = deepJSON(33)
	tags1000   = `["` + strings.TrimSuffix(strings.Repeat(`t","`, 1000), `","`) + `"]`
)

func metadata1000() string {
	kv := make([]string, 1000)
	for i := range kv {
		kv[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return "{" + strings.Join(kv, ",") + "}"
}

func FuzzCreateMemoryBody(f *testing.F) {
	fuzzBody(f, "POST", "/api/v1/memory",
		`{"text":"hello"}`, `{"text":"x","metadata":{"type":"a","tags":["b"],"timestamp":"2024-01-15T10:30:00Z"}}`,
		`{"id":"m1","text":"x","embedding":[0.1,0.2]}`, `{"text":"\u0000"}`, `{"text":1e400}`, `[]`, `null`,
		`{"text":"x","embedding":[1e39]}`, `{"text":"x","metadata":{"a":{"b":[1,{"c":null}]}}}`,
		`{"text":"zero","embedding":`+zeroVector+`}`, `{"id":"z","text":"zero","embedding":`+zeroVector+`}`,
		`{"text":"unit","embedding":`+unitVector+`}`,
		`{"text":"deep","metadata":`+deep1200+`}`, `{"text":"deep","metadata":`+deep33+`}`,
		`{"id":".","text":"x"}`, `{"id":"..","text":"x"}`, `{"id":"search","text":"x"}`,
		`{"id":"`+pinnedID+`","text":"x","embedding":`+zeroVector+`}`,
		`{"text":"x","metadata":{"k":"\u0000"}}`, "{\"text\":\"\xff\"}", `{"text":"\ud800"}`,
		`{"text":"x","metadata":{"tags":`+tags1000+`}}`)
}

func FuzzUpdateMemoryBody(f *testing.F) {
	fuzzBody(f, "PUT", "/api/v1/memory/"+pinnedID,
		`{"text":"y"}`, `{"metadata":{"tags":["a"],"k":"v"}}`, `{"embedding":`+unitVector+`}`,
		`{"embedding":`+zeroVector+`}`, `{"text":"y","embedding":`+zeroVector+`}`,
		`{"metadata":`+deep1200+`}`, `{"metadata":`+deep33+`}`, `{"metadata":{"type":1}}`,
		`{"metadata":{"k":"\u0000"}}`, `{}`, `null`, `{"text":"\udfff"}`)
}

func FuzzSearchBody(f *testing.F) {
	fuzzBody(f, "POST", "/api/v1/memory/search",
		`{"query":"hello"}`, `{"query":"x","mode":"hybrid","filters":{"tags":["a"],"metadata":{"k":1}}}`,
		`{"query":"\"AND OR NEAR(\" *"}`, `{"embedding":[0.5],"limit":100}`, `{"query":"x","threshold":-1}`,
		`{"embedding":`+zeroVector+`}`, `{"embedding":`+unitVector+`,"filters":{"metadata":{"k":"v"}}}`,
		`{"query":"x","filters":{"tags":`+tags1000+`}}`, `{"query":"x","mode":"keyword","filters":{"metadata":`+metadata1000()+`}}`,
		`{"query":"x","filters":{"metadata":{"k":`+deep33+`}}}`, `{"query":"x","filters":{"metadata":{"a\\":"v"}}}`,
		`{"query":"`+strings.Repeat("q", 5000)+`"}`, `{"query":"\u0000"}`)
}

// FuzzListQuery sends arbitrary query strings to GET /memory: no 5xx, and
// every answer matches the OpenAPI document.
func FuzzListQuery(f *testing.F) {
	tags := url.Values{}
	md := url.Values{}
	for i := range 1000 {
		tags.Add("tags", fmt.Sprint("t", i))
		md.Add(fmt.Sprintf("metadata[k%d]", i), "v")
	}
	for _, s := range []string{"", "limit=5", "tags=pinned&tags=b", "metadata[k]=v", "metadata[nested]=x",
		"metadata[a][b]=c", `metadata[a\]=x`, `metadata[\u0041]=x`, "metadata[k]=%00", "tags=%FF",
		"type=t&source=s&created_after=2024-01-01T00:00:00Z&created_before=2030-01-01T00:00:00Z",
		"cursor=abc", "cursor=" + strings.Repeat("c", 600), "limit=100&include_embedding=true",
		tags.Encode(), md.Encode()} {
		f.Add(s)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, query string) {
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return // not a request line: net/http answers it before memoryd does
		}
		u, err := url.Parse(e.URL + "/api/v1/memory")
		if err != nil {
			t.Fatal(err)
		}
		u.RawQuery = query
		req, err := http.NewRequestWithContext(context.Background(), "GET", u.String(), nil)
		if err != nil {
			return // not a URL a client can send
		}
		req.Header.Set("Authorization", "Bearer "+e.KeyA)
		res, err := e.HTTP.Do(req)
		if err != nil {
			return // refused by the client (control characters)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode >= 500 {
			t.Fatalf("GET /memory?%s -> %d %s", query, res.StatusCode, raw)
		}
		testenv.CheckResponse(t, req, res, raw)
	})
}

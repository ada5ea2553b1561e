package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/weaviatetest"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

// waitLimit only guards against a hang; nothing asserts on timing.
const waitLimit = 90 * time.Second

// vectorsURL is --vectors for w, with a short request limit so the
// outage answers promptly.
func vectorsURL(w *weaviatetest.Server) string {
	return "weaviate://" + w.Host() + "?grpc=" + w.GRPCHost() + "&timeout=5s"
}

// call sends a JSON request to base+path with key and returns the status,
// the headers and the decoded body.
func call(t *testing.T, base, key, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, res.Header, out
}

// search runs a search and returns the status, headers and hit ids.
func search(t *testing.T, base, key, mode, query string, filters map[string]any) (int, http.Header, []string) {
	t.Helper()
	body := map[string]any{"query": query, "mode": mode, "threshold": 0.99}
	if filters != nil {
		body["filters"] = filters
	}
	status, hdr, out := call(t, base, key, "POST", "/memory/search", body)
	ids := []string{}
	results, _ := out["results"].([]any)
	for _, r := range results {
		m := r.(map[string]any)["memory"].(map[string]any)
		ids = append(ids, m["id"].(string))
	}
	return status, hdr, ids
}

func create(t *testing.T, base, key, id, text string, metadata map[string]any) {
	t.Helper()
	body := map[string]any{"id": id, "text": text}
	if metadata != nil {
		body["metadata"] = metadata
	}
	if status, _, out := call(t, base, key, "POST", "/memory", body); status != http.StatusCreated {
		t.Fatalf("create %s: %d %v, want 201", id, status, out)
	}
}

// storedCount is the workspace's memory count as the API lists it.
func storedCount(t *testing.T, base, key string) int {
	t.Helper()
	status, _, out := call(t, base, key, "GET", "/memory?limit=1", nil)
	total, ok := out["total"].(float64)
	if status != http.StatusOK || !ok {
		t.Fatalf("list: %d %v", status, out)
	}
	return int(total)
}

// indexedCount is the number of vectors Weaviate holds for ws.
func indexedCount(t *testing.T, w *weaviatetest.Server, ws string) int {
	t.Helper()
	x, err := weaviate.Open(weaviate.Config{Host: w.Host(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n, err := x.Count(ws)
	if err != nil {
		t.Fatalf("count in Weaviate: %v", err)
	}
	return n
}

// until retries check until it returns "" (or fails the test with its
// last answer after waitLimit).
func until(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s after %v (waitLimit)", what, msg, waitLimit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// memoryd on Weaviate: semantic search under filters; Weaviate stopped,
// writes still succeed, semantic and hybrid search answer 503 with
// Retry-After, keyword search works, /ready and system.health report the
// vector index; Weaviate back, the write made meanwhile is found and the
// counts agree.
func TestWeaviateBackedServer(t *testing.T) {
	w := weaviatetest.Start(t)
	base, out, stop := startWith(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "m.db"), "--embedder", "hash",
		"--hash-dims", "64", "--vectors", vectorsURL(w), "--stream-snapshot-interval", "100ms")
	defer stop()
	key := firstKey(t, out.String())
	health := openHealth(t, base, key)

	const note, task = "amber lighthouse keeper paints stairs", "amber lighthouse keeper paints doors"
	create(t, base, key, "note-1", note, map[string]any{"type": "note", "tags": []string{"x"}})
	create(t, base, key, "task-1", task, map[string]any{"type": "task"})
	if _, _, ids := search(t, base, key, "semantic", note, nil); !slices.Equal(ids, []string{"note-1"}) {
		t.Fatalf("semantic search right after the write found %v, want [note-1]", ids)
	}
	body := map[string]any{"query": note, "mode": "semantic", "limit": 1, "filters": map[string]any{"type": "task"}}
	if status, _, res := call(t, base, key, "POST", "/memory/search", body); status != http.StatusOK ||
		fmt.Sprint(res["results"].([]any)[0].(map[string]any)["memory"].(map[string]any)["id"]) != "task-1" {
		t.Fatalf("semantic search filtered to type task, limit 1: %d %v, want task-1 (filtered before ranking)", status, res)
	}
	if _, _, ids := search(t, base, key, "semantic", note, map[string]any{"tags": []string{"x"}, "type": "note"}); !slices.Equal(ids, []string{"note-1"}) {
		t.Fatalf("semantic search filtered by tag and type found %v, want [note-1]", ids)
	}
	health("healthy", "healthy")

	w.Halt()
	const during = "violet submarine cook sings loudly"
	create(t, base, key, "during", during, nil)
	for _, mode := range []string{"semantic", "hybrid"} {
		status, hdr, out := call(t, base, key, "POST", "/memory/search", map[string]any{"query": during, "mode": mode})
		if status != http.StatusServiceUnavailable || out["error"] != "UNAVAILABLE" || out["message"] == nil || hdr.Get("Retry-After") == "" {
			t.Fatalf("%s search with Weaviate down: %d %v Retry-After %q, want 503 UNAVAILABLE with Retry-After", mode, status, out, hdr.Get("Retry-After"))
		}
	}
	kw := map[string]any{"query": "violet submarine", "mode": "keyword"}
	if status, _, out := call(t, base, key, "POST", "/memory/search", kw); status != http.StatusOK ||
		!strings.Contains(fmt.Sprint(out["results"]), "id:during") {
		t.Fatalf("keyword search with Weaviate down: %d %v, want 200 finding the memory", status, out)
	}
	status, _, ready := call(t, base, key, "GET", "/ready", nil)
	if checks, _ := ready["checks"].(map[string]any); status != http.StatusServiceUnavailable || checks["vector_index"] != "unavailable" {
		t.Fatalf("/ready with Weaviate down: %d %v, want 503 with checks.vector_index unavailable", status, ready)
	}
	health("unhealthy", "degraded")

	if err := w.Resume(); err != nil {
		t.Fatal(err)
	}
	until(t, "the memory written during the outage", func() string {
		status, _, ids := search(t, base, key, "semantic", during, nil)
		if status == http.StatusOK && slices.Equal(ids, []string{"during"}) {
			return ""
		}
		return fmt.Sprintf("%d %v", status, ids)
	})
	if got, want := indexedCount(t, w, "default"), storedCount(t, base, key); got != want {
		t.Fatalf("Weaviate holds %d vectors of the workspace, the database %d memories", got, want)
	}
	if status, _, _ := call(t, base, key, "GET", "/ready", nil); status != http.StatusOK {
		t.Fatalf("/ready after Weaviate came back: %d", status)
	}
	health("healthy", "healthy")
}

// A database with memories and an empty Weaviate (new, or wiped): the
// start re-indexes the database into it, with the filter attributes, and
// a restart on the same Weaviate finds it complete.
func TestWeaviateFilledAtStart(t *testing.T) {
	w := weaviatetest.Start(t)
	db := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	base, out, stop := start(t, db) // the in-process index
	key := firstKey(t, out.String())
	const n = 30
	for i := range n {
		create(t, base, key, fmt.Sprintf("m-%02d", i), fmt.Sprintf("memory number %d of the set quartz%d", i, i),
			map[string]any{"type": []string{"even", "odd"}[i%2]})
	}
	stop()

	for run := range 2 {
		base, _, stop := startWith(t, "--db", db, "--embedder", "hash", "--vectors", vectorsURL(w))
		if got := indexedCount(t, w, "default"); got != n {
			t.Fatalf("start %d: Weaviate holds %d vectors, the database %d", run+1, got, n)
		}
		if _, _, ids := search(t, base, key, "semantic", "memory number 7 of the set quartz7", nil); !slices.Equal(ids, []string{"m-07"}) {
			t.Fatalf("start %d: search found %v, want [m-07]", run+1, ids)
		}
		// The filter attributes were written with the vectors.
		body := map[string]any{"query": "memory number 7 of the set quartz7", "mode": "semantic", "limit": 1, "filters": map[string]any{"type": "even"}}
		if status, _, res := call(t, base, key, "POST", "/memory/search", body); status != http.StatusOK ||
			!strings.Contains(fmt.Sprint(res["results"]), "type:even") {
			t.Fatalf("start %d: filtered search: %d %v, want an even memory", run+1, status, res)
		}
		stop()
	}
}

// Weaviate away when memoryd starts: memoryd serves (writes stored,
// semantic search 503), and once Weaviate answers it is brought in line
// with the database, then follows the log.
func TestWeaviateAwayAtStart(t *testing.T) {
	w := weaviatetest.Start(t)
	db := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	base, out, stop := start(t, db) // the in-process index
	key := firstKey(t, out.String())
	create(t, base, key, "before", "written before the switch to weaviate", nil)
	stop()

	w.Halt()
	base, _, stop = startWith(t, "--db", db, "--embedder", "hash", "--vectors", vectorsURL(w))
	defer stop()
	create(t, base, key, "during", "written while weaviate is away", nil)
	if status, hdr, _ := search(t, base, key, "semantic", "written while weaviate is away", nil); status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("semantic search with Weaviate away: %d, Retry-After %q; want 503 with Retry-After", status, hdr.Get("Retry-After"))
	}
	if err := w.Resume(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ id, text string }{{"before", "written before the switch to weaviate"}, {"during", "written while weaviate is away"}} {
		until(t, "search for "+m.id, func() string {
			if status, _, ids := search(t, base, key, "semantic", m.text, nil); status != http.StatusOK || !slices.Equal(ids, []string{m.id}) {
				return fmt.Sprintf("%d %v", status, ids)
			}
			return ""
		})
	}
	if got := indexedCount(t, w, "default"); got != 2 {
		t.Fatalf("Weaviate holds %d vectors, the database 2", got)
	}
}

// Weaviate wiped while memoryd runs (its collection deleted): the node
// that feeds it notices and re-indexes the database into it, without a
// restart, and the wiped memories are searchable again.
func TestWeaviateWipedWhileRunning(t *testing.T) {
	w := weaviatetest.Start(t)
	base, out, stop := startWith(t, "--db", "sqlite://"+filepath.Join(t.TempDir(), "m.db"), "--embedder", "hash",
		"--hash-dims", "64", "--vectors", vectorsURL(w))
	defer stop()
	key := firstKey(t, out.String())
	const n = 20
	for i := range n {
		create(t, base, key, fmt.Sprintf("m-%02d", i), fmt.Sprintf("memory number %d of the set jade%d", i, i), nil)
	}
	if got := indexedCount(t, w, "default"); got != n {
		t.Fatalf("Weaviate holds %d vectors before the wipe, want %d", got, n)
	}
	x, err := weaviate.Open(weaviate.Config{Host: w.Host(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// memoryd may notice the wipe and start re-indexing at once, so the
	// wipe shows in the objects' creation times, not in a count of 0.
	wiped := time.Now().UnixMilli()
	if err := x.Client().Schema().ClassDeleter().WithClassName(weaviate.DefaultClass).Do(t.Context()); err != nil {
		t.Fatal(err)
	}
	until(t, "the re-index after the wipe", func() string {
		// Counting may fail while the collection is being made again.
		if got, err := x.Count("default"); err != nil || got != n {
			return fmt.Sprintf("%d vectors in Weaviate (%v)", got, err)
		}
		return ""
	})
	objs, err := x.Client().Data().ObjectsGetter().WithClassName(weaviate.DefaultClass).WithTenant("default").
		WithLimit(2 * n).Do(t.Context())
	if err != nil || len(objs) != n {
		t.Fatalf("objects after the re-index: %d (%v), want %d", len(objs), err, n)
	}
	for _, o := range objs {
		if o.CreationTimeUnix < wiped {
			t.Fatalf("object %s was created %d ms before the wipe: it was not re-indexed", o.ID, wiped-o.CreationTimeUnix)
		}
	}
	if _, _, ids := search(t, base, key, "semantic", "memory number 7 of the set jade7", nil); !slices.Equal(ids, []string{"m-07"}) {
		t.Fatalf("search after the re-index found %v, want [m-07]", ids)
	}
}

package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// newService is the service as memoryd starts it (hash embedder,
// in-process index) over st, not yet loaded.
func newService(st service.Store) (*service.Service, *slog.Logger) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := service.New(st, memindex.New(), hash.New(512), service.WithLogger(log))
	if err != nil {
		panic(err) // the options are constants
	}
	return svc, log
}

// A database that already holds a bad row (a zero vector, as the issue's
// request left) starts: the row is skipped, /ready reports it, and every
// memory, the bad one included, is served.
func TestStartOverABadRowServesAndReportsIt(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "memoryd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC()
	good := make([]float32, 512)
	good[2] = 1
	for id, vec := range map[string][]float32{"bad": make([]float32, 512), "good": good} {
		m := &memoryd.Memory{ID: id, Workspace: "a", Text: id + " memory", Embedding: vec, EmbeddingModel: "client",
			CreatedAt: now, UpdatedAt: now}
		_, _, err := st.PutMemory(ctx, m, func(*memoryd.Memory) (*memoryd.Event, error) {
			return &memoryd.Event{Workspace: "a", Type: memoryd.EventMemoryCreated, Payload: []byte(`{}`), CreatedAt: now}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	svc, log := newService(st)
	if n, err := svc.LoadIndex(ctx); err != nil || n != 1 {
		t.Fatalf("LoadIndex: %d %v", n, err)
	}
	h, err := httpapi.New(httpapi.Config{}, svc, st, auth.NewAuthenticator(st), ratelimit.New(ratelimit.DefaultLimits()), log).Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &testenv.Env{T: t, Store: st, Srv: srv, URL: srv.URL, HTTP: srv.Client()}
	e.KeyA = e.NewKey(memoryd.TierUnlimited, "a")

	r := e.Do("GET", "/api/v1/ready", "", nil)
	if checks, _ := r.Body["checks"].(map[string]any); r.Status != 200 || checks["vector_index"] != "skipped 1" {
		t.Fatalf("ready: %d %s", r.Status, r.Raw)
	}
	for _, id := range []string{"bad", "good"} {
		if r := e.Do("GET", "/api/v1/memory/"+id, e.KeyA, nil); r.Status != 200 {
			t.Fatalf("get %s: %d %s", id, r.Status, r.Raw)
		}
	}
	r = e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"query": "good memory", "mode": "hybrid"})
	if r.Status != 200 || len(r.Body["results"].([]any)) == 0 {
		t.Fatalf("search: %d %s", r.Status, r.Raw)
	}
	r = e.Do("POST", "/api/v1/memory/search", e.KeyA, map[string]any{"embedding": good, "limit": 1})
	res, _ := r.Body["results"].([]any)
	if r.Status != 200 || len(res) != 1 || res[0].(map[string]any)["memory"].(map[string]any)["id"] != "good" {
		t.Fatalf("search by vector: %d %s", r.Status, r.Raw)
	}
}

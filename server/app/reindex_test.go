package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/weaviatetest"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

// seedMemories writes n memories per workspace through the service (on the
// in-process index, so Weaviate learns nothing of them), alternating the
// types note and task.
func seedMemories(t *testing.T, dsn string, n map[string]int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := service.New(st, memindex.New(), hash.New(64))
	if err != nil {
		t.Fatal(err)
	}
	for ws, count := range n {
		for i := range count {
			typ := []string{"note", "task"}[i%2]
			in := service.PutInput{ID: fmt.Sprintf("%s-%d", ws, i), Text: fmt.Sprintf("%s memory %d about harbour %s", ws, i, typ),
				Metadata: map[string]any{"type": typ}}
			if _, err := svc.Put(ctx, service.Actor{Workspace: ws, User: "t"}, in); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// memoryd reindex fills an empty Weaviate from the database, removes a
// vector the database does not hold, reports its progress and summary,
// and a filtered semantic search on Weaviate then finds the memories.
func TestReindexFillsWeaviate(t *testing.T) {
	w := weaviatetest.Start(t)
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	stored := map[string]int{"alpha": 603, "beta": 7}
	seedMemories(t, dsn, stored)

	x, err := weaviate.Open(weaviate.Config{Host: w.Host(), Dims: 64, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	vec := make([]float32, 64)
	vec[0] = 1
	ghost := &memoryd.Memory{ID: "ghost", Workspace: "beta", Embedding: vec}
	if err := x.UpsertMemories("beta", []*memoryd.Memory{ghost}); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	args := []string{"--db", dsn, "--embedder", "hash", "--hash-dims", "64", "--vectors", vectorsURL(w)}
	if err := RunReindex(context.Background(), append(args, "--workspace", "beta"), &stdout, &stderr); err != nil {
		t.Fatalf("reindex --workspace beta: %v\n%s", err, stderr.String())
	}
	if a, b := countOf(x, "alpha"), countOf(x, "beta"); a != 0 || b != 7 ||
		!strings.Contains(stdout.String(), "7 vectors written, 1 removed") {
		t.Fatalf("reindex --workspace beta: alpha %d, beta %d vectors, %q; want 0, 7, and the ghost removed", a, b, stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	if err := RunReindex(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("reindex: %v\n%s", err, stderr.String())
	}
	for ws, n := range stored {
		if got, err := x.Count(ws); err != nil || got != n {
			t.Errorf("Weaviate holds %d vectors of %s (%v), want the database's %d", got, ws, err, n)
		}
	}
	want := "reindex done: 610 vectors written, 0 removed, 0 skipped"
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q lacks the summary %q", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "reindex progress") || !strings.Contains(stderr.String(), "total=610") {
		t.Errorf("stderr (not a terminal) lacks the progress log line:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "\r") {
		t.Errorf("stderr is not a terminal but got a redrawn bar")
	}
	checkFilteredSearch(t, dsn, x)
}

func countOf(x *weaviate.Index, ws string) int {
	n, err := x.Count(ws)
	if err != nil {
		return -1
	}
	return n
}

// checkFilteredSearch runs a semantic search filtered to type task on the
// Weaviate index: the top hit must be the task whose text is the query.
func checkFilteredSearch(t *testing.T, dsn string, x *weaviate.Index) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := service.New(st, x, hash.New(64))
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Search(ctx, service.Actor{Workspace: "alpha", User: "t"}, service.SearchQuery{
		Query: "alpha memory 7 about harbour task", Mode: service.ModeSemantic, Limit: 3, Filter: memoryd.Filter{Type: "task"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 3 || res.Hits[0].Memory.ID != "alpha-7" {
		t.Fatalf("filtered semantic search after reindex: %d hits, want 3 with alpha-7 first", len(res.Hits))
	}
	for _, h := range res.Hits {
		if h.Memory.Type() != "task" {
			t.Errorf("hit %s of type %q under a type=task filter", h.Memory.ID, h.Memory.Type())
		}
	}
}

// Without --vectors there is nothing to re-index: a usage error (exit 2)
// that explains why; --workspace limits the pass.
func TestReindexArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := RunReindex(context.Background(), []string{"--db", "sqlite://" + filepath.Join(t.TempDir(), "m.db")}, &stdout, &stderr)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "in-process") {
		t.Fatalf("reindex without --vectors: %v, want a usage error about the in-process index", err)
	}
	if err := RunReindex(context.Background(), []string{"--vectors", "http://w:1"}, &stdout, &stderr); !errors.As(err, &ue) {
		t.Fatalf("reindex --vectors http://...: %v, want a usage error", err)
	}
	if err := RunReindex(context.Background(), []string{"-h"}, &stdout, &stderr); err != nil ||
		!strings.Contains(stdout.String(), "usage: memoryd reindex") || !strings.Contains(stdout.String(), "MEMORYD_WORKSPACE") {
		t.Fatalf("reindex -h: %v\n%s", err, stdout.String())
	}
}

package service_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// putRow writes a memory straight into the store, as an older memoryd (or
// a hand edit) could have, bypassing every check of the service.
func putRow(t *testing.T, st memoryd.MemoryStore, ws, id string, vec []float32) {
	t.Helper()
	now := time.Now().UTC()
	m := &memoryd.Memory{ID: id, Workspace: ws, Text: "memory " + id, Embedding: vec, EmbeddingModel: "client",
		CreatedAt: now, UpdatedAt: now}
	_, _, err := st.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: ws, Type: memoryd.EventMemoryCreated, Payload: []byte(`{}`), CreatedAt: now}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A database that already holds rows the index cannot rank starts: each
// bad row is logged with its workspace, id and reason, skipped and
// counted, and every other memory is served, by search as well.
func TestLoadIndexSkipsBadRowsAndServesTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	st := openStore(t, path)
	nan := unit(3)
	nan[9] = float32(math.NaN())
	inf := unit(3)
	inf[0] = float32(math.Inf(1))
	bad := map[string][]float32{"zero": make([]float32, dims), "nan": nan, "inf": inf, "short": unit(3)[:7]}
	good := map[string]int{}
	for i, ws := range []string{"w", "other"} {
		for j := range 3 {
			id := fmt.Sprintf("good-%s-%d", ws, j)
			putRow(t, st, ws, id, unit(10*i+j))
			good[ws+"/"+id] = 10*i + j
		}
		for name, vec := range bad {
			putRow(t, st, ws, "bad-"+name, vec)
		}
	}
	st.Close()

	// The start: the store reopened, the index loaded as app.Run does.
	st = openStore(t, path)
	svc, log := newService(st)
	n, err := svc.LoadIndex(context.Background())
	if err != nil {
		t.Fatalf("LoadIndex: %v", err)
	}
	if n != len(good) || svc.SkippedVectors() != int64(2*len(bad)) {
		t.Fatalf("loaded %d, skipped %d; want %d and %d", n, svc.SkippedVectors(), len(good), 2*len(bad))
	}
	for _, ws := range []string{"w", "other"} {
		for name := range bad {
			if want := "workspace=" + ws + " id=bad-" + name + " reason="; !strings.Contains(log.String(), want) {
				t.Errorf("no log line with %q:\n%s", want, log)
			}
		}
	}
	if !strings.Contains(log.String(), "the embedder's is 512") {
		t.Errorf("the dimension row's reason does not say the dimensions:\n%s", log)
	}
	ctx := context.Background()
	for key, axis := range good {
		ws, id, _ := strings.Cut(key, "/")
		a := service.Actor{Workspace: ws, User: "u"}
		res, err := svc.Search(ctx, a, service.SearchQuery{Embedding: unit(axis), Mode: service.ModeSemantic, Limit: 1})
		if err != nil || len(res.Hits) != 1 || res.Hits[0].Memory.ID != id {
			t.Fatalf("search for %s: %v %+v", key, err, res)
		}
	}
	// The skipped rows stay readable, and a rewrite makes them searchable.
	a := service.Actor{Workspace: "w", User: "u"}
	if m, err := svc.Get(ctx, a, "bad-zero"); err != nil || m.Text != "memory bad-zero" {
		t.Fatalf("get a skipped memory: %v", err)
	}
	if _, err := svc.Update(ctx, a, "bad-zero", service.UpdateInput{Embedding: unit(99)}); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Search(ctx, a, service.SearchQuery{Embedding: unit(99), Mode: service.ModeSemantic, Limit: 1})
	if err != nil || len(res.Hits) != 1 || res.Hits[0].Memory.ID != "bad-zero" {
		t.Fatalf("search after the rewrite: %v %+v", err, res)
	}
}

// A clean database skips nothing.
func TestLoadIndexCountsNothingOnACleanDatabase(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	if _, err := svc.Put(context.Background(), actor, service.PutInput{Text: "fine"}); err != nil {
		t.Fatal(err)
	}
	again, _ := newService(st)
	if n, err := again.LoadIndex(context.Background()); err != nil || n != 1 || again.SkippedVectors() != 0 {
		t.Fatalf("LoadIndex: %d %v, skipped %d", n, err, again.SkippedVectors())
	}
}

// After a refused zero-vector write, a restart loads the index: the
// issue's reproduction at the service.
func TestRestartAfterARefusedZeroVector(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	_, err := svc.Put(ctx, actor, service.PutInput{ID: "z", Text: "zero", Embedding: make([]float32, dims)})
	wantCode(t, err, memoryd.EINVALID)
	if _, err := svc.Put(ctx, actor, service.PutInput{ID: "p", Text: "fine"}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Update(ctx, actor, "p", service.UpdateInput{Embedding: make([]float32, dims)})
	wantCode(t, err, memoryd.EINVALID)
	again, _ := newService(st)
	if n, err := again.LoadIndex(ctx); err != nil || n != 1 || again.SkippedVectors() != 0 {
		t.Fatalf("restart: loaded %d, %v, skipped %d", n, err, again.SkippedVectors())
	}
}

// Past the first rows, skips are counted in one line rather than logged
// one by one: a database of another embedder's dimension skips every row.
func TestLoadIndexLogsManySkipsInOneLine(t *testing.T) {
	st := openStore(t, "")
	const rows = 105
	for i := range rows {
		putRow(t, st, "w", fmt.Sprint("other-dims-", i), unit(1)[:384])
	}
	svc, log := newService(st)
	if _, err := svc.LoadIndex(context.Background()); err != nil || svc.SkippedVectors() != rows {
		t.Fatalf("LoadIndex: %v, skipped %d", err, svc.SkippedVectors())
	}
	if n := strings.Count(log.String(), "id=other-dims-"); n != 100 {
		t.Fatalf("%d rows logged one by one, want 100", n)
	}
	if !strings.Contains(log.String(), fmt.Sprintf("skipped=%d logged=100", rows)) {
		t.Fatalf("no summary line:\n%s", log)
	}
}

// A skipped memory can still be updated without a new vector (its
// metadata, say): the update is stored and answered, and the memory stays
// out of the index until it gets a usable vector.
func TestUpdateOfASkippedMemoryWithoutAVector(t *testing.T) {
	st := openStore(t, "")
	putRow(t, st, "w", "bad", make([]float32, dims))
	putRow(t, st, "w", "good", unit(4))
	svc, _ := newService(st)
	ctx := context.Background()
	if _, err := svc.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Update(ctx, actor, "bad", service.UpdateInput{Metadata: map[string]any{"k": "v"}})
	if err != nil || res.Memory.Metadata["k"] != "v" {
		t.Fatalf("update: %v", err)
	}
	hits, err := svc.Search(ctx, actor, service.SearchQuery{Embedding: unit(4), Mode: service.ModeSemantic, Limit: 10, Threshold: -1})
	if err != nil || len(hits.Hits) != 1 || hits.Hits[0].Memory.ID != "good" {
		t.Fatalf("search: %v %+v", err, hits)
	}
}

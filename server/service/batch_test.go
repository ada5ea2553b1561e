package service_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

func TestPutBatchStoresValidItemsAndRefusesTheRest(t *testing.T) {
	st := openStore(t, "")
	svc, _ := newService(st)
	ctx := context.Background()
	if _, err := svc.Put(ctx, actor, service.PutInput{ID: "old", Text: "old text"}); err != nil {
		t.Fatal(err)
	}
	items := []service.PutInput{
		{ID: "a", Text: "apples are red"},
		{ID: "zero", Text: "zero vector", Embedding: make([]float32, dims)},
		{ID: "old", Text: "replaced text"},
		{ID: "c", Text: "client vector", Embedding: unit(3)},
		{ID: "a", Text: "same id again"},
		{Text: "a new id"},
	}
	res, err := svc.PutBatch(ctx, actor, items)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range res {
		codes = append(codes, memoryd.ErrorCode(r.Err))
		if r.Err == nil {
			codes[len(codes)-1] = fmt.Sprint(r.Result.Created)
		}
	}
	if want := "[true INVALID_REQUEST false true INVALID_REQUEST true]"; fmt.Sprint(codes) != want {
		t.Fatalf("outcomes %v, want %s", codes, want)
	}
	if _, err := st.GetMemory(ctx, "w", "zero"); err == nil {
		t.Fatal("a refused item was stored")
	}
	if got, _ := st.GetMemory(ctx, "w", "old"); got.Text != "replaced text" {
		t.Fatalf("old = %q, want replaced", got.Text)
	}
	if count(t, st, "w") != 4 {
		t.Fatalf("%d memories, want 4", count(t, st, "w"))
	}
	// One memory event per stored item, embedding.generated for the three
	// the server embedded, and each memory searchable at once.
	evs, _ := st.ReadEvents(ctx, "w", 2, 100)
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	want := []string{"memory.created", "embedding.generated", "memory.updated", "embedding.generated",
		"memory.created", "memory.created", "embedding.generated"}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	hits, err := svc.Search(ctx, actor, service.SearchQuery{Embedding: unit(3), Mode: service.ModeSemantic, Limit: 1})
	if err != nil || len(hits.Hits) != 1 || hits.Hits[0].Memory.ID != "c" {
		t.Fatalf("search after the batch: %+v %v", hits, err)
	}
}

func TestPutBatchRefusesEmptyAndOversizedBatches(t *testing.T) {
	svc, _ := newService(openStore(t, ""))
	for _, n := range []int{0, service.MaxBatch + 1} {
		items := make([]service.PutInput, n)
		for i := range items {
			items[i].Text = "x"
		}
		if _, err := svc.PutBatch(context.Background(), actor, items); memoryd.ErrorCode(err) != memoryd.EINVALID {
			t.Fatalf("%d items: %v, want INVALID_REQUEST", n, err)
		}
	}
}

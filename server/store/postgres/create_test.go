package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store/sqlstore"
)

// A create that carries events (embedding.generated, for one) is still
// one statement: the row and all its events at consecutive positions. An
// id that exists makes it write nothing, so the caller's transaction can
// replace the memory.
func TestCreateAppendsCarriedEventsInOneStatement(t *testing.T) {
	ctx := context.Background()
	s := openT(t, pgtest.DSN(t))
	m := &memoryd.Memory{ID: "m1", Workspace: "w", Text: "one statement", Metadata: map[string]any{"tags": []any{"a"}},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	row, err := sqlstore.ToRow(m)
	if err != nil {
		t.Fatal(err)
	}
	event := func() *memoryd.Event {
		return &memoryd.Event{Workspace: "w", Type: memoryd.EventMemoryCreated, Payload: []byte(`{"id":"m1"}`),
			With: []*memoryd.Event{
				{Workspace: "w", Type: memoryd.EventEmbeddingGenerated, Payload: []byte(`{"id":"m1","n":1}`)},
				{Workspace: "w", Type: memoryd.EventEmbeddingGenerated, Payload: []byte(`{"id":"m1","n":2}`)}}}
	}
	ev := event()
	created, err := s.create(ctx, row, m, ev)
	if err != nil || !created {
		t.Fatalf("create: created %v, %v", created, err)
	}
	if ev.Seq == 0 || ev.With[0].Seq != ev.Seq+1 || ev.With[1].Seq != ev.Seq+2 {
		t.Fatalf("positions %d, %d, %d; want three consecutive", ev.Seq, ev.With[0].Seq, ev.With[1].Seq)
	}
	evs, err := s.ReadEvents(ctx, "w", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":"m1"}`, `{"id":"m1","n":1}`, `{"id":"m1","n":2}`}
	if len(evs) != len(want) {
		t.Fatalf("log holds %d events, want %d", len(evs), len(want))
	}
	for i, e := range evs {
		if string(e.Payload) != want[i] || e.Seq != ev.Seq+int64(i) {
			t.Fatalf("event %d: %d %s, want %d %s", i, e.Seq, e.Payload, ev.Seq+int64(i), want[i])
		}
	}
	got, err := s.GetMemoriesMeta(ctx, "w", []string{"m1"})
	if err != nil || got["m1"] == nil || got["m1"].Text != "one statement" {
		t.Fatalf("read back %v, %v", got, err)
	}

	again := event()
	if created, err := s.create(ctx, row, m, again); err != nil || created {
		t.Fatalf("create of an existing id: created %v, %v; want nothing written", created, err)
	}
	if evs, err := s.ReadEvents(ctx, "w", 0, 10); err != nil || len(evs) != 3 {
		t.Fatalf("after the refused create the log holds %d events (%v), want 3", len(evs), err)
	}
}

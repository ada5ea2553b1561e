package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// testBulk: PutMemories stores a batch with gapless positions (each
// memory's With right after it), creates and replaces in one go, and
// writes nothing when one item fails; ExportMemories pages every memory
// of one workspace in insertion order, resumable from any position.
func testBulk(t *testing.T, open Opener) {
	s := open(t)
	bp, ok := s.(memoryd.BatchPutter)
	if !ok {
		t.Fatal("store does not implement memoryd.BatchPutter")
	}
	ex, ok := s.(memoryd.Exporter)
	if !ok {
		t.Fatal("store does not implement memoryd.Exporter")
	}
	ctx := context.Background()
	put(t, s, mem("ws", "b1", "old text", map[string]any{"tags": []any{"old"}}, t0))
	put(t, s, mem("other", "x", "elsewhere", nil, t0))
	var ms []*memoryd.Memory
	for i := range 5 {
		ms = append(ms, mem("ws", fmt.Sprintf("b%d", i), fmt.Sprintf("bulk text %d", i), map[string]any{"tags": []any{"new"}}, t0))
	}
	var prevs []string
	created, evs, err := bp.PutMemories(ctx, ms, func(i int, prev *memoryd.Memory) (*memoryd.Event, error) {
		ev := &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryCreated, Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}
		if prev != nil {
			prevs = append(prevs, prev.Text)
			ev.Type = memoryd.EventMemoryUpdated
		}
		ev.With = []*memoryd.Event{{Workspace: "ws", Type: memoryd.EventEmbeddingGenerated, Payload: []byte("{}")}}
		return ev, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(created) != "[true false true true true]" || fmt.Sprint(prevs) != "[old text]" {
		t.Fatalf("created = %v, prev texts %v; want b1 replaced, the others created", created, prevs)
	}
	for i, ev := range evs {
		if want := int64(3 + 2*i); ev.Seq != want || ev.With[0].Seq != want+1 {
			t.Fatalf("item %d: positions %d, %d; want %d, %d", i, ev.Seq, ev.With[0].Seq, want, want+1)
		}
	}
	if logged, _ := s.ReadEvents(ctx, "ws", 2, 100); len(logged) != 10 {
		t.Fatalf("%d events logged for the batch, want 10", len(logged))
	}
	if ids, _ := s.MatchIDs(ctx, "ws", memoryd.Filter{Tags: []string{"old"}}); len(ids) != 0 {
		t.Fatalf("replaced memory keeps its old tag: %v", ids)
	}
	if hits, _ := s.KeywordSearch(ctx, "ws", "bulk", memoryd.Filter{}, 10); len(hits) != 5 {
		t.Fatalf("keyword search finds %d of the batch, want 5", len(hits))
	}
	testBulkRollback(t, s, bp)
	testExport(t, ex)
}

func testBulkRollback(t *testing.T, s Store, bp memoryd.BatchPutter) {
	ctx := context.Background()
	boom := errors.New("boom")
	ms := []*memoryd.Memory{mem("ws", "r1", "one", nil, t0), mem("ws", "b2", "replaced?", nil, t0), mem("ws", "r3", "three", nil, t0)}
	_, _, err := bp.PutMemories(ctx, ms, func(i int, prev *memoryd.Memory) (*memoryd.Event, error) {
		if i == 2 {
			return nil, boom
		}
		return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryCreated, Payload: []byte("{}")}, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if _, err := s.GetMemory(ctx, "ws", "r1"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("first item of a failed batch was stored: %v", err)
	}
	if got, _ := s.GetMemory(ctx, "ws", "b2"); got.Text != "bulk text 2" {
		t.Fatalf("a failed batch replaced b2: %q", got.Text)
	}
}

func testExport(t *testing.T, ex memoryd.Exporter) {
	ctx := context.Background()
	var ids []string
	after := ""
	for {
		page, pos, err := ex.ExportMemories(ctx, "ws", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != len(pos) {
			t.Fatalf("%d memories with %d positions", len(page), len(pos))
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			if len(m.Embedding) != 3 || m.EmbeddingModel != "test" {
				t.Fatalf("%s exported without its vector: %v %q", m.ID, m.Embedding, m.EmbeddingModel)
			}
			ids = append(ids, m.ID)
		}
		after = pos[len(pos)-1]
	}
	// Resuming after the second memory gives the rest.
	_, pos, _ := ex.ExportMemories(ctx, "ws", "", 2)
	if rest, _, _ := ex.ExportMemories(ctx, "ws", pos[1], 10); len(rest) != 3 || rest[0].ID != "b2" {
		t.Fatalf("resumed export gave %d memories, want b2, b3, b4", len(rest))
	}
	if fmt.Sprint(ids) != "[b1 b0 b2 b3 b4]" {
		t.Fatalf("exported %v, want the workspace's memories in insertion order", ids)
	}
	if _, _, err := ex.ExportMemories(ctx, "ws", "%%%", 2); memoryd.ErrorCode(err) != memoryd.EINVALID {
		t.Fatalf("malformed position: %v, want INVALID_REQUEST", err)
	}
}

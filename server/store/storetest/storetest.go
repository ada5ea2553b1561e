// Package storetest is the contract every memoryd.MemoryStore meets; the
// store package runs it against SQLite and a real PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/webhooks"
)

// Opener opens (or reopens) the store behind one database.
type Opener func(t *testing.T) Store

// Store is everything a store implements: the contract covers it whole.
type Store interface {
	memoryd.MemoryStore
	memoryd.EventLog
	memoryd.EventsAppender
	memoryd.KeyStore
	webhooks.Store
	Close() error
}

// Run runs the contract. newDB returns an opener of a fresh, empty
// database; calling the opener twice reopens the same database.
func Run(t *testing.T, newDB func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"PutGetRoundTrip", testPutGet},
		{"PutReplaces", testPutReplaces},
		{"FailedEventWritesNothing", testRollback},
		{"UpdateAndDelete", testUpdateDelete},
		{"WorkspaceIsolation", testIsolation},
		{"GetMemoriesMeta", testGetMemoriesMeta},
		{"ListPagination", testListPagination},
		{"Filters", testFilters},
		{"MetadataFilterKeysAreLiteral", testMetadataKeys},
		{"KeywordSearch", testKeywordSearch},
		{"EachVector", testEachVector},
		{"EventLog", testEventLog},
		{"AppendEventsInOrder", testAppendEvents},
		{"ConcurrentWritesGetGaplessPositions", testConcurrentSeq},
		{"FailuresInConcurrentWritesStayAlone", testConcurrentFailures},
		{"ConcurrentChangesKeepSearchInStep", testConcurrentMixed},
		{"ConcurrentPutsOfOneNewID", testConcurrentSameID},
		{"PruneEvents", testPrune},
		{"PositionsSurviveReopen", testReopen},
		{"Keys", testKeys},
		{"ListenWakesOnAppend", testListen},
		{"ExtraEventsShareTheChange", testWithEvents},
		{"Webhooks", testWebhooks},
		{"Bulk", testBulk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func mem(ws, id, text string, md map[string]any, at time.Time) *memoryd.Memory {
	return &memoryd.Memory{ID: id, Workspace: ws, Text: text, Metadata: md,
		Embedding: []float32{1, 0.5, -0.25}, EmbeddingModel: "test", Tokens: 3,
		CreatedAt: at, UpdatedAt: at, CreatedBy: "alice", UpdatedBy: "alice"}
}

func event(m *memoryd.Memory, typ string) func(prev *memoryd.Memory) (*memoryd.Event, error) {
	return func(prev *memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: m.Workspace, Type: typ, Payload: []byte(fmt.Sprintf(`{"id":%q}`, m.ID))}, nil
	}
}

func put(t *testing.T, s memoryd.MemoryStore, m *memoryd.Memory) *memoryd.Event {
	t.Helper()
	_, ev, err := s.PutMemory(context.Background(), m, event(m, memoryd.EventMemoryCreated))
	if err != nil {
		t.Fatalf("PutMemory(%s): %v", m.ID, err)
	}
	return ev
}

func testPutGet(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	md := map[string]any{"type": "note", "tags": []any{"a", "b"}, "nested": map[string]any{"k": []any{1.5, "x"}}, "emoji": "héllo 🌍"}
	m := mem("ws1", "m1", "Ünïcode text 日本語", md, t0)
	created, ev, err := s.PutMemory(ctx, m, event(m, memoryd.EventMemoryCreated))
	if err != nil || !created || ev == nil || ev.Seq <= 0 {
		t.Fatalf("PutMemory = %v, %+v, %v; want created with a positioned event", created, ev, err)
	}
	got, err := s.GetMemory(ctx, "ws1", "m1")
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(md)
	gotJSON, _ := json.Marshal(got.Metadata)
	if got.Text != m.Text || string(gotJSON) != string(wantJSON) || !got.CreatedAt.Equal(t0) || got.Tokens != 3 ||
		got.EmbeddingModel != "test" || got.CreatedBy != "alice" || fmt.Sprint(got.Embedding) != fmt.Sprint(m.Embedding) {
		t.Fatalf("GetMemory = %+v (metadata %s), want %+v (metadata %s)", got, gotJSON, m, wantJSON)
	}
	if _, err := s.GetMemory(ctx, "ws1", "nope"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("GetMemory(missing) err = %v, want ErrNotFound", err)
	}
}

func testPutReplaces(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	put(t, s, mem("ws", "m1", "first", map[string]any{"tags": []any{"old"}}, t0))
	m2 := mem("ws", "m1", "second", map[string]any{"tags": []any{"new"}}, t0.Add(time.Hour))
	var prevText string
	created, _, err := s.PutMemory(ctx, m2, func(prev *memoryd.Memory) (*memoryd.Event, error) {
		if prev != nil { // nil: a store's guess that m2 is new (memoryd.MemoryStore)
			prevText = prev.Text
		}
		return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryUpdated, Payload: []byte("{}")}, nil
	})
	if err != nil || created || prevText != "first" {
		t.Fatalf("replace: created=%v prev=%q err=%v", created, prevText, err)
	}
	got, _ := s.GetMemory(ctx, "ws", "m1")
	if got.Text != "second" {
		t.Fatalf("text = %q", got.Text)
	}
	if ids, _ := s.MatchIDs(ctx, "ws", memoryd.Filter{Tags: []string{"old"}}); len(ids) != 0 {
		t.Fatalf("old tag still matches: %v", ids)
	}
	if hits, _ := s.KeywordSearch(ctx, "ws", "first", memoryd.Filter{}, 10); len(hits) != 0 {
		t.Fatalf("old text still searchable: %v", hits)
	}
	if hits, _ := s.KeywordSearch(ctx, "ws", "second", memoryd.Filter{}, 10); len(hits) != 1 {
		t.Fatalf("new text not searchable: %v", hits)
	}
}

func testRollback(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	boom := errors.New("boom")
	m := mem("ws", "m1", "text", nil, t0)
	if _, _, err := s.PutMemory(ctx, m, func(*memoryd.Memory) (*memoryd.Event, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if _, err := s.GetMemory(ctx, "ws", "m1"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("memory written although its event failed: %v", err)
	}
	put(t, s, m)
	_, _, err := s.UpdateMemory(ctx, "ws", "m1", func(cur *memoryd.Memory) (*memoryd.Event, error) {
		cur.Text = "changed"
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update err = %v", err)
	}
	if got, _ := s.GetMemory(ctx, "ws", "m1"); got.Text != "text" {
		t.Fatalf("failed update changed the text to %q", got.Text)
	}
	evs, _ := s.ReadEvents(ctx, "", 0, 100)
	if len(evs) != 1 {
		t.Fatalf("%d events, want only the successful put's", len(evs))
	}
}

func testUpdateDelete(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	put(t, s, mem("ws", "m1", "alpha", map[string]any{"type": "a"}, t0))
	m, ev, err := s.UpdateMemory(ctx, "ws", "m1", func(cur *memoryd.Memory) (*memoryd.Event, error) {
		cur.Text, cur.Metadata = "beta", map[string]any{"type": "b"}
		return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryUpdated, Payload: []byte("{}")}, nil
	})
	if err != nil || m.Text != "beta" || ev.Seq != 2 {
		t.Fatalf("update = %+v, %+v, %v", m, ev, err)
	}
	if ids, _ := s.MatchIDs(ctx, "ws", memoryd.Filter{Type: "b"}); len(ids) != 1 {
		t.Fatalf("type index not updated: %v", ids)
	}
	if _, _, err := s.UpdateMemory(ctx, "ws", "nope", func(*memoryd.Memory) (*memoryd.Event, error) { return nil, nil }); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if _, err := s.DeleteMemory(ctx, "ws", "m1", event(m, memoryd.EventMemoryDeleted)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMemory(ctx, "ws", "m1"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("deleted memory still readable: %v", err)
	}
	if hits, _ := s.KeywordSearch(ctx, "ws", "beta", memoryd.Filter{}, 10); len(hits) != 0 {
		t.Fatalf("deleted memory still searchable: %v", hits)
	}
	if _, err := s.DeleteMemory(ctx, "ws", "m1", event(m, memoryd.EventMemoryDeleted)); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// GetMemoriesMeta reads what GetMemories reads but the embedding, whose
// length it keeps; a memory stored without a vector has length 0.
func testGetMemoriesMeta(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	put(t, s, mem("ws", "m1", "alpha", map[string]any{"type": "note", "tags": []any{"x"}}, t0))
	bare := mem("ws", "m2", "beta", nil, t0)
	bare.Embedding, bare.EmbeddingModel = nil, ""
	put(t, s, bare)
	put(t, s, mem("other", "m3", "gamma", nil, t0))
	full, err := s.GetMemories(ctx, "ws", []string{"m1", "m2", "m3"})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := s.GetMemoriesMeta(ctx, "ws", []string{"m1", "m2", "m3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(meta) != 2 || len(full) != 2 {
		t.Fatalf("GetMemoriesMeta read %d memories, GetMemories %d; want 2 each (m3 is another workspace's)", len(meta), len(full))
	}
	for id, want := range map[string]int{"m1": 3, "m2": 0} {
		got := meta[id]
		if got == nil || got.Embedding != nil || got.Dimensions() != want {
			t.Fatalf("GetMemoriesMeta %s = %+v, want no embedding and %d dimensions", id, got, want)
		}
		if d := full[id].Dimensions(); d != want {
			t.Errorf("GetMemories %s: %d dimensions, want %d", id, d, want)
		}
		got.VectorDims, got.Embedding = 0, full[id].Embedding
		if !reflect.DeepEqual(got, full[id]) {
			t.Errorf("GetMemoriesMeta %s = %+v\nGetMemories = %+v", id, got, full[id])
		}
	}
}

func testIsolation(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	put(t, s, mem("A", "shared-id", "secret apple", map[string]any{"type": "t"}, t0))
	put(t, s, mem("B", "other", "banana", map[string]any{"type": "t"}, t0))
	if _, err := s.GetMemory(ctx, "B", "shared-id"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("B reads A's memory: %v", err)
	}
	page, _ := s.ListMemories(ctx, "B", memoryd.ListQuery{Limit: 10})
	if page.Total != 1 || page.Memories[0].ID != "other" {
		t.Fatalf("B's list = %+v", page)
	}
	if hits, _ := s.KeywordSearch(ctx, "B", "apple", memoryd.Filter{}, 10); len(hits) != 0 {
		t.Fatalf("B finds A's memory: %v", hits)
	}
	if got, _ := s.GetMemories(ctx, "B", []string{"shared-id", "other"}); len(got) != 1 {
		t.Fatalf("GetMemories crosses workspaces: %v", got)
	}
	if _, err := s.DeleteMemory(ctx, "B", "shared-id", event(&memoryd.Memory{Workspace: "B"}, "x")); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("B deletes A's memory: %v", err)
	}
	// The same id in two workspaces is two memories.
	put(t, s, mem("B", "shared-id", "B's own", nil, t0))
	if a, _ := s.GetMemory(ctx, "A", "shared-id"); a.Text != "secret apple" {
		t.Fatalf("B's put overwrote A's memory: %q", a.Text)
	}
	if evs, _ := s.ReadEvents(ctx, "B", 0, 100); len(evs) != 2 {
		t.Fatalf("B's events = %d, want 2", len(evs))
	}
}

func testListPagination(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	const n = 25
	for i := 0; i < n; i++ {
		// Pairs share a timestamp so the id tie-break is exercised.
		put(t, s, mem("ws", fmt.Sprintf("m%02d", i), "text", nil, t0.Add(time.Duration(i/2)*time.Second)))
	}
	seen := map[string]bool{}
	var order []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := s.ListMemories(ctx, "ws", memoryd.ListQuery{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != n {
			t.Fatalf("total = %d", page.Total)
		}
		for _, m := range page.Memories {
			if seen[m.ID] {
				t.Fatalf("duplicate %s", m.ID)
			}
			seen[m.ID] = true
			order = append(order, m.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if pages > n {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != n || order[0] != "m24" || order[n-1] != "m00" {
		t.Fatalf("got %d ids in order %v; want all %d newest first", len(seen), order, n)
	}
	if _, err := s.ListMemories(ctx, "ws", memoryd.ListQuery{Limit: 10, Cursor: "!!bad"}); memoryd.ErrorCode(err) != memoryd.EINVALID {
		t.Fatalf("bad cursor err = %v", err)
	}
}

func testFilters(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	put(t, s, mem("ws", "a", "x", map[string]any{"type": "note", "source": "chat", "tags": []any{"red", "blue"}, "user_id": "u1", "n": 3, "ok": true}, t0))
	put(t, s, mem("ws", "b", "x", map[string]any{"type": "note", "source": "mail", "tags": []any{"red"}, "user_id": "u2", "n": "3", "ok": false}, t0.Add(time.Hour)))
	put(t, s, mem("ws", "c", "x", map[string]any{"type": "task", "tags": []any{"blue"}}, t0.Add(2*time.Hour)))
	after, before := t0.Add(30*time.Minute), t0.Add(2*time.Hour)
	cases := []struct {
		name string
		f    memoryd.Filter
		want string
	}{
		{"type", memoryd.Filter{Type: "note"}, "[a b]"},
		{"source", memoryd.Filter{Source: "mail"}, "[b]"},
		{"all tags", memoryd.Filter{Tags: []string{"red", "blue"}}, "[a]"},
		{"one tag", memoryd.Filter{Tags: []string{"blue"}}, "[a c]"},
		{"metadata string", memoryd.Filter{Metadata: map[string]any{"user_id": "u2"}}, "[b]"},
		{"metadata number is not a string", memoryd.Filter{Metadata: map[string]any{"n": 3.0}}, "[a]"},
		{"metadata string is not a number", memoryd.Filter{Metadata: map[string]any{"n": "3"}}, "[b]"},
		{"metadata bool", memoryd.Filter{Metadata: map[string]any{"ok": true}}, "[a]"},
		{"created range", memoryd.Filter{CreatedAfter: &after, CreatedBefore: &before}, "[b]"},
		{"combined", memoryd.Filter{Type: "note", Tags: []string{"red"}, Source: "chat"}, "[a]"},
		{"no match", memoryd.Filter{Type: "none"}, "[]"},
	}
	for _, c := range cases {
		ids, err := s.MatchIDs(ctx, "ws", c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := fmt.Sprint(sorted(ids)); got != c.want {
			t.Errorf("%s: MatchIDs = %s, want %s", c.name, got, c.want)
		}
		page, err := s.ListMemories(ctx, "ws", memoryd.ListQuery{Filter: c.f, Limit: 10})
		if err != nil || page.Total != len(ids) || len(page.Memories) != len(ids) {
			t.Errorf("%s: list total %v err %v, want %d", c.name, page, err, len(ids))
		}
	}
}

// A metadata filter's key is the key, character for character: quotes,
// backslashes and path syntax neither fail the query nor reach into
// nested values.
func testMetadataKeys(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	keys := []string{`a\`, `a"b`, `a\"`, `"`, `\\`, `a.b`, `a[0]`, `$`, `*`, `a b`, "line\nbreak", "tab\t", "ключ", "'", `a'b`, ""}
	for i, k := range keys {
		put(t, s, mem("ws", fmt.Sprint("k", i), "x", map[string]any{k: "v"}, t0))
	}
	put(t, s, mem("ws", "nested", "x", map[string]any{"a": map[string]any{"b": "v"}}, t0))
	put(t, s, mem("ws", "array", "x", map[string]any{"a": []any{"v"}}, t0))
	for i, k := range keys {
		f := memoryd.Filter{Metadata: map[string]any{k: "v"}}
		ids, err := s.MatchIDs(ctx, "ws", f)
		if err != nil {
			t.Errorf("key %q: %v", k, err)
			continue
		}
		if got, want := fmt.Sprint(ids), fmt.Sprintf("[k%d]", i); got != want {
			t.Errorf("key %q: MatchIDs = %s, want %s", k, got, want)
		}
		if _, err := s.ListMemories(ctx, "ws", memoryd.ListQuery{Filter: f}); err != nil {
			t.Errorf("key %q: list: %v", k, err)
		}
	}
}

func sorted(ids []string) []string {
	out := append([]string{}, ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func testKeywordSearch(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	put(t, s, mem("ws", "coffee", "I drink coffee every morning, coffee is great", map[string]any{"type": "pref"}, t0))
	put(t, s, mem("ws", "tea", "Tea in the afternoon, sometimes coffee", map[string]any{"type": "other"}, t0))
	put(t, s, mem("ws", "none", "The weather is nice", nil, t0))
	hits, err := s.KeywordSearch(ctx, "ws", "Coffee?!", memoryd.Filter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].ID != "coffee" || hits[0].Score < hits[1].Score || hits[1].Score <= 0 || hits[0].Score >= 1 {
		t.Fatalf("hits = %+v, want coffee then tea with scores in (0,1)", hits)
	}
	hits, _ = s.KeywordSearch(ctx, "ws", "coffee", memoryd.Filter{Type: "other"}, 10)
	if len(hits) != 1 || hits[0].ID != "tea" {
		t.Fatalf("filtered hits = %+v", hits)
	}
	// Full-text syntax in the query is treated as words, not operators.
	if _, err := s.KeywordSearch(ctx, "ws", `"unbalanced OR NOT ( * :`, memoryd.Filter{}, 10); err != nil {
		t.Fatalf("syntax characters: %v", err)
	}
}

func testEachVector(t *testing.T, open Opener) {
	s := open(t)
	put(t, s, mem("A", "a", "x", nil, t0))
	put(t, s, mem("B", "b", "x", nil, t0))
	got := map[string]string{}
	err := s.EachVector(context.Background(), func(ws, id string, vec []float32) error {
		got[ws+"/"+id] = fmt.Sprint(vec)
		return nil
	})
	if err != nil || len(got) != 2 || got["A/a"] != "[1 0.5 -0.25]" {
		t.Fatalf("EachVector = %v, %v", got, err)
	}
}

func testEventLog(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	if first, last, err := s.EventBounds(ctx); err != nil || first != 0 || last != 0 {
		t.Fatalf("empty bounds = %d, %d, %v", first, last, err)
	}
	put(t, s, mem("A", "a", "x", nil, t0))
	if err := s.AppendEvent(ctx, &memoryd.Event{Workspace: "B", Type: memoryd.EventSearchPerformed, Payload: []byte(`{"q":1}`)}); err != nil {
		t.Fatal(err)
	}
	put(t, s, mem("A", "b", "x", nil, t0))
	all, err := s.ReadEvents(ctx, "", 0, 10)
	if err != nil || len(all) != 3 {
		t.Fatalf("ReadEvents = %d, %v", len(all), err)
	}
	for i, ev := range all {
		if ev.Seq != int64(i+1) || ev.CreatedAt.IsZero() {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
	if string(all[1].Payload) != `{"q":1}` || all[1].Type != memoryd.EventSearchPerformed {
		t.Fatalf("payload = %s", all[1].Payload)
	}
	a, _ := s.ReadEvents(ctx, "A", 1, 10)
	if len(a) != 1 || a[0].Seq != 3 {
		t.Fatalf("A after 1 = %+v", a)
	}
	if lim, _ := s.ReadEvents(ctx, "", 0, 2); len(lim) != 2 {
		t.Fatalf("limit ignored: %d", len(lim))
	}
	if first, last, _ := s.EventBounds(ctx); first != 1 || last != 3 {
		t.Fatalf("bounds = %d, %d", first, last)
	}
}

// AppendEvents gives each event the next position in slice order, beside
// a change and a single append.
func testAppendEvents(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	if err := s.AppendEvents(ctx, nil); err != nil {
		t.Fatalf("no events: %v", err)
	}
	put(t, s, mem("A", "a", "x", nil, t0))
	var evs []*memoryd.Event
	for i := range 5 {
		evs = append(evs, &memoryd.Event{Workspace: []string{"A", "B"}[i%2], Type: memoryd.EventSearchPerformed,
			Payload: []byte(fmt.Sprintf(`{"q":"it's\n%d"}`, i))})
	}
	if err := s.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendEvent(ctx, &memoryd.Event{Workspace: "B", Type: memoryd.EventSearchPerformed, Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ReadEvents(ctx, "", 0, 10)
	if err != nil || len(all) != 7 {
		t.Fatalf("ReadEvents = %d events, %v; want 7", len(all), err)
	}
	for i, ev := range evs {
		got := all[i+1]
		if ev.Seq != int64(i+2) || got.Seq != ev.Seq || got.Workspace != ev.Workspace ||
			string(got.Payload) != string(ev.Payload) || got.CreatedAt.IsZero() {
			t.Fatalf("event %d: appended %+v, read %+v", i, ev, got)
		}
	}
	if all[6].Seq != 7 {
		t.Fatalf("the append after the batch is at %d, want 7", all[6].Seq)
	}
}

func testConcurrentSeq(t *testing.T, open Opener) {
	s := open(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				m := mem("ws", fmt.Sprintf("w%d-%d", w, i), "x", nil, t0)
				if _, _, err := s.PutMemory(context.Background(), m, event(m, memoryd.EventMemoryCreated)); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs, _ := s.ReadEvents(context.Background(), "", 0, 1000)
	if len(evs) != writers*each {
		t.Fatalf("%d events, want %d", len(evs), writers*each)
	}
	checkGapless(t, evs)
}

func testPrune(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		put(t, s, mem("ws", fmt.Sprint(i), "x", nil, t0))
	}
	n, err := s.PruneEvents(ctx, time.Time{}, 4)
	if err != nil || n != 6 {
		t.Fatalf("prune by count = %d, %v", n, err)
	}
	if first, last, _ := s.EventBounds(ctx); first != 7 || last != 10 {
		t.Fatalf("bounds after prune = %d, %d", first, last)
	}
	n, _ = s.PruneEvents(ctx, time.Now().Add(time.Hour), 0)
	if n != 4 {
		t.Fatalf("prune by age = %d", n)
	}
	// An empty log still knows its head, so old positions stay unusable.
	if first, last, _ := s.EventBounds(ctx); first != 11 || last != 10 {
		t.Fatalf("bounds of emptied log = %d, %d", first, last)
	}
	ev := put(t, s, mem("ws", "next", "x", nil, t0))
	if ev.Seq != 11 {
		t.Fatalf("position after prune = %d, want 11 (never reused)", ev.Seq)
	}
}

func testReopen(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	epoch, err := s.Epoch(ctx)
	if err != nil || len(epoch) < 8 {
		t.Fatalf("epoch = %q, %v", epoch, err)
	}
	put(t, s, mem("ws", "a", "x", nil, t0))
	s.Close()
	s2 := open(t)
	if e2, _ := s2.Epoch(ctx); e2 != epoch {
		t.Fatalf("epoch changed on reopen: %q -> %q", epoch, e2)
	}
	if ev := put(t, s2, mem("ws", "b", "x", nil, t0)); ev.Seq != 2 {
		t.Fatalf("position after reopen = %d", ev.Seq)
	}
}

func testKeys(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	k := &memoryd.APIKey{ID: "key_1", Hash: []byte{0, 1, 2, 255}, Workspaces: []string{"a", "b"}, Tier: memoryd.TierFree, User: "bob"}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, k); !errors.Is(err, memoryd.ErrConflict) {
		t.Fatalf("duplicate key: %v", err)
	}
	got, err := s.KeyByHash(ctx, []byte{0, 1, 2, 255})
	if err != nil || got.ID != "key_1" || fmt.Sprint(got.Workspaces) != "[a b]" || got.Tier != memoryd.TierFree || got.User != "bob" || got.RevokedAt != nil {
		t.Fatalf("KeyByHash = %+v, %v", got, err)
	}
	if _, err := s.KeyByHash(ctx, []byte{9}); memoryd.ErrorCode(err) != memoryd.ENOTFOUND {
		t.Fatalf("unknown hash: %v", err)
	}
	if err := s.RevokeKey(ctx, "key_1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.KeyByHash(ctx, []byte{0, 1, 2, 255}); got.RevokedAt == nil {
		t.Fatal("revoked key not marked")
	}
	if err := s.RevokeKey(ctx, "key_1"); memoryd.ErrorCode(err) != memoryd.ENOTFOUND {
		t.Fatalf("second revoke: %v", err)
	}
	if keys, _ := s.ListKeys(ctx); len(keys) != 1 {
		t.Fatalf("ListKeys = %d", len(keys))
	}
}

func testListen(t *testing.T, open Opener) {
	s := open(t)
	l, ok := s.(interface {
		Listen(ctx context.Context) (<-chan int64, error)
	})
	if !ok {
		t.Fatal("store does not implement Listen")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := l.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// NOTIFY listeners attach asynchronously; write until a wake-up arrives.
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		ev := put(t, s, mem("ws", fmt.Sprint(i), "x", nil, t0))
		select {
		case seq := <-ch:
			if seq <= 0 || seq > ev.Seq {
				t.Fatalf("wake-up seq %d, last written %d", seq, ev.Seq)
			}
			return
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("no wake-up after appends")
		}
	}
}

func testConcurrentFailures(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m := mem("ws", fmt.Sprint("m", i), "x", nil, t0)
			_, _, err := s.PutMemory(ctx, m, func(*memoryd.Memory) (*memoryd.Event, error) {
				if i%3 == 0 {
					return nil, errors.New("refused")
				}
				return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryCreated, Payload: []byte("{}")}, nil
			})
			if (err != nil) != (i%3 == 0) {
				t.Errorf("put %d: err = %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	page, _ := s.ListMemories(ctx, "ws", memoryd.ListQuery{Limit: 1})
	evs, _ := s.ReadEvents(ctx, "", 0, 1000)
	want := n - (n+2)/3
	if page.Total != want || len(evs) != want {
		t.Fatalf("%d memories and %d events, want %d of each", page.Total, len(evs), want)
	}
	checkGapless(t, evs)
}

// testConcurrentMixed runs creates, replaces (by put and by update) and
// deletes of the same ids from many goroutines at once, so that writes
// batched together touch one memory several times, with failures among
// them; afterwards keyword search, tags and the log must agree with what
// was acknowledged.
func testConcurrentMixed(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	const n = 48
	ok := func(*memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryUpdated, Payload: []byte("{}")}, nil
	}
	var acked sync.Map // id -> final text ("" when deleted)
	var events sync.WaitGroup
	var changes, failures atomic.Int64
	for i := range n {
		events.Add(1)
		go func() {
			defer events.Done()
			id := fmt.Sprint("m", i)
			first := mem("ws", id, fmt.Sprintf("alpha%d common", i), map[string]any{"tags": []any{"old"}}, t0)
			if _, _, err := s.PutMemory(ctx, first, ok); err != nil {
				t.Errorf("put %s: %v", id, err)
				return
			}
			changes.Add(1)
			second := mem("ws", id, fmt.Sprintf("beta%d common", i), map[string]any{"tags": []any{"new"}}, t0)
			_, _, err := s.PutMemory(ctx, second, func(prev *memoryd.Memory) (*memoryd.Event, error) {
				if prev == nil || prev.Text != first.Text {
					return nil, fmt.Errorf("replace of %s saw %v", id, prev)
				}
				return ok(prev)
			})
			if err != nil {
				t.Errorf("replace %s: %v", id, err)
				return
			}
			changes.Add(1)
			// A refused update in the middle of the others changes nothing.
			_, _, err = s.UpdateMemory(ctx, "ws", id, func(cur *memoryd.Memory) (*memoryd.Event, error) {
				cur.Text = "refused"
				return nil, errors.New("refused")
			})
			if err == nil {
				t.Errorf("refused update of %s succeeded", id)
			}
			failures.Add(1)
			switch i % 3 {
			case 0:
				if _, err := s.DeleteMemory(ctx, "ws", id, ok); err != nil {
					t.Errorf("delete %s: %v", id, err)
				}
				acked.Store(id, "")
				changes.Add(1)
			case 1:
				_, _, err := s.UpdateMemory(ctx, "ws", id, func(cur *memoryd.Memory) (*memoryd.Event, error) {
					cur.Text = fmt.Sprintf("gamma%d common", i)
					return ok(cur)
				})
				if err != nil {
					t.Errorf("update %s: %v", id, err)
				}
				acked.Store(id, fmt.Sprintf("gamma%d common", i))
				changes.Add(1)
			default:
				acked.Store(id, second.Text)
			}
		}()
	}
	events.Wait()
	if t.Failed() {
		return
	}
	for i := range n {
		id := fmt.Sprint("m", i)
		v, _ := acked.Load(id)
		want := v.(string)
		for _, word := range []string{fmt.Sprint("alpha", i), fmt.Sprint("beta", i), fmt.Sprint("gamma", i), "refused"} {
			hits, err := s.KeywordSearch(ctx, "ws", word, memoryd.Filter{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			found := len(hits) > 0
			if shouldFind := want != "" && strings.Contains(want, word+" "); found != shouldFind {
				t.Fatalf("%s: keyword %q found=%v, final text %q", id, word, found, want)
			}
		}
	}
	common, _ := s.KeywordSearch(ctx, "ws", "common", memoryd.Filter{}, 1000)
	if old, _ := s.MatchIDs(ctx, "ws", memoryd.Filter{Tags: []string{"old"}}); len(old) != 0 {
		t.Fatalf("replaced tags still match: %v", old)
	}
	if len(common) != n-n/3 {
		t.Fatalf("%d memories searchable, want %d", len(common), n-n/3)
	}
	evs, _ := s.ReadEvents(ctx, "", 0, 1000)
	if len(evs) != int(changes.Load()) {
		t.Fatalf("%d events for %d acknowledged changes (%d refused)", len(evs), int(changes.Load()), failures.Load())
	}
	checkGapless(t, evs)
}

// testConcurrentSameID: puts of one new id racing each other (as on two
// nodes) create it once and replace it after; none fails.
func testConcurrentSameID(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	const n = 8
	var created atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := mem("ws", "same", fmt.Sprint("version ", i), nil, t0)
			c, _, err := s.PutMemory(ctx, m, func(prev *memoryd.Memory) (*memoryd.Event, error) {
				return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryCreated, Payload: []byte("{}")}, nil
			})
			if err != nil {
				t.Errorf("put %d: %v", i, err)
			}
			if c {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	page, _ := s.ListMemories(ctx, "ws", memoryd.ListQuery{Limit: 10})
	evs, _ := s.ReadEvents(ctx, "", 0, 100)
	if created.Load() != 1 || page.Total != 1 || len(evs) != n {
		t.Fatalf("created %d times, %d memories, %d events; want 1, 1, %d", created.Load(), page.Total, len(evs), n)
	}
}

// checkGapless fails unless evs hold positions 1..len(evs) in order.
func checkGapless(t *testing.T, evs []*memoryd.Event) {
	t.Helper()
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("position %d is %d: a gap or a reordering", i+1, ev.Seq)
		}
	}
}

package events_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/events"
)

// env is the shared test environment (the real HTTP stack over a real
// SQLite store, behind a listening server) with the stream tests' own
// helpers: they write to the store directly, as the service would, so
// each test knows the exact event it must see.
type env struct{ *testenv.Env }

func newEnv(t testing.TB, cfg events.Config, opts ...testenv.Option) *env {
	t.Helper()
	return &env{testenv.New(t, append([]testenv.Option{testenv.WithStream(cfg)}, opts...)...)}
}

var t0 = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

// create stores a memory with its memory.created event, as the service
// does, and returns the event.
func (e *env) create(ws, id string, md map[string]any) *memoryd.Event {
	e.T.Helper()
	return createIn(e.T, e.Store, ws, id, md)
}

// createIn is create on any store (another node's).
func createIn(t testing.TB, st memoryd.MemoryStore, ws, id string, md map[string]any) *memoryd.Event {
	t.Helper()
	m := &memoryd.Memory{ID: id, Workspace: ws, Text: "text of " + id, Metadata: md,
		Embedding: []float32{1, 0, 0}, EmbeddingModel: "client", CreatedAt: t0, UpdatedAt: t0, CreatedBy: "user-" + ws}
	_, evt, err := st.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
		return payloadEvent(memoryd.EventMemoryCreated, ws, ev.MemoryCreated{Id: id, Content: m.Text,
			Metadata: md, Tags: []string{}, CreatedAt: t0, CreatedBy: m.CreatedBy})
	})
	if err != nil {
		t.Fatal(err)
	}
	return evt
}

// remove deletes a memory with its memory.deleted event.
func (e *env) remove(ws, id string) *memoryd.Event {
	e.T.Helper()
	evt, err := e.Store.DeleteMemory(context.Background(), ws, id, func(*memoryd.Memory) (*memoryd.Event, error) {
		return payloadEvent(memoryd.EventMemoryDeleted, ws, ev.MemoryDeleted{Id: id, DeletedAt: t0,
			DeletedBy: "user-" + ws, Reason: ev.UserRequest})
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return evt
}

func payloadEvent(typ, ws string, v any) (*memoryd.Event, error) {
	b, err := json.Marshal(v)
	return &memoryd.Event{Workspace: ws, Type: typ, Payload: b, CreatedAt: t0}, err
}

// expectEvent checks that m is exactly the log event want.
func expectEvent(t testing.TB, m testenv.Message, want *memoryd.Event, epoch string) {
	t.Helper()
	if m.Event != want.Type || m.Data != string(want.Payload) {
		t.Fatalf("got %s %s\nwant %s %s", m.Event, m.Data, want.Type, want.Payload)
	}
	if got := seqOf(t, m.ID, epoch); got != want.Seq {
		t.Fatalf("id %q is seq %d, want %d", m.ID, got, want.Seq)
	}
}

// seqOf decodes a position of the log of epoch.
func seqOf(t testing.TB, pos, epoch string) int64 {
	t.Helper()
	ep, seq := testenv.SplitPosition(t, pos)
	if ep != epoch {
		t.Fatalf("position %q is of epoch %q, want %q", pos, ep, epoch)
	}
	return seq
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (e *env) epoch() string {
	ep, err := e.Store.Epoch(context.Background())
	if err != nil {
		e.T.Fatal(err)
	}
	return ep
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func decodeBody(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

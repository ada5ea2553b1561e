package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/webhooks"
)

// testWithEvents: the events a change carries in With are appended right
// after its own, in its transaction, and a failing change appends none.
func testWithEvents(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	m := mem("ws", "m1", "hello", nil, t0)
	_, ev, err := s.PutMemory(ctx, m, func(prev *memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryCreated, Payload: []byte(`{"id":"m1"}`),
			With: []*memoryd.Event{{Workspace: "ws", Type: memoryd.EventEmbeddingGenerated, Payload: []byte(`{"id":"m1"}`)}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev.With[0].Seq != ev.Seq+1 {
		t.Fatalf("extra event at %d, change's at %d", ev.With[0].Seq, ev.Seq)
	}
	_, _, err = s.UpdateMemory(ctx, "ws", "m1", func(cur *memoryd.Memory) (*memoryd.Event, error) {
		cur.Text = "changed"
		return &memoryd.Event{Workspace: "ws", Type: memoryd.EventMemoryUpdated, Payload: []byte(`{}`),
			With: []*memoryd.Event{{Workspace: "ws", Type: memoryd.EventEmbeddingGenerated, Payload: []byte(`{}`)}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.ReadEvents(ctx, "ws", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	want := []string{"memory.created", "embedding.generated", "memory.updated", "embedding.generated"}
	if len(types) != len(want) {
		t.Fatalf("log holds %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("log holds %v, want %v", types, want)
		}
	}
}

// testWebhooks covers endpoints, fan-out, leases, attempts and isolation.
func testWebhooks(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	ep := &webhooks.Endpoint{ID: "wh_1", Workspace: "a", URL: "https://example.com/h", Events: []string{"memory.created"},
		Enabled: true, Secret: "whsec_AAAA", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetEndpoint(ctx, "b", "wh_1"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("another workspace reads the endpoint: %v", err)
	}
	if err := s.DeleteEndpoint(ctx, "b", "wh_1"); !errors.Is(err, memoryd.ErrNotFound) {
		t.Fatalf("another workspace deletes the endpoint: %v", err)
	}
	ep.OldSecret, ep.OldSecretUntil, ep.Secret = ep.Secret, t0.Add(time.Hour), "whsec_BBBB"
	if err := s.UpdateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetEndpoint(ctx, "a", "wh_1")
	if err != nil || got.Secret != "whsec_BBBB" || got.OldSecret != "whsec_AAAA" || !got.OldSecretUntil.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after update: %+v, %v", got, err)
	}

	if err := s.InitWebhookPosition(ctx, 0); err != nil {
		t.Fatal(err)
	}
	evs := []*memoryd.Event{
		{Seq: 1, Workspace: "a", Type: "memory.created", CreatedAt: t0.Add(time.Second)},
		{Seq: 2, Workspace: "a", Type: "memory.deleted", CreatedAt: t0.Add(time.Second)},
		{Seq: 3, Workspace: "b", Type: "memory.created", CreatedAt: t0.Add(time.Second)},
		{Seq: 4, Workspace: "a", Type: "memory.created", CreatedAt: t0.Add(time.Second)},
	}
	build := func(e *webhooks.Endpoint, ev *memoryd.Event) (*webhooks.Message, error) {
		return &webhooks.Message{ID: e.ID + "." + string(rune('0'+ev.Seq)), EndpointID: e.ID, Seq: ev.Seq, Type: ev.Type,
			Body: []byte(`{}`), Status: webhooks.StatusPending, NextAt: t0, CreatedAt: t0}, nil
	}
	if err := s.FanOut(ctx, 0, 4, evs, build); err != nil {
		t.Fatal(err)
	}
	if err := s.FanOut(ctx, 0, 4, evs, build); !errors.Is(err, webhooks.ErrMoved) {
		t.Fatalf("a second fan-out from the same position: %v, want ErrMoved", err)
	}
	if pos, ok, err := s.WebhookPosition(ctx); err != nil || !ok || pos != 4 {
		t.Fatalf("position %d %v %v", pos, ok, err)
	}
	now := t0.Add(time.Minute)
	due, err := s.DueMessages(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].Seq != 1 {
		t.Fatalf("due: only the endpoint's oldest message (seq 1), got %+v %v", due, err)
	}
	if ok, err := s.LeaseMessage(ctx, due[0].ID, "n1", now, now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if ok, _ := s.LeaseMessage(ctx, due[0].ID, "n2", now, now.Add(time.Minute)); ok {
		t.Fatal("a second node leased a leased message")
	}
	a := &webhooks.Attempt{ID: "att_1", EndpointID: "wh_1", MessageID: due[0].ID, EventType: "memory.created", N: 1,
		At: now, StatusCode: 500, Latency: 3 * time.Millisecond, ResponseBody: "oops"}
	if err := s.FinishAttempt(ctx, "n2", a, webhooks.Outcome{Status: webhooks.StatusDelivered}); !errors.Is(err, webhooks.ErrLost) {
		t.Fatalf("finish without the lease: %v", err)
	}
	if err := s.FinishAttempt(ctx, "n1", a, webhooks.Outcome{Status: webhooks.StatusPending, NextAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueMessages(ctx, now, 10); len(due) != 0 {
		t.Fatalf("a retry later blocks the endpoint's queue until then, got %+v", due)
	}
	if err := s.Redeliver(ctx, "wh_1", a.MessageID, now); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueMessages(ctx, now, 10)
	if len(due) != 1 || due[0].ID != a.MessageID || due[0].Attempts != 0 {
		t.Fatalf("redelivered: %+v", due)
	}
	atts, err := s.ListAttempts(ctx, "wh_1", 10)
	if err != nil || len(atts) != 1 || atts[0].StatusCode != 500 || atts[0].ResponseBody != "oops" || atts[0].Latency != 3*time.Millisecond {
		t.Fatalf("attempts: %+v %v", atts, err)
	}
	s.LeaseMessage(ctx, due[0].ID, "n1", now, now.Add(time.Minute))
	gone := &webhooks.Attempt{ID: "att_2", EndpointID: "wh_1", MessageID: due[0].ID, EventType: "memory.created", N: 1, At: now, StatusCode: 410}
	if err := s.FinishAttempt(ctx, "n1", gone, webhooks.Outcome{Status: webhooks.StatusFailed, Disable: "gone"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetEndpoint(ctx, "a", "wh_1"); got.Enabled || got.DisabledReason != "gone" {
		t.Fatalf("410 leaves the endpoint %+v", got)
	}
	if due, _ := s.DueMessages(ctx, now, 10); len(due) != 0 {
		t.Fatalf("a disabled endpoint has due messages: %+v", due)
	}
	if err := s.DeleteEndpoint(ctx, "a", "wh_1"); err != nil {
		t.Fatal(err)
	}
	if atts, _ := s.ListAttempts(ctx, "wh_1", 10); len(atts) != 0 {
		t.Fatal("attempts outlive their endpoint")
	}
}

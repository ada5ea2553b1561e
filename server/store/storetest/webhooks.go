package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	hasEndpoints := func(when string, want bool) {
		t.Helper()
		if has, err := s.HasEndpoints(ctx); err != nil || has != want {
			t.Fatalf("HasEndpoints %s: %v, %v; want %v", when, has, err, want)
		}
	}
	hasEndpoints("before any", false)
	ep := &webhooks.Endpoint{ID: "wh_1", Workspace: "a", URL: "https://example.com/h", Events: []string{"memory.created"},
		Enabled: true, Secret: "whsec_AAAA", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	hasEndpoints("after a create", true)
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
	if _, err := finishOne(s, "n2", a, webhooks.Outcome{Status: webhooks.StatusDelivered}, nil); !errors.Is(err, webhooks.ErrLost) {
		t.Fatalf("finish without the lease: %v", err)
	}
	if _, err := finishOne(s, "n1", a, webhooks.Outcome{Status: webhooks.StatusPending, NextAt: now.Add(time.Hour)}, nil); err != nil {
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
	if _, err := finishOne(s, "n1", gone, webhooks.Outcome{Status: webhooks.StatusFailed, Disable: "gone"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetEndpoint(ctx, "a", "wh_1"); got.Enabled || got.DisabledReason != "gone" {
		t.Fatalf("410 leaves the endpoint %+v", got)
	}
	if due, _ := s.DueMessages(ctx, now, 10); len(due) != 0 {
		t.Fatalf("a disabled endpoint has due messages: %+v", due)
	}
	hasEndpoints("with one disabled", true)
	if err := s.DeleteEndpoint(ctx, "a", "wh_1"); err != nil {
		t.Fatal(err)
	}
	hasEndpoints("after the delete", false)
	if atts, _ := s.ListAttempts(ctx, "wh_1", 10); len(atts) != 0 {
		t.Fatal("attempts outlive their endpoint")
	}
	t.Run("Queue", func(t *testing.T) { testWebhookQueue(t, s) })
	t.Run("Runs", func(t *testing.T) { testWebhookRuns(t, s) })
	t.Run("RunExtension", func(t *testing.T) { testWebhookRunExtension(t, s) })
	t.Run("Retention", func(t *testing.T) { testWebhookRetention(t, s) })
}

// testWebhookRetention: pruning deletes finished messages and attempts
// older than the cut, a bounded batch at a time, and keeps pending
// messages whatever their age.
func testWebhookRetention(t *testing.T, s Store) {
	ctx := context.Background()
	ep := &webhooks.Endpoint{ID: "wh_r", Workspace: "r", URL: "https://example.com/h", Events: []string{"memory.created"},
		Enabled: true, Secret: "whsec_AAAA", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	defer s.DeleteEndpoint(ctx, "r", "wh_r")
	cut := t0.Add(24 * time.Hour)
	old, recent := t0, cut.Add(time.Hour)
	msgs := []struct {
		id     string
		status string
		at     time.Time
	}{
		{"old-delivered", webhooks.StatusDelivered, old}, {"old-failed", webhooks.StatusFailed, old},
		{"old-delivered-2", webhooks.StatusDelivered, old}, {"old-pending", webhooks.StatusPending, old},
		{"new-delivered", webhooks.StatusDelivered, recent},
	}
	for i, m := range msgs {
		err := s.EnqueueMessage(ctx, &webhooks.Message{ID: m.id, EndpointID: "wh_r", Seq: int64(i + 1), Type: "memory.created",
			Body: []byte(`{}`), Status: m.status, NextAt: m.at, CreatedAt: m.at})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Attempts are recorded through leases, as the deliverer records them.
	for i, at := range []time.Time{old, old, recent} {
		id := fmt.Sprintf("r%d", i)
		if err := s.EnqueueMessage(ctx, &webhooks.Message{ID: id, EndpointID: "wh_r", Seq: int64(100 + i), Type: "memory.created",
			Body: []byte(`{}`), Status: webhooks.StatusPending, NextAt: at, CreatedAt: recent}); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.LeaseMessage(ctx, id, "n1", at, at.Add(time.Minute)); !ok || err != nil {
			t.Fatalf("lease %s: %v %v", id, ok, err)
		}
		a := &webhooks.Attempt{ID: "att_" + id, EndpointID: "wh_r", MessageID: id, EventType: "memory.created", N: 1, At: at, StatusCode: 204}
		if _, err := finishOne(s, "n1", a, webhooks.Outcome{Status: webhooks.StatusDelivered}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PruneDeliveries(ctx, cut, 2); err != nil || n != 4 {
		t.Fatalf("first bounded prune deleted %d (%v), want 2 messages and 2 attempts", n, err)
	}
	if n, err := s.PruneDeliveries(ctx, cut, 2); err != nil || n != 1 {
		t.Fatalf("second prune deleted %d (%v), want the last old finished message", n, err)
	}
	if atts, _ := s.ListAttempts(ctx, "wh_r", 10); len(atts) != 1 || atts[0].ID != "att_r2" {
		t.Fatalf("attempts after pruning: %+v, want only att_r2", atts)
	}
	for _, id := range []string{"old-pending", "new-delivered"} {
		if err := s.Redeliver(ctx, "wh_r", id, cut); err != nil {
			t.Errorf("%s is gone after pruning: %v", id, err)
		}
	}
	for _, id := range []string{"old-delivered", "old-failed", "old-delivered-2"} {
		if err := s.Redeliver(ctx, "wh_r", id, cut); !errors.Is(err, memoryd.ErrNotFound) {
			t.Errorf("%s outlived the retention: %v", id, err)
		}
	}
}

// testWebhookQueue: each endpoint's queue head is due on its own, and
// finishing an attempt can lease the endpoint's next message in order.
func testWebhookQueue(t *testing.T, s Store) {
	ctx := context.Background()
	now := t0.Add(time.Minute)
	for _, id := range []string{"wh_q1", "wh_q2"} {
		ep := &webhooks.Endpoint{ID: id, Workspace: "q", URL: "https://example.com/h", Events: []string{"memory.created"},
			Enabled: true, Secret: "whsec_AAAA", CreatedAt: t0, UpdatedAt: t0}
		if err := s.CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
		for seq := int64(3); seq >= 1; seq-- {
			m := &webhooks.Message{ID: fmt.Sprintf("%s.%d", id, seq), EndpointID: id, Seq: seq, Type: "memory.created",
				Body: []byte(`{}`), Status: webhooks.StatusPending, NextAt: t0, CreatedAt: t0}
			if err := s.EnqueueMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	due, err := s.DueMessages(ctx, now, 10)
	if err != nil || len(due) != 2 || due[0].Seq != 1 || due[1].Seq != 1 {
		t.Fatalf("due: each endpoint's seq 1, got %+v %v", due, err)
	}
	for i := range due {
		if ok, err := s.LeaseMessage(ctx, due[i].ID, "n1", now, now.Add(time.Minute)); !ok || err != nil {
			t.Fatalf("lease %s: %v %v", due[i].ID, ok, err)
		}
	}
	if due, _ := s.DueMessages(ctx, now, 10); len(due) != 0 {
		t.Fatalf("leased heads leave nothing due, got %+v", due)
	}
	lease := &webhooks.Lease{Now: now, Until: now.Add(time.Minute)}
	a := &webhooks.Attempt{ID: "att_q1", EndpointID: "wh_q1", MessageID: "wh_q1.1", EventType: "memory.created", N: 1,
		At: now, StatusCode: 204}
	next, err := finishOne(s, "n1", a, webhooks.Outcome{Status: webhooks.StatusDelivered}, lease)
	if err != nil || len(next) != 1 || next[0].ID != "wh_q1.2" {
		t.Fatalf("finish with a lease: next %+v, %v; want wh_q1.2", next, err)
	}
	if ok, _ := s.LeaseMessage(ctx, next[0].ID, "n2", now, now.Add(time.Minute)); ok {
		t.Fatal("another node leased the message handed on with the finished attempt")
	}
	a = &webhooks.Attempt{ID: "att_q2", EndpointID: "wh_q1", MessageID: "wh_q1.2", EventType: "memory.created", N: 1,
		At: now, StatusCode: 500}
	next, err = finishOne(s, "n1", a, webhooks.Outcome{Status: webhooks.StatusPending, NextAt: now.Add(time.Hour)}, lease)
	if err != nil || len(next) != 0 {
		t.Fatalf("a retry later keeps the queue's head: next %+v, %v", next, err)
	}
	if due, _ := s.DueMessages(ctx, now.Add(2*time.Hour), 10); len(due) != 2 || due[0].ID != "wh_q2.1" || due[1].ID != "wh_q1.2" {
		t.Fatalf("after the retry delay and the lease: %+v, want wh_q2.1 (lease ran out) and wh_q1.2", due)
	}
	// One batch: an attempt whose lease is gone fails alone.
	res, err := s.FinishAttempts(ctx, "n1", []webhooks.Finish{
		{Attempt: &webhooks.Attempt{ID: "att_q3", EndpointID: "wh_q1", MessageID: "wh_q1.2", N: 2, At: now, StatusCode: 204},
			Outcome: webhooks.Outcome{Status: webhooks.StatusDelivered}, Next: lease},
		{Attempt: &webhooks.Attempt{ID: "att_q4", EndpointID: "wh_q2", MessageID: "wh_q2.1", N: 1, At: now, StatusCode: 204},
			Outcome: webhooks.Outcome{Status: webhooks.StatusDelivered}, Next: lease},
	})
	if err != nil || len(res) != 2 || !errors.Is(res[0].Err, webhooks.ErrLost) || res[1].Err != nil || len(res[1].Next) != 1 ||
		res[1].Next[0].ID != "wh_q2.2" {
		t.Fatalf("batch: %+v %v; want ErrLost for wh_q1.2 (not leased) and wh_q2.2 next", res, err)
	}
	if atts, _ := s.ListAttempts(ctx, "wh_q2", 10); len(atts) != 1 || atts[0].ID != "att_q4" {
		t.Fatalf("the batch's good attempt was not recorded: %+v", atts)
	}
	for _, id := range []string{"wh_q1", "wh_q2"} {
		if err := s.DeleteEndpoint(ctx, "q", id); err != nil {
			t.Fatal(err)
		}
	}
}

// finishOne records one attempt through FinishAttempts.
func finishOne(s Store, owner string, a *webhooks.Attempt, o webhooks.Outcome, next *webhooks.Lease) ([]*webhooks.Message, error) {
	res, err := s.FinishAttempts(context.Background(), owner, []webhooks.Finish{{Attempt: a, Outcome: o, Next: next}})
	if err != nil {
		return nil, err
	}
	return res[0].Next, res[0].Err
}

// testWebhookRuns: a lease takes the endpoint's oldest pending messages as
// a run, in log order, stopping before the first that is not due or not
// free; released messages are due again at once.
func testWebhookRuns(t *testing.T, s Store) {
	ctx := context.Background()
	now := t0.Add(time.Minute)
	ep := &webhooks.Endpoint{ID: "wh_run", Workspace: "r", URL: "https://example.com/h", Events: []string{"memory.created"},
		Enabled: true, Secret: "whsec_AAAA", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	defer s.DeleteEndpoint(ctx, "r", ep.ID)
	id := func(seq int) string { return fmt.Sprintf("run.%d", seq) }
	// Seq 1..8, queued out of order; 6 is due only later.
	for _, seq := range []int{8, 3, 1, 6, 2, 5, 4, 7} {
		at := t0
		if seq == 6 {
			at = now.Add(time.Hour)
		}
		m := &webhooks.Message{ID: id(seq), EndpointID: ep.ID, Seq: int64(seq), Type: "memory.created",
			Body: []byte(`{}`), Status: webhooks.StatusPending, NextAt: at, CreatedAt: t0}
		if err := s.EnqueueMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.LeaseMessage(ctx, id(1), "n1", now, now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("lease the head: %v %v", ok, err)
	}
	if ok, _ := s.LeaseMessage(ctx, id(4), "n2", now, now.Add(time.Minute)); !ok {
		t.Fatal("lease run.4 for another node")
	}
	runIDs := func(ms []*webhooks.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	lease := &webhooks.Lease{Now: now, Until: now.Add(time.Minute), Max: 2}
	delivered := webhooks.Outcome{Status: webhooks.StatusDelivered}
	attempt := func(seq int) *webhooks.Attempt {
		return &webhooks.Attempt{ID: "att_" + id(seq), EndpointID: ep.ID, MessageID: id(seq), EventType: "memory.created",
			N: 1, At: now, StatusCode: 204}
	}
	next, err := finishOne(s, "n1", attempt(1), delivered, lease)
	if got := runIDs(next); err != nil || !slices.Equal(got, []string{id(2), id(3)}) {
		t.Fatalf("run of at most 2 after run.1: %v %v, want run.2 run.3", got, err)
	}
	// run.4 is another node's: the run after run.3 is empty, not run.5.
	lease.Max = 10
	if _, err := finishOne(s, "n1", attempt(2), delivered, nil); err != nil {
		t.Fatal(err)
	}
	next, err = finishOne(s, "n1", attempt(3), delivered, lease)
	if err != nil || len(next) != 0 {
		t.Fatalf("a run never skips a leased message: got %v %v", runIDs(next), err)
	}
	// n2 gives run.4 back: it is due again at once, and the run ends
	// before run.6, which is not due yet.
	res, err := s.FinishAttempts(ctx, "n2", []webhooks.Finish{{Release: []string{id(4)}}})
	if err != nil || len(res) != 1 || res[0].Err != nil || len(res[0].Next) != 0 {
		t.Fatalf("release only: %+v %v", res, err)
	}
	due, err := s.DueMessages(ctx, now, 10)
	if err != nil || len(due) != 1 || due[0].ID != id(4) {
		t.Fatalf("due after the release: %v %v, want run.4", runIDs(due), err)
	}
	if ok, _ := s.LeaseMessage(ctx, id(4), "n1", now, now.Add(time.Minute)); !ok {
		t.Fatal("lease the released run.4")
	}
	next, err = finishOne(s, "n1", attempt(4), delivered, lease)
	if got := runIDs(next); err != nil || !slices.Equal(got, []string{id(5)}) {
		t.Fatalf("run after run.4: %v %v, want run.5 only (run.6 is not due)", got, err)
	}
	// A failed attempt releases the rest of its run with its record.
	lease.Now = now.Add(2 * time.Hour)
	lease.Until = lease.Now.Add(time.Minute)
	a := attempt(5)
	a.StatusCode = 500
	res, err = s.FinishAttempts(ctx, "n1", []webhooks.Finish{{Attempt: a,
		Outcome: webhooks.Outcome{Status: webhooks.StatusPending, NextAt: lease.Now}, Next: lease}})
	if err != nil || res[0].Err != nil || !slices.Equal(runIDs(res[0].Next), []string{id(5), id(6), id(7), id(8)}) {
		t.Fatalf("run after a retry that is due: %v %v, want run.5..run.8", runIDs(res[0].Next), err)
	}
	a = attempt(5)
	a.ID, a.N, a.StatusCode = "att_run.5b", 2, 500
	a.Error, a.ResponseBody = `it's "quoted" ? $1 \ ünï`, "line 1\nline 2 ? '' \\"
	res, err = s.FinishAttempts(ctx, "n1", []webhooks.Finish{{Attempt: a,
		Outcome: webhooks.Outcome{Status: webhooks.StatusPending, NextAt: lease.Now.Add(time.Hour)},
		Release: []string{id(6), id(7), id(8)}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("failed attempt with a release: %+v %v", res, err)
	}
	if atts, err := s.ListAttempts(ctx, ep.ID, 1); err != nil || len(atts) != 1 || atts[0].ID != a.ID ||
		atts[0].Error != a.Error || atts[0].ResponseBody != a.ResponseBody || atts[0].StatusCode != 500 || atts[0].N != 2 {
		t.Fatalf("the newest attempt reads back as %+v (%v), want %+v", atts, err, a)
	}
	if due, _ := s.DueMessages(ctx, lease.Now.Add(2*time.Hour), 10); len(due) != 1 || due[0].ID != id(5) {
		t.Fatalf("after the retry delay the head is run.5, free: %v", runIDs(due))
	}
	if ok, _ := s.LeaseMessage(ctx, id(6), "n2", lease.Now, lease.Now.Add(time.Minute)); !ok {
		t.Fatal("run.6 is still leased after its release")
	}
}

// testWebhookRunExtension: a lease After a run's last message takes the
// messages after it, never the run's own, and stops before another
// node's.
func testWebhookRunExtension(t *testing.T, s Store) {
	ctx := context.Background()
	now := t0.Add(time.Minute)
	ep := &webhooks.Endpoint{ID: "wh_ext", Workspace: "x", URL: "https://example.com/h", Events: []string{"memory.created"},
		Enabled: true, Secret: "whsec_AAAA", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	defer s.DeleteEndpoint(ctx, "x", ep.ID)
	msgs := map[int]*webhooks.Message{}
	for seq := 1; seq <= 6; seq++ {
		msgs[seq] = &webhooks.Message{ID: fmt.Sprintf("ext.%d", seq), EndpointID: ep.ID, Seq: int64(seq), Type: "memory.created",
			Body: []byte(`{}`), Status: webhooks.StatusPending, NextAt: t0, CreatedAt: t0}
		if err := s.EnqueueMessage(ctx, msgs[seq]); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []struct {
		seq   int
		owner string
	}{{1, "n1"}, {2, "n1"}, {5, "n2"}} {
		if ok, err := s.LeaseMessage(ctx, msgs[l.seq].ID, l.owner, now, now.Add(time.Minute)); !ok || err != nil {
			t.Fatalf("lease ext.%d for %s: %v %v", l.seq, l.owner, ok, err)
		}
	}
	// n1 holds the run ext.1, ext.2; ext.1's record extends it after ext.2.
	a := &webhooks.Attempt{ID: "att_ext.1", EndpointID: ep.ID, MessageID: msgs[1].ID, EventType: "memory.created", N: 1,
		At: now, StatusCode: 204}
	delivered := webhooks.Outcome{Status: webhooks.StatusDelivered}
	lease := &webhooks.Lease{Now: now, Until: now.Add(time.Minute), Max: 10, After: msgs[2]}
	next, err := finishOne(s, "n1", a, delivered, lease)
	if err != nil || len(next) != 2 || next[0].ID != msgs[3].ID || next[1].ID != msgs[4].ID {
		t.Fatalf("extension after ext.2: %+v %v; want ext.3, ext.4 (ext.5 is n2's)", next, err)
	}
	// After ext.4 the next is n2's: nothing, and ext.6 stays free.
	a = &webhooks.Attempt{ID: "att_ext.2", EndpointID: ep.ID, MessageID: msgs[2].ID, EventType: "memory.created", N: 1,
		At: now, StatusCode: 204}
	lease.After = msgs[4]
	if next, err := finishOne(s, "n1", a, delivered, lease); err != nil || len(next) != 0 {
		t.Fatalf("extension after ext.4: %+v %v; want nothing (ext.5 is n2's)", next, err)
	}
	if ok, _ := s.LeaseMessage(ctx, msgs[6].ID, "n2", now, now.Add(time.Minute)); !ok {
		t.Fatal("ext.6 was leased by an extension that stopped before ext.5")
	}
}

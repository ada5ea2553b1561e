package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultWebhookRetryWait bounds the wait for a retry: the reference
// server retries a failed delivery after 5 s ± 20 %, and a cold, busy
// machine needs room on top.
const DefaultWebhookRetryWait = 30 * time.Second

// webhookQuiet is how long a check listens for deliveries that must not
// come, after a delivery fanned out from the same log event reached
// another endpoint.
const webhookQuiet = 2 * time.Second

// webhookFirstRetry is when the reference server's first retry comes at
// the latest (5 s + 20 % jitter).
const webhookFirstRetry = 6 * time.Second

func webhookChecks() []Check {
	return append([]Check{
		{ID: "WH-CREATE-001", Level: Must, Profile: Webhooks, Ref: "createWebhook 201, getWebhook 200, listWebhooks 200",
			Title: "registering answers 201 with Location and a whsec_ secret shown once; GET and the list show the endpoint without it", Run: checkHookCreate},
		{ID: "WH-CREATE-002", Level: Must, Profile: Webhooks, Ref: "createWebhook 400",
			Title: "a registration without url or events, with an unknown event or field, or a URL that is not http(s) without user info is 400 and registers nothing", Run: checkHookCreateInvalid},
		{ID: "WH-CREATE-003", Level: Must, Profile: Webhooks, Ref: "createWebhook 413",
			Title: "an oversized registration is 413 PAYLOAD_TOO_LARGE", Run: checkHookCreateTooLarge},
		{ID: "WH-CREATE-004", Level: Should, Profile: Webhooks, Ref: "createWebhook 400",
			Title: "a cloud-metadata or loopback URL is 400 unless the operator allows private addresses", Run: checkHookPrivate},
		{ID: "WH-UPDATE-001", Level: Must, Profile: Webhooks, Ref: "updateWebhook 200, getWebhook 200",
			Title: "PATCH replaces the fields given (events, enabled, url) and keeps the others", Run: checkHookUpdate},
		{ID: "WH-UPDATE-002", Level: Must, Profile: Webhooks, Ref: "updateWebhook 400",
			Title: "PATCH with no field, an unknown field, bad events or a bad url is 400 and changes nothing", Run: checkHookUpdateInvalid},
		{ID: "WH-UPDATE-003", Level: Must, Profile: Webhooks, Ref: "updateWebhook 413",
			Title: "an oversized PATCH is 413 PAYLOAD_TOO_LARGE", Run: checkHookUpdateTooLarge},
		{ID: "WH-DELETE-001", Level: Must, Profile: Webhooks, Ref: "deleteWebhook 200, deleteWebhook 404, getWebhook 404",
			Title: "DELETE answers {success, deleted_id}; the endpoint is then 404 and unlisted; deleting twice is 404", Run: checkHookDelete},
		{ID: "WH-NOTFOUND-001", Level: Must, Profile: Webhooks,
			Ref:   "getWebhook 404, updateWebhook 404, rotateWebhookSecret 404, sendWebhookTest 404, listWebhookDeliveries 404, redeliverWebhookMessage 404",
			Title: "every webhook operation on an unknown endpoint, and redelivering an unknown message, is 404 NOT_FOUND", Run: checkHookNotFound},
		{ID: "WH-BADID-001", Level: Must, Profile: Webhooks,
			Ref:   "getWebhook 400, deleteWebhook 400, rotateWebhookSecret 400, sendWebhookTest 400, listWebhookDeliveries 400, redeliverWebhookMessage 400",
			Title: "ids longer than 64 characters and a deliveries limit outside 1..100 are 400", Run: checkHookBadID},
		{ID: "WH-DELIVER-001", Level: Must, Profile: Webhooks, Ref: "memory.created, embedding.generated",
			Title: "creating a memory delivers memory.created and embedding.generated, signed (Standard Webhooks) and conforming to asyncapi.yaml", Run: checkHookDeliver},
		{ID: "WH-DELIVER-002", Level: Must, Profile: Webhooks, Ref: "memory.updated, memory.deleted",
			Title: "an update and a delete are delivered after the create, in log order, each with its own webhook-id", Run: checkHookOrder},
		{ID: "WH-FILTER-001", Level: Must, Profile: Webhooks, Ref: "createWebhook 201, memory.deleted",
			Title: "an endpoint receives only the event types it subscribed to", Run: checkHookFilter},
		{ID: "WH-RETRY-001", Level: Must, Profile: Webhooks, Ref: "listWebhookDeliveries 200", Timeout: 2 * time.Minute,
			Title: "a delivery answered 500 is retried with the same webhook-id and body; the delivery log shows both attempts", Run: checkHookRetry},
		{ID: "WH-REDELIVER-001", Level: Must, Profile: Webhooks, Ref: "redeliverWebhookMessage 202",
			Title: "redelivering a message sends it again with the same webhook-id and body", Run: checkHookRedeliver},
		{ID: "WH-REDELIVER-002", Level: Must, Profile: Webhooks, Ref: "redeliverWebhookMessage 202",
			Title: "redelivering a message whose attempt is still in flight sends it again (redelivery is queued whatever the state)", Run: checkHookRedeliverInFlight},
		{ID: "WH-TEST-001", Level: Must, Profile: Webhooks, Ref: "sendWebhookTest 202, webhook.test",
			Title: "POST /webhooks/{id}/test delivers webhook.test, its webhook-id the message_id answered", Run: checkHookTest},
		{ID: "WH-ROTATE-001", Level: Must, Profile: Webhooks, Ref: "rotateWebhookSecret 200",
			Title: "rotating gives a new secret; deliveries then carry signatures by the new and the previous secret", Run: checkHookRotate},
		{ID: "WH-DELETE-002", Level: Must, Profile: Webhooks, Ref: "deleteWebhook 200",
			Title: "a deleted endpoint receives nothing more", Run: checkHookDeletedQuiet},
		{ID: "WH-DISABLED-001", Level: Must, Profile: Webhooks, Ref: "updateWebhook 200",
			Title: "a disabled endpoint receives nothing; enabled again, it receives later events", Run: checkHookDisabled},
		{ID: "WH-GONE-001", Level: Must, Profile: Webhooks, Ref: "getWebhook 200", Timeout: 2 * time.Minute,
			Title: "an endpoint answering 410 Gone is disabled with a disabled_reason, and receives neither a retry nor later events", Run: checkHookGone},
		{ID: "WH-ROLLBACK-001", Level: Must, Profile: Webhooks, Ref: "createMemory 400, updateMemory 404, deleteMemory 404, memory.created",
			Title: "a rejected write sends no webhook (a change is delivered only if it committed)", Run: checkHookRejected},
		{ID: "WH-ISO-001", Level: Must, Profile: Webhooks, Ref: "getWebhook 404, sendWebhookTest 404, deleteWebhook 404",
			Title: "key B cannot see or use key A's endpoints (404), and B's endpoints never receive A's events", Run: checkHookIsolation},
	}, webhookAuthChecks()...)
}

var allHookEvents = []string{"memory.created", "memory.updated", "memory.deleted", "embedding.generated"}

func checkHookCreate(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "create", "memory.created", "memory.deleted")
	if !strings.HasPrefix(h.Secret, "whsec_") {
		t.Errorf("secret %q does not start with whsec_", h.Secret)
	} else if key, err := WebhookKey(h.Secret); err != nil || len(key) < 16 {
		t.Errorf("secret: %v (%d key bytes; Standard Webhooks recommends 24 to 64)", err, len(key))
	}
	if !h.Enabled || !slices.Equal(h.Events, []string{"memory.created", "memory.deleted"}) {
		t.Errorf("registered %+v, want enabled with events [memory.created memory.deleted]", h.Webhook)
	}
	if !strings.HasSuffix(h.Location, "/webhooks/"+h.ID) {
		t.Errorf("Location %q does not name /webhooks/%s", h.Location, h.ID)
	}
	if h.URL != h.rcv.base+h.path {
		t.Errorf("url %q, want %q", h.URL, h.rcv.base+h.path)
	}
	got := t.getHook(ctx, t.A, h.ID)
	if got.Secret != "" {
		t.Errorf("GET shows the secret again")
	}
	if got.URL != h.URL || !slices.Equal(got.Events, h.Events) || !got.Enabled {
		t.Errorf("GET %+v differs from the registration %+v", got, h.Webhook)
	}
	if ids := t.listHooks(ctx, t.A); !slices.Contains(ids, h.ID) {
		t.Errorf("the list %v lacks %s", ids, h.ID)
	}
}

func checkHookCreateInvalid(ctx context.Context, t *T) {
	rcv := t.receiver()
	u := rcv.base + "/hooks/" + t.Name("invalid")
	before := len(t.listHooks(ctx, t.A))
	bodies := []struct {
		name string
		body any
	}{
		{"empty object", map[string]any{}},
		{"no events", map[string]any{"url": u}},
		{"no url", map[string]any{"events": []any{"memory.created"}}},
		{"empty events", map[string]any{"url": u, "events": []any{}}},
		{"unknown event", map[string]any{"url": u, "events": []any{"memory.exploded"}}},
		{"unknown field", map[string]any{"url": u, "events": []any{"memory.created"}, "colour": "blue"}},
		{"events not an array", map[string]any{"url": u, "events": "memory.created"}},
		{"url not absolute", map[string]any{"url": "/hooks/relative", "events": []any{"memory.created"}}},
		{"ftp url", map[string]any{"url": "ftp://example.com/hook", "events": []any{"memory.created"}}},
		{"url with user info", map[string]any{"url": strings.Replace(u, "://", "://user:pw@", 1), "events": []any{"memory.created"}}},
	}
	for _, b := range bodies {
		resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/webhooks", JSON: b.body})
		if resp.Status == http.StatusCreated {
			var w Webhook
			if resp.Decode(&w) == nil {
				deleteHookQuietly(ctx, t.A, w.ID)
			}
		}
		if resp.Status != http.StatusBadRequest {
			t.Errorf("%s: want 400, got %s", b.name, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
	if after := len(t.listHooks(ctx, t.A)); after != before {
		t.Errorf("rejected registrations changed the number of endpoints from %d to %d", before, after)
	}
}

func checkHookCreateTooLarge(ctx context.Context, t *T) {
	big := strings.Repeat("h", t.suite.cfg.OversizeBytes)
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/webhooks",
		Raw: []byte(`{"url":"https://example.com/` + big + `","events":["memory.created"]}`)})
	if resp.Status == http.StatusCreated {
		var w Webhook
		if resp.Decode(&w) == nil {
			deleteHookQuietly(ctx, t.A, w.ID)
		}
	}
	t.ExpectError(resp, http.StatusRequestEntityTooLarge)
}

func checkHookPrivate(ctx context.Context, t *T) {
	for _, u := range []string{"https://169.254.169.254/latest/meta-data/", "https://127.0.0.1/hook"} {
		resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/webhooks", JSON: map[string]any{"url": u, "events": []any{"memory.created"}}})
		if resp.Status == http.StatusCreated {
			var w Webhook
			if resp.Decode(&w) == nil {
				deleteHookQuietly(ctx, t.A, w.ID)
			}
			t.Skipf("the server accepted %s: it allows private webhook addresses (as the suite's own receiver on a private address needs)", u)
		}
		t.ExpectError(resp, http.StatusBadRequest)
	}
}

func (t *T) patchHook(ctx context.Context, c *Client, id string, body any) *Response {
	return t.Do(ctx, c, Request{Method: "PATCH", Path: hookPath(id), JSON: body})
}

func checkHookUpdate(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "update", "memory.created")
	resp := t.patchHook(ctx, t.A, h.ID, map[string]any{"events": []any{"memory.deleted", "memory.updated"}, "enabled": false})
	t.Expect(resp, http.StatusOK)
	var w Webhook
	if err := resp.Decode(&w); err != nil {
		t.Fatalf("%v", err)
	}
	slices.Sort(w.Events)
	if w.Enabled || !slices.Equal(w.Events, []string{"memory.deleted", "memory.updated"}) || w.URL != h.URL {
		t.Errorf("after PATCH {events, enabled: false}: %+v", w)
	}
	if w.Secret != "" {
		t.Errorf("PATCH shows the secret")
	}
	_, u := h.rcv.open(h.path + "-moved")
	t.Cleanup(func(context.Context) { h.rcv.close(h.path + "-moved") })
	t.Expect(t.patchHook(ctx, t.A, h.ID, map[string]any{"url": u}), http.StatusOK)
	got := t.getHook(ctx, t.A, h.ID)
	slices.Sort(got.Events)
	if got.URL != u || got.Enabled || !slices.Equal(got.Events, []string{"memory.deleted", "memory.updated"}) {
		t.Errorf("GET after PATCH {url}: %+v (the url alone should have changed)", got)
	}
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("updated_at %s before created_at %s", got.UpdatedAt, got.CreatedAt)
	}
}

func checkHookUpdateInvalid(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "update-invalid", "memory.created")
	for _, b := range []struct {
		name string
		body any
	}{
		{"no field", map[string]any{}},
		{"unknown field", map[string]any{"colour": "blue"}},
		{"empty events", map[string]any{"events": []any{}}},
		{"unknown event", map[string]any{"events": []any{"memory.exploded"}}},
		{"enabled not a boolean", map[string]any{"enabled": "yes"}},
		{"ftp url", map[string]any{"url": "ftp://example.com/hook"}},
	} {
		resp := t.patchHook(ctx, t.A, h.ID, b.body)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("%s: want 400, got %s", b.name, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
	got := t.getHook(ctx, t.A, h.ID)
	if got.URL != h.URL || !got.Enabled || !slices.Equal(got.Events, h.Events) {
		t.Errorf("rejected PATCHes changed the endpoint: %+v", got)
	}
}

func checkHookUpdateTooLarge(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "update-large", "memory.created")
	big := strings.Repeat("h", t.suite.cfg.OversizeBytes)
	resp := t.Do(ctx, t.A, Request{Method: "PATCH", Path: hookPath(h.ID), Raw: []byte(`{"url":"https://example.com/` + big + `"}`)})
	t.ExpectError(resp, http.StatusRequestEntityTooLarge)
}

func checkHookDelete(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "delete", "memory.created")
	resp := t.Do(ctx, t.A, Request{Method: "DELETE", Path: hookPath(h.ID)})
	t.Expect(resp, http.StatusOK)
	var dr DeleteResult
	if err := resp.Decode(&dr); err != nil {
		t.Fatalf("%v", err)
	}
	if !dr.Success || dr.DeletedID != h.ID {
		t.Errorf("delete result %+v, want success true deleted_id %q", dr, h.ID)
	}
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "GET", Path: hookPath(h.ID)}), http.StatusNotFound)
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "DELETE", Path: hookPath(h.ID)}), http.StatusNotFound)
	if ids := t.listHooks(ctx, t.A); slices.Contains(ids, h.ID) {
		t.Errorf("a deleted endpoint is still listed")
	}
}

// hookOps are the requests of every operation on one endpoint (msg names
// a message of it).
func hookOps(id, msg string) map[string]Request {
	return map[string]Request{
		"createWebhook":           {Method: "POST", Path: "/webhooks", JSON: map[string]any{"url": "https://example.com/x", "events": []any{"memory.created"}}},
		"listWebhooks":            {Method: "GET", Path: "/webhooks"},
		"getWebhook":              {Method: "GET", Path: hookPath(id)},
		"updateWebhook":           {Method: "PATCH", Path: hookPath(id), JSON: map[string]any{"enabled": false}},
		"deleteWebhook":           {Method: "DELETE", Path: hookPath(id)},
		"rotateWebhookSecret":     {Method: "POST", Path: hookPath(id, "rotate-secret")},
		"sendWebhookTest":         {Method: "POST", Path: hookPath(id, "test")},
		"listWebhookDeliveries":   {Method: "GET", Path: hookPath(id, "deliveries")},
		"redeliverWebhookMessage": {Method: "POST", Path: hookPath(id, "messages", msg, "redeliver")},
	}
}

func sortedOps(ops map[string]Request) []string {
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func checkHookNotFound(ctx context.Context, t *T) {
	ops := hookOps(t.Name("no-such-hook"), "msg_"+t.RunID)
	for _, op := range sortedOps(ops) {
		if op == "createWebhook" || op == "listWebhooks" {
			continue
		}
		resp := t.Do(ctx, t.A, ops[op])
		if resp.Status != http.StatusNotFound {
			t.Errorf("%s on an unknown endpoint: want 404, got %s", op, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
	h := t.hook(ctx, t.A, "notfound", "memory.created")
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "POST", Path: hookPath(h.ID, "messages", "msg_"+t.RunID, "redeliver")}), http.StatusNotFound)
}

func checkHookBadID(ctx context.Context, t *T) {
	long := strings.Repeat("w", 65)
	ops := hookOps(long, "m")
	for _, op := range sortedOps(ops) {
		if op == "createWebhook" || op == "listWebhooks" {
			continue
		}
		resp := t.Do(ctx, t.A, ops[op])
		if resp.Status != http.StatusBadRequest {
			t.Errorf("%s with a %d-character id: want 400, got %s", op, len(long), resp)
			continue
		}
		t.checkEnvelope(resp)
	}
	h := t.hook(ctx, t.A, "badid", "memory.created")
	t.ExpectError(t.Do(ctx, t.A, Request{Method: "POST", Path: hookPath(h.ID, "messages", long, "redeliver")}), http.StatusBadRequest)
	for _, limit := range []string{"0", "101", "many"} {
		resp := t.Do(ctx, t.A, Request{Method: "GET", Path: hookPath(h.ID, "deliveries"), Query: map[string][]string{"limit": {limit}}})
		if resp.Status != http.StatusBadRequest {
			t.Errorf("deliveries limit=%s: want 400, got %s", limit, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
}

func checkHookDeliver(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "deliver", allHookEvents...)
	tag := t.Name("wh")
	text := "webhook delivery " + t.RunID
	sr := t.Create(ctx, t.A, map[string]any{"text": text, "metadata": map[string]any{"tags": []any{tag}, "source": "conformance"}})
	seen := map[string]string{} // type -> webhook-id
	for len(seen) < 2 {
		dl, msg, _ := h.await(t.webhookWait(), "memory.created and embedding.generated for "+sr.ID, func(_ Delivery, m WebhookMessage) bool {
			return (m.Type == "memory.created" || m.Type == "embedding.generated") && m.Fields()["id"] == sr.ID
		})
		if _, dup := seen[msg.Type]; dup {
			t.Errorf("%s delivered twice without a failure (webhook-ids %s, %s)", msg.Type, seen[msg.Type], dl.ID())
		}
		seen[msg.Type] = dl.ID()
		f := msg.Fields()
		switch msg.Type {
		case "memory.created":
			md, _ := f["metadata"].(map[string]any)
			tags, _ := f["tags"].([]any)
			if f["content"] != text || md["source"] != "conformance" || !slices.Contains(tags, any(tag)) {
				t.Errorf("memory.created data %s does not describe the memory", snippet(msg.Data))
			}
		case "embedding.generated":
			if n, _ := f["dimensions"].(float64); int(n) != sr.VectorDimensions {
				t.Errorf("embedding.generated dimensions %v, createMemory said %d", f["dimensions"], sr.VectorDimensions)
			}
			if sr.EmbeddingModel != "" && f["model"] != sr.EmbeddingModel {
				t.Errorf("embedding.generated model %v, createMemory said %q", f["model"], sr.EmbeddingModel)
			}
		}
	}
	if seen["memory.created"] == seen["embedding.generated"] {
		t.Errorf("two messages share the webhook-id %s", seen["memory.created"])
	}
}

func checkHookOrder(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "order", "memory.created", "memory.updated", "memory.deleted")
	sr := t.Create(ctx, t.A, map[string]any{"text": "ordered " + t.RunID})
	t.update(ctx, t.A, sr.ID, map[string]any{"text": "ordered, updated " + t.RunID})
	t.Expect(t.del(ctx, t.A, sr.ID), http.StatusOK)
	_, _, before := h.await(t.webhookWait(), "memory.deleted for "+sr.ID, about("memory.deleted", sr.ID))
	got := append(mentions(before, sr.ID), "memory.deleted")
	if want := []string{"memory.created", "memory.updated", "memory.deleted"}; !slices.Equal(got, want) {
		t.Errorf("deliveries about %s: %v, want %v in that order", sr.ID, got, want)
	}
}

func checkHookFilter(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "filter", "memory.deleted")
	sr := t.Create(ctx, t.A, map[string]any{"text": "filtered " + t.RunID})
	t.update(ctx, t.A, sr.ID, map[string]any{"text": "filtered, updated"})
	t.Expect(t.del(ctx, t.A, sr.ID), http.StatusOK)
	_, _, before := h.await(t.webhookWait(), "memory.deleted for "+sr.ID, about("memory.deleted", sr.ID))
	if len(before) > 0 {
		t.Errorf("an endpoint subscribed to memory.deleted only received %v first", types(before))
	}
}

func types(msgs []WebhookMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Type
	}
	return out
}

func checkHookRetry(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "retry", "memory.created")
	h.rcv.failNext(h.in, 1)
	sr := t.Create(ctx, t.A, map[string]any{"text": "retried " + t.RunID})
	first, _, _ := h.await(t.webhookWait(), "memory.created for "+sr.ID, about("memory.created", sr.ID))
	if first.Answered != http.StatusInternalServerError {
		t.Fatalf("the receiver answered %d, not 500 (it had a delivery before this one?)", first.Answered)
	}
	second, _, _ := h.await(t.retryWait(), "a retry of "+first.ID()+" (--webhook-retry-wait)", func(d Delivery, _ WebhookMessage) bool {
		return d.ID() == first.ID()
	})
	if string(second.Body) != string(first.Body) {
		t.Errorf("the retry's body differs:\n first %s\n retry %s", snippet(first.Body), snippet(second.Body))
	}
	log := t.deliveries(ctx, h.ID, t.webhookWait(), func(ds []WebhookDelivery) bool { return len(attemptsOf(ds, first.ID())) >= 2 })
	at := attemptsOf(log, first.ID())
	if len(at) < 2 {
		t.Fatalf("the delivery log shows %d attempts of %s, want 2: %+v", len(at), first.ID(), log)
	}
	if a := at[0]; a.Attempt != 1 || a.Success || a.StatusCode == nil || *a.StatusCode != 500 || a.EventType != "memory.created" {
		t.Errorf("first attempt %+v, want attempt 1, success false, status_code 500, event_type memory.created", a)
	}
	if a := at[1]; a.Attempt != 2 || !a.Success || a.StatusCode == nil || *a.StatusCode != http.StatusNoContent {
		t.Errorf("second attempt %+v, want attempt 2, success true, status_code 204", a)
	}
}

// checkHookRedeliver redelivers a message once its first attempt is in
// the delivery log (settled).
func checkHookRedeliver(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "redeliver", "memory.created")
	sr := t.Create(ctx, t.A, map[string]any{"text": "redelivered " + t.RunID})
	first, _, _ := h.await(t.webhookWait(), "memory.created for "+sr.ID, about("memory.created", sr.ID))
	t.deliveries(ctx, h.ID, t.webhookWait(), func(ds []WebhookDelivery) bool { return len(attemptsOf(ds, first.ID())) > 0 })
	t.redeliver(ctx, h, first)
}

// checkHookRedeliverInFlight redelivers a message while the receiver
// still holds the response to its first attempt.
func checkHookRedeliverInFlight(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "redeliver-inflight", "memory.created")
	release := h.rcv.holdNext(h.in)
	t.Cleanup(func(context.Context) { release() })
	sr := t.Create(ctx, t.A, map[string]any{"text": "redelivered in flight " + t.RunID})
	first, _, _ := h.await(t.webhookWait(), "memory.created for "+sr.ID, about("memory.created", sr.ID))
	t.redeliver(ctx, h, first, release)
}

// redeliver asks for first to be sent again (calling each after, e.g. to
// answer the first attempt, once the request was accepted) and awaits it.
func (t *T) redeliver(ctx context.Context, h *hook, first Delivery, after ...func()) {
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: hookPath(h.ID, "messages", first.ID(), "redeliver")})
	for _, f := range after {
		f()
	}
	t.Expect(resp, http.StatusAccepted)
	var q struct {
		MessageID string `json:"message_id"`
	}
	if err := resp.Decode(&q); err != nil {
		t.Fatalf("%v", err)
	}
	if q.MessageID != first.ID() {
		t.Errorf("message_id %q, want the redelivered %q", q.MessageID, first.ID())
	}
	again, _, _ := h.await(t.webhookWait(), "the redelivery of "+first.ID(), func(d Delivery, _ WebhookMessage) bool { return d.ID() == first.ID() })
	if string(again.Body) != string(first.Body) {
		t.Errorf("the redelivered body differs:\n first %s\n again %s", snippet(first.Body), snippet(again.Body))
	}
}

func (t *T) sendTest(ctx context.Context, h *hook) string {
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: hookPath(h.ID, "test")})
	t.Expect(resp, http.StatusAccepted)
	var q struct {
		MessageID string `json:"message_id"`
	}
	if err := resp.Decode(&q); err != nil {
		t.Fatalf("%v", err)
	}
	if q.MessageID == "" {
		t.Fatalf("empty message_id: %s", resp)
	}
	return q.MessageID
}

func checkHookTest(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "test", "memory.deleted")
	id := t.sendTest(ctx, h)
	_, msg, _ := h.await(t.webhookWait(), "webhook.test "+id, func(d Delivery, m WebhookMessage) bool { return d.ID() == id })
	if msg.Type != "webhook.test" || msg.Fields()["webhook_id"] != h.ID {
		t.Errorf("message %s: type %q data %s, want webhook.test with webhook_id %s", id, msg.Type, snippet(msg.Data), h.ID)
	}
}

func checkHookRotate(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "rotate", "memory.created")
	resp := t.Do(ctx, t.A, Request{Method: "POST", Path: hookPath(h.ID, "rotate-secret")})
	t.Expect(resp, http.StatusOK)
	var r struct {
		ID              string    `json:"id"`
		Secret          string    `json:"secret"`
		PreviousExpires time.Time `json:"previous_expires_at"`
	}
	if err := resp.Decode(&r); err != nil {
		t.Fatalf("%v", err)
	}
	if _, err := WebhookKey(r.Secret); err != nil || r.Secret == h.Secret || r.ID != h.ID {
		t.Fatalf("rotation answered id %q secret %q (%v), want id %s and a new whsec_ secret", r.ID, r.Secret, err, h.ID)
	}
	if !r.PreviousExpires.After(time.Now()) {
		t.Errorf("previous_expires_at %s is not in the future", r.PreviousExpires)
	}
	old := h.Secret
	h.Secrets = []string{r.Secret}
	id := t.sendTest(ctx, h)
	dl, _, _ := h.await(t.webhookWait(), "webhook.test "+id, func(d Delivery, _ WebhookMessage) bool { return d.ID() == id })
	if err := VerifyWebhook(old, dl.Header, dl.Body, dl.At); err != nil {
		t.Errorf("during the grace period the previous secret must sign too: %v", err)
	}
}

func checkHookDeletedQuiet(ctx context.Context, t *T) {
	gone := t.hook(ctx, t.A, "gone", "memory.created")
	marker := t.hook(ctx, t.A, "gone-marker", "memory.created")
	t.Expect(t.Do(ctx, t.A, Request{Method: "DELETE", Path: hookPath(gone.ID)}), http.StatusOK)
	sr := t.Create(ctx, t.A, map[string]any{"text": "after the delete " + t.RunID})
	marker.await(t.webhookWait(), "memory.created for "+sr.ID+" at the remaining endpoint", about("memory.created", sr.ID))
	if got := gone.collect(webhookQuiet); len(got) > 0 {
		t.Errorf("the deleted endpoint received %v", types(got))
	}
}

func checkHookDisabled(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "disabled", "memory.created")
	marker := t.hook(ctx, t.A, "disabled-marker", "memory.created")
	t.Expect(t.patchHook(ctx, t.A, h.ID, map[string]any{"enabled": false}), http.StatusOK)
	off := t.Create(ctx, t.A, map[string]any{"text": "while disabled " + t.RunID})
	marker.await(t.webhookWait(), "memory.created for "+off.ID+" at the enabled endpoint", about("memory.created", off.ID))
	if got := h.collect(webhookQuiet); len(got) > 0 {
		t.Errorf("the disabled endpoint received %v", types(got))
	}
	t.Expect(t.patchHook(ctx, t.A, h.ID, map[string]any{"enabled": true}), http.StatusOK)
	on := t.Create(ctx, t.A, map[string]any{"text": "enabled again " + t.RunID})
	_, _, before := h.await(t.webhookWait(), "memory.created for "+on.ID+" after enabling", about("memory.created", on.ID))
	if m := mentions(before, off.ID); len(m) > 0 {
		t.Errorf("after enabling, the endpoint received %v about the memory created while it was disabled", m)
	}
}

func checkHookGone(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "gone-410", "memory.created")
	marker := t.hook(ctx, t.A, "gone-410-marker", "memory.created")
	h.rcv.answerNext(h.in, 1, http.StatusGone)
	sr := t.Create(ctx, t.A, map[string]any{"text": "answered 410 " + t.RunID})
	first, _, _ := h.await(t.webhookWait(), "memory.created for "+sr.ID, about("memory.created", sr.ID))
	if first.Answered != http.StatusGone {
		t.Fatalf("the receiver answered %d, not 410 (it had a delivery before this one?)", first.Answered)
	}
	var w Webhook
	deadline := time.Now().Add(t.webhookWait())
	for {
		w = t.getHook(ctx, t.A, h.ID)
		if !w.Enabled || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if w.Enabled {
		t.Fatalf("the endpoint is still enabled %s after answering 410 Gone", t.webhookWait())
	}
	if w.DisabledReason == "" {
		t.Errorf("the endpoint disabled by 410 Gone has no disabled_reason")
	}
	after := t.Create(ctx, t.A, map[string]any{"text": "after 410 " + t.RunID})
	marker.await(t.webhookWait(), "memory.created for "+after.ID+" at the other endpoint", about("memory.created", after.ID))
	// A retry would come after the first backoff: listen that long
	// (within --webhook-retry-wait), not only the quiet period.
	if got := h.collect(max(webhookQuiet, min(webhookFirstRetry, t.retryWait()))); len(got) > 0 {
		t.Errorf("the endpoint that answered 410 received %v afterwards", types(got))
	}
}

func checkHookRejected(ctx context.Context, t *T) {
	h := t.hook(ctx, t.A, "rejected", allHookEvents...)
	dims := t.Dims(ctx, t.A)
	x := t.Name("never-stored")
	for _, body := range []map[string]any{
		{"id": x, "text": "rejected", "colour": "blue"},
		{"id": x, "text": "rejected", "embedding": unitVector(dims+1, 7)},
	} {
		resp := t.Do(ctx, t.A, Request{Method: "POST", Path: "/memory", JSON: body})
		if resp.Status < 300 {
			deleteQuietly(ctx, t.A, x)
		}
		t.ExpectError(resp, http.StatusBadRequest)
	}
	z := t.Name("never-existed")
	t.ExpectError(t.put(ctx, t.A, z, map[string]any{"text": "x"}), http.StatusNotFound)
	t.ExpectError(t.del(ctx, t.A, z), http.StatusNotFound)
	sr := t.Create(ctx, t.A, map[string]any{"text": "marker after rejected writes " + t.RunID})
	_, _, before := h.await(t.webhookWait(), "memory.created for the marker "+sr.ID, about("memory.created", sr.ID))
	if m := mentions(before, x); len(m) > 0 {
		t.Errorf("rejected creates of %s were delivered as %v", x, m)
	}
	if m := mentions(before, z); len(m) > 0 {
		t.Errorf("a rejected update or delete of %s was delivered as %v", z, m)
	}
}

func checkHookIsolation(ctx context.Context, t *T) {
	t.NeedB()
	ha := t.hook(ctx, t.A, "iso-a", allHookEvents...)
	hb := t.hook(ctx, t.B, "iso-b", allHookEvents...)
	for _, r := range []Request{
		{Method: "GET", Path: hookPath(ha.ID)},
		{Method: "POST", Path: hookPath(ha.ID, "test")},
		{Method: "DELETE", Path: hookPath(ha.ID)},
	} {
		t.ExpectError(t.Do(ctx, t.B, r), http.StatusNotFound)
	}
	if ids := t.listHooks(ctx, t.B); slices.Contains(ids, ha.ID) {
		t.Errorf("key B's list shows key A's endpoint")
	}
	sr := t.Create(ctx, t.A, map[string]any{"text": "workspace A only " + t.RunID})
	ha.await(t.webhookWait(), "memory.created for "+sr.ID, about("memory.created", sr.ID))
	if got := hb.collect(webhookQuiet); len(got) > 0 {
		t.Errorf("key B's endpoint received %v", types(got))
	}
	t.getHook(ctx, t.A, ha.ID) // B's DELETE left it alone
}

// webhookAuthChecks: every webhook operation refuses a bad key (401) and
// a workspace the key may not use (403), and changes nothing.
func webhookAuthChecks() []Check {
	var r401, r403 []string
	for _, op := range sortedOps(hookOps("x", "m")) {
		r401 = append(r401, op+" 401")
		r403 = append(r403, op+" 403")
	}
	return []Check{
		{ID: "WH-AUTH-401", Level: Must, Profile: Webhooks, Ref: strings.Join(r401, ", "),
			Title: "every webhook operation: a missing, unknown, empty or non-Bearer key is 401 and changes nothing", Run: checkHookUnauthorized},
		{ID: "WH-AUTH-403", Level: Must, Profile: Webhooks, Ref: strings.Join(r403, ", "),
			Title: "every webhook operation: X-Workspace-ID naming a workspace the key may not use is 403 and changes nothing", Run: checkHookForbidden},
	}
}

// guardedHook registers an endpoint and, after the check, verifies that
// the rejected requests left it and the endpoint count alone.
func (t *T) guardedHook(ctx context.Context, name string) *hook {
	h := t.hook(ctx, t.A, name, "memory.created")
	count := len(t.listHooks(ctx, t.A))
	t.Cleanup(func(ctx context.Context) {
		resp, err := t.A.Do(ctx, Request{Method: "GET", Path: hookPath(h.ID)})
		var w Webhook
		if err != nil || resp.Status != http.StatusOK || resp.Decode(&w) != nil || !w.Enabled || w.URL != h.URL {
			t.Errorf("a rejected request changed or removed endpoint %s: %v %v", h.ID, resp, err)
		}
		if resp, err := t.A.Do(ctx, Request{Method: "GET", Path: "/webhooks"}); err == nil {
			var l struct {
				Webhooks []json.RawMessage `json:"webhooks"`
			}
			if resp.Decode(&l) == nil && len(l.Webhooks) != count {
				t.Errorf("rejected requests changed the number of endpoints from %d to %d", count, len(l.Webhooks))
			}
		}
	})
	return h
}

func checkHookUnauthorized(ctx context.Context, t *T) {
	h := t.guardedHook(ctx, "auth401")
	ops := hookOps(h.ID, "msg_"+t.RunID)
	variants := map[string]func(*Request){
		"no Authorization":   func(r *Request) { r.NoAuth = true },
		"unknown key":        func(r *Request) { r.Auth = "Bearer mk_" + t.RunID + "_unknown" },
		"empty bearer":       func(r *Request) { r.Auth = "Bearer " },
		"Basic scheme":       func(r *Request) { r.Auth = "Basic dXNlcjpwYXNz" },
		"key without scheme": func(r *Request) { r.Auth = t.A.Key },
	}
	for _, op := range sortedOps(ops) {
		for name, set := range variants {
			r := ops[op]
			set(&r)
			resp := t.Do(ctx, t.A, r)
			if resp.Status != http.StatusUnauthorized {
				t.Errorf("%s, %s: want 401, got %s", op, name, resp)
				continue
			}
			t.checkEnvelope(resp)
		}
	}
}

func checkHookForbidden(ctx context.Context, t *T) {
	h := t.guardedHook(ctx, "auth403")
	ops := hookOps(h.ID, "msg_"+t.RunID)
	for _, op := range sortedOps(ops) {
		r := ops[op]
		r.Workspace = t.Name("not-yours")
		resp := t.Do(ctx, t.A, r)
		if resp.Status != http.StatusForbidden {
			t.Errorf("%s: want 403, got %s", op, resp)
			continue
		}
		t.checkEnvelope(resp)
	}
}

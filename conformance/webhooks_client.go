package conformance

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Webhook is the Webhook / WebhookWithSecret body of openapi.yaml.
type Webhook struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabled_reason"`
	Secret         string    `json:"secret"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// WebhookDelivery is one entry of listWebhookDeliveries.
type WebhookDelivery struct {
	ID         string  `json:"id"`
	MessageID  string  `json:"message_id"`
	EventType  string  `json:"event_type"`
	Attempt    int     `json:"attempt"`
	Success    bool    `json:"success"`
	StatusCode *int    `json:"status_code"`
	LatencyMS  float64 `json:"latency_ms"`
	Error      string  `json:"error"`
}

// hook is an endpoint a check registered at the suite's receiver.
type hook struct {
	Webhook
	// Secrets are the secrets a delivery may be signed with (the current
	// one first; the previous one too after a rotation).
	Secrets []string
	// Location is the registration's Location header.
	Location string
	path     string
	in       *inbox
	rcv      *receiver
	t        *T
}

// webhookWait is how long a check waits for an expected delivery.
func (t *T) webhookWait() time.Duration { return t.suite.cfg.EventWait }

// retryWait is how long a check waits for the retry of a failed attempt.
func (t *T) retryWait() time.Duration { return t.suite.cfg.WebhookRetryWait }

// hook registers an endpoint of c at the receiver for events and deletes
// it when the check ends.
func (t *T) hook(ctx context.Context, c *Client, name string, events ...string) *hook {
	rcv := t.receiver()
	path := "/hooks/" + t.Name(name)
	in, u := rcv.open(path)
	t.Cleanup(func(context.Context) { rcv.close(path) })
	resp := t.Do(ctx, c, Request{Method: "POST", Path: "/webhooks", JSON: map[string]any{"url": u, "events": events}})
	if resp.Status == http.StatusBadRequest && strings.HasPrefix(u, "http://") {
		t.Fatalf("the server refused the suite's receiver %s (plain http, a private address?): start it with "+
			"private webhook addresses allowed (memoryd: --webhooks-allow-private), or give the suite an https "+
			"--callback-url it accepts: %s", u, resp)
	}
	t.Expect(resp, http.StatusCreated)
	h := &hook{path: path, in: in, rcv: rcv, t: t}
	if err := resp.Decode(&h.Webhook); err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func(ctx context.Context) { deleteHookQuietly(ctx, c, h.ID) })
	h.Secrets = []string{h.Secret}
	h.Location = resp.Header.Get("Location")
	return h
}

func deleteHookQuietly(ctx context.Context, c *Client, id string) {
	_, _ = c.Do(ctx, Request{Method: "DELETE", Path: "/webhooks/" + url.PathEscape(id), NoValidate: true})
}

// next returns the next delivery within d, validated: Standard Webhooks
// headers signed with one of the hook's secrets, a JSON body conforming to
// the AsyncAPI webhook message of its type. A violation is an error of
// the check (it goes on, so the caller can still match the delivery).
func (h *hook) next(d time.Duration) (Delivery, WebhookMessage, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case dl := <-h.in.ch:
		return dl, h.validate(dl), true
	case <-timer.C:
		return Delivery{}, WebhookMessage{}, false
	}
}

func (h *hook) validate(dl Delivery) WebhookMessage {
	t := h.t
	if m := dl.Header.Get("X-Conformance-Method"); m != "" {
		t.Errorf("delivery %s was a %s, not a POST", dl.ID(), m)
	}
	if mt, _, _ := mime.ParseMediaType(dl.Header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("delivery %s: Content-Type %q, want application/json", dl.ID(), dl.Header.Get("Content-Type"))
	}
	var errs []string
	for _, s := range h.Secrets {
		err := VerifyWebhook(s, dl.Header, dl.Body, dl.At)
		if err == nil {
			errs = nil
			break
		}
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		t.Errorf("delivery %q: signature: %s (body %s)", dl.ID(), strings.Join(errs, "; "), snippet(dl.Body))
	}
	msg, err := t.suite.spec.validateWebhookBody(dl.Body)
	if err != nil {
		t.Errorf("delivery %q: %v (body %s)", dl.ID(), err, snippet(dl.Body))
	}
	return msg
}

// await returns the first delivery matching match within d and the ones
// before it; it stops the check on timeout.
func (h *hook) await(d time.Duration, what string, match func(Delivery, WebhookMessage) bool) (Delivery, WebhookMessage, []WebhookMessage) {
	deadline := time.Now().Add(d)
	var before []WebhookMessage
	for {
		dl, msg, ok := h.next(time.Until(deadline))
		if !ok {
			h.t.Fatalf("no %s delivered to webhook %s within %s (%d other deliveries)", what, h.ID, d, len(before))
		}
		if match(dl, msg) {
			return dl, msg, before
		}
		before = append(before, msg)
	}
}

// collect returns the deliveries arriving within d.
func (h *hook) collect(d time.Duration) []WebhookMessage {
	deadline := time.Now().Add(d)
	var out []WebhookMessage
	for {
		_, msg, ok := h.next(time.Until(deadline))
		if !ok {
			return out
		}
		out = append(out, msg)
	}
}

// about matches a delivery of type typ whose data.id is id.
func about(typ, id string) func(Delivery, WebhookMessage) bool {
	return func(_ Delivery, m WebhookMessage) bool { return m.Type == typ && m.Fields()["id"] == id }
}

// mentions reports whether any message is about memory id.
func mentions(msgs []WebhookMessage, id string) []string {
	var out []string
	for _, m := range msgs {
		if m.Fields()["id"] == id {
			out = append(out, m.Type)
		}
	}
	return out
}

// hookPath is the API path of an endpoint (and of its sub-resources).
func hookPath(id string, sub ...string) string {
	return strings.Join(append([]string{"/webhooks/" + url.PathEscape(id)}, sub...), "/")
}

// getHook reads an endpoint and expects 200.
func (t *T) getHook(ctx context.Context, c *Client, id string) Webhook {
	resp := t.Do(ctx, c, Request{Method: "GET", Path: hookPath(id)})
	t.Expect(resp, http.StatusOK)
	var w Webhook
	if err := resp.Decode(&w); err != nil {
		t.Fatalf("%v", err)
	}
	return w
}

// listHooks lists the ids of c's endpoints.
func (t *T) listHooks(ctx context.Context, c *Client) []string {
	resp := t.Do(ctx, c, Request{Method: "GET", Path: "/webhooks"})
	t.Expect(resp, http.StatusOK)
	var l struct {
		Webhooks []Webhook `json:"webhooks"`
	}
	if err := resp.Decode(&l); err != nil {
		t.Fatalf("%v", err)
	}
	ids := make([]string, len(l.Webhooks))
	for i, w := range l.Webhooks {
		ids[i] = w.ID
	}
	return ids
}

// deliveries polls listWebhookDeliveries until until accepts the list or
// d passes, and returns the last list.
func (t *T) deliveries(ctx context.Context, id string, d time.Duration, until func([]WebhookDelivery) bool) []WebhookDelivery {
	deadline := time.Now().Add(d)
	for {
		resp := t.Do(ctx, t.A, Request{Method: "GET", Path: hookPath(id, "deliveries")})
		t.Expect(resp, http.StatusOK)
		var l struct {
			Deliveries []WebhookDelivery `json:"deliveries"`
		}
		if err := resp.Decode(&l); err != nil {
			t.Fatalf("%v", err)
		}
		if until(l.Deliveries) || time.Now().After(deadline) {
			return l.Deliveries
		}
		select {
		case <-ctx.Done():
			return l.Deliveries
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// attemptsOf returns the attempts of one message, oldest first.
func attemptsOf(ds []WebhookDelivery, msgID string) []WebhookDelivery {
	var out []WebhookDelivery
	for _, d := range ds {
		if d.MessageID == msgID {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b WebhookDelivery) int { return a.Attempt - b.Attempt })
	return out
}

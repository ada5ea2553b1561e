package httpapi

import (
	"context"
	"net/url"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/webhooks"
)

// Webhooks is the management side of webhooks (webhooks.Manager).
type Webhooks interface {
	Create(ctx context.Context, ws, url string, types []string, enabled bool) (*webhooks.Endpoint, error)
	List(ctx context.Context, ws string) ([]*webhooks.Endpoint, error)
	Get(ctx context.Context, ws, id string) (*webhooks.Endpoint, error)
	Update(ctx context.Context, ws, id string, url *string, types []string, enabled *bool) (*webhooks.Endpoint, error)
	Delete(ctx context.Context, ws, id string) error
	Rotate(ctx context.Context, ws, id string) (*webhooks.Endpoint, error)
	Test(ctx context.Context, ws, id string) (string, error)
	Deliveries(ctx context.Context, ws, id string, limit int) ([]*webhooks.Attempt, error)
	Redeliver(ctx context.Context, ws, id, msgID string) error
}

var _ Webhooks = (*webhooks.Manager)(nil)

// WithWebhooks mounts /webhooks; without it they answer 404.
func WithWebhooks(w Webhooks) Option {
	return func(s *Server) { s.webhooks = w }
}

// hooks returns the webhook manager, or NOT_FOUND when none is mounted.
func (s *Server) hooks() (Webhooks, error) {
	if s.webhooks == nil {
		return nil, &memoryd.Error{Code: memoryd.ENOTFOUND, Message: "Webhooks are not enabled on this server"}
	}
	return s.webhooks, nil
}

func toAPIWebhook(e *webhooks.Endpoint) api.Webhook {
	types := make([]api.WebhookEventType, len(e.Events))
	for i, t := range e.Events {
		types[i] = api.WebhookEventType(t)
	}
	return api.Webhook{Id: e.ID, Url: e.URL, Events: types, Enabled: e.Enabled,
		DisabledReason: nonEmpty(e.DisabledReason), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

func eventTypes(ts []api.WebhookEventType) []string {
	if ts == nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// CreateWebhook registers an endpoint and shows its secret once.
func (s *Server) CreateWebhook(ctx context.Context, req api.CreateWebhookRequestObject) (api.CreateWebhookResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	b := req.Body
	e, err := h.Create(ctx, actor(ctx).Workspace, b.Url, eventTypes(b.Events), deref(b.Enabled, true))
	if err != nil {
		return nil, err
	}
	w := toAPIWebhook(e)
	return api.CreateWebhook201JSONResponse{Body: api.WebhookWithSecret{Id: w.Id, Url: w.Url, Events: w.Events,
		Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Secret: e.Secret},
		Headers: api.CreateWebhook201ResponseHeaders{Location: nonEmpty(s.base + "/webhooks/" + url.PathEscape(e.ID))}}, nil
}

// ListWebhooks lists the workspace's endpoints.
func (s *Server) ListWebhooks(ctx context.Context, _ api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	es, err := h.List(ctx, actor(ctx).Workspace)
	if err != nil {
		return nil, err
	}
	out := api.ListWebhooks200JSONResponse{Webhooks: make([]api.Webhook, 0, len(es))}
	for _, e := range es {
		out.Webhooks = append(out.Webhooks, toAPIWebhook(e))
	}
	return out, nil
}

// GetWebhook reads one endpoint.
func (s *Server) GetWebhook(ctx context.Context, req api.GetWebhookRequestObject) (api.GetWebhookResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	e, err := h.Get(ctx, actor(ctx).Workspace, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetWebhook200JSONResponse(toAPIWebhook(e)), nil
}

// UpdateWebhook changes url, events or enabled.
func (s *Server) UpdateWebhook(ctx context.Context, req api.UpdateWebhookRequestObject) (api.UpdateWebhookResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	b := req.Body
	e, err := h.Update(ctx, actor(ctx).Workspace, req.Id, b.Url, eventTypes(deref(b.Events, nil)), b.Enabled)
	if err != nil {
		return nil, err
	}
	return api.UpdateWebhook200JSONResponse(toAPIWebhook(e)), nil
}

// DeleteWebhook removes an endpoint.
func (s *Server) DeleteWebhook(ctx context.Context, req api.DeleteWebhookRequestObject) (api.DeleteWebhookResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	if err := h.Delete(ctx, actor(ctx).Workspace, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteWebhook200JSONResponse{Success: true, DeletedId: req.Id}, nil
}

// RotateWebhookSecret gives the endpoint a new secret.
func (s *Server) RotateWebhookSecret(ctx context.Context, req api.RotateWebhookSecretRequestObject) (api.RotateWebhookSecretResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	e, err := h.Rotate(ctx, actor(ctx).Workspace, req.Id)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookSecret200JSONResponse{Id: e.ID, Secret: e.Secret, PreviousExpiresAt: e.OldSecretUntil}, nil
}

// SendWebhookTest queues a webhook.test message.
func (s *Server) SendWebhookTest(ctx context.Context, req api.SendWebhookTestRequestObject) (api.SendWebhookTestResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	id, err := h.Test(ctx, actor(ctx).Workspace, req.Id)
	if err != nil {
		return nil, err
	}
	return api.SendWebhookTest202JSONResponse{MessageId: id}, nil
}

// ListWebhookDeliveries returns the endpoint's recent attempts.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	as, err := h.Deliveries(ctx, actor(ctx).Workspace, req.Id, deref(req.Params.Limit, 50))
	if err != nil {
		return nil, err
	}
	out := api.ListWebhookDeliveries200JSONResponse{Deliveries: make([]api.WebhookDelivery, 0, len(as))}
	for _, a := range as {
		d := api.WebhookDelivery{Id: a.ID, MessageId: a.MessageID, EventType: a.EventType, Attempt: a.N,
			AttemptedAt: a.At, Success: a.Success(), LatencyMs: float64(a.Latency.Microseconds()) / 1000,
			Error: nonEmpty(a.Error), ResponseBody: nonEmpty(a.ResponseBody)}
		if a.StatusCode != 0 {
			code := a.StatusCode
			d.StatusCode = &code
		}
		out.Deliveries = append(out.Deliveries, d)
	}
	return out, nil
}

// RedeliverWebhookMessage queues a message again.
func (s *Server) RedeliverWebhookMessage(ctx context.Context, req api.RedeliverWebhookMessageRequestObject) (api.RedeliverWebhookMessageResponseObject, error) {
	h, err := s.hooks()
	if err != nil {
		return nil, err
	}
	if err := h.Redeliver(ctx, actor(ctx).Workspace, req.Id, req.MessageId); err != nil {
		return nil, err
	}
	return api.RedeliverWebhookMessage202JSONResponse{MessageId: req.MessageId}, nil
}

package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
)

// Types are the event types an endpoint may subscribe to.
var Types = []string{memoryd.EventMemoryCreated, memoryd.EventMemoryUpdated, memoryd.EventMemoryDeleted,
	memoryd.EventEmbeddingGenerated}

// TypeTest is the type of the message POST /webhooks/{id}/test queues.
const TypeTest = "webhook.test"

// MaxPerWorkspace bounds the endpoints of one workspace.
const MaxPerWorkspace = 100

// RotationGrace is how long the previous secret keeps signing.
const RotationGrace = 24 * time.Hour

// Manager is the management side: endpoints of a workspace, their
// secrets, test messages, the delivery log and redeliveries. Every call
// is scoped to one workspace: another workspace's endpoint is NOT_FOUND.
type Manager struct {
	store Store
	guard *Guard
	now   func() time.Time
	// Wake, when set, is called after a message is queued or an
	// endpoint changed, so the deliverer does not wait for its next poll
	// and its runs under way read the endpoint again (Deliverer.Wake).
	Wake func()
}

// NewManager returns a Manager on st checking URLs with g.
func NewManager(st Store, g *Guard) *Manager {
	return &Manager{store: st, guard: g, now: time.Now}
}

func newID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func invalid(field, msg string) error {
	return &memoryd.Error{Code: memoryd.EINVALID, Message: msg, Details: map[string]any{"fields": map[string]any{field: msg}}}
}

func (m *Manager) checkURL(ctx context.Context, raw string) error {
	if err := m.guard.CheckURL(ctx, raw); err != nil {
		return invalid("url", err.Error())
	}
	return nil
}

func checkEvents(types []string) error {
	if len(types) == 0 {
		return invalid("events", "events must name at least one event type")
	}
	for _, t := range types {
		ok := false
		for _, k := range Types {
			ok = ok || k == t
		}
		if !ok {
			return invalid("events", "unknown event type "+t)
		}
	}
	return nil
}

// Create registers an endpoint; the result carries its secret.
func (m *Manager) Create(ctx context.Context, ws, url string, types []string, enabled bool) (*Endpoint, error) {
	if err := checkEvents(types); err != nil {
		return nil, err
	}
	if err := m.checkURL(ctx, url); err != nil {
		return nil, err
	}
	have, err := m.store.ListEndpoints(ctx, ws)
	if err != nil {
		return nil, err
	}
	if len(have) >= MaxPerWorkspace {
		return nil, invalid("url", "a workspace has at most 100 webhook endpoints")
	}
	now := m.now().UTC()
	e := &Endpoint{ID: newID("wh_"), Workspace: ws, URL: url, Events: types, Enabled: enabled,
		Secret: NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := m.store.CreateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	m.wake() // while none was registered, the deliverer held webhook events
	return e, nil
}

// List returns the workspace's endpoints.
func (m *Manager) List(ctx context.Context, ws string) ([]*Endpoint, error) {
	return m.store.ListEndpoints(ctx, ws)
}

// Get returns one endpoint.
func (m *Manager) Get(ctx context.Context, ws, id string) (*Endpoint, error) {
	return m.store.GetEndpoint(ctx, ws, id)
}

// Update changes the fields given (nil: unchanged).
func (m *Manager) Update(ctx context.Context, ws, id string, url *string, types []string, enabled *bool) (*Endpoint, error) {
	if types != nil {
		if err := checkEvents(types); err != nil {
			return nil, err
		}
	}
	if url != nil {
		if err := m.checkURL(ctx, *url); err != nil {
			return nil, err
		}
	}
	e, err := m.store.GetEndpoint(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	if url != nil {
		e.URL = *url
	}
	if types != nil {
		e.Events = types
	}
	if enabled != nil {
		e.Enabled = *enabled
		if e.Enabled {
			e.DisabledReason = ""
		}
	}
	e.UpdatedAt = m.now().UTC()
	if err := m.store.UpdateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	m.wake()
	return e, nil
}

// Delete removes an endpoint; it receives nothing more.
func (m *Manager) Delete(ctx context.Context, ws, id string) error {
	if err := m.store.DeleteEndpoint(ctx, ws, id); err != nil {
		return err
	}
	m.wake()
	return nil
}

// Rotate gives the endpoint a new secret; the old one signs beside it
// for RotationGrace.
func (m *Manager) Rotate(ctx context.Context, ws, id string) (*Endpoint, error) {
	e, err := m.store.GetEndpoint(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	now := m.now().UTC()
	e.OldSecret, e.OldSecretUntil = e.Secret, now.Add(RotationGrace)
	e.Secret, e.UpdatedAt = NewSecret(), now
	if err := m.store.UpdateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	m.wake()
	return e, nil
}

// Test queues a webhook.test message and returns its id.
func (m *Manager) Test(ctx context.Context, ws, id string) (string, error) {
	e, err := m.store.GetEndpoint(ctx, ws, id)
	if err != nil {
		return "", err
	}
	now := m.now().UTC()
	data, _ := json.Marshal(events.WebhookTest{WebhookId: e.ID, Message: "Test message from memoryd"})
	body, err := json.Marshal(events.WebhookMessage{Type: TypeTest, Timestamp: now, Data: data})
	if err != nil {
		return "", err
	}
	msg := &Message{ID: newID("msg_"), EndpointID: e.ID, Type: TypeTest, Body: body, Status: StatusPending,
		NextAt: now, CreatedAt: now}
	if err := m.store.EnqueueMessage(ctx, msg); err != nil {
		return "", err
	}
	m.wake()
	return msg.ID, nil
}

// Deliveries returns the endpoint's newest attempts.
func (m *Manager) Deliveries(ctx context.Context, ws, id string, limit int) ([]*Attempt, error) {
	if _, err := m.store.GetEndpoint(ctx, ws, id); err != nil {
		return nil, err
	}
	return m.store.ListAttempts(ctx, id, limit)
}

// Redeliver queues a message of the endpoint again, due now.
func (m *Manager) Redeliver(ctx context.Context, ws, id, msgID string) error {
	if _, err := m.store.GetEndpoint(ctx, ws, id); err != nil {
		return err
	}
	if err := m.store.Redeliver(ctx, id, msgID, m.now().UTC()); err != nil {
		return err
	}
	m.wake()
	return nil
}

func (m *Manager) wake() {
	if m.Wake != nil {
		m.Wake()
	}
}

// IsRefused reports whether err is a refusal of a URL or address.
func IsRefused(err error) bool { return errors.Is(err, ErrRefused) }

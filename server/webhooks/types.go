package webhooks

import (
	"context"
	"errors"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Endpoint is a registered receiver of one workspace's events.
type Endpoint struct {
	ID        string
	Workspace string
	URL       string
	Events    []string // event types it receives
	Enabled   bool
	// DisabledReason says why the server disabled it (410 Gone); "" otherwise.
	DisabledReason string
	Secret         string // "whsec_" + base64
	// OldSecret keeps signing beside Secret until OldSecretUntil, after a
	// rotation.
	OldSecret      string
	OldSecretUntil time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Wants reports whether the endpoint receives events of typ.
func (e *Endpoint) Wants(typ string) bool {
	for _, t := range e.Events {
		if t == typ {
			return true
		}
	}
	return false
}

// Message states.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed" // every retry failed, or the endpoint said 410
)

// Message is one body queued for one endpoint. Its ID is the
// webhook-id header, the same on every attempt.
type Message struct {
	ID         string
	EndpointID string
	Seq        int64 // log position; 0 for a test message
	Type       string
	Body       []byte
	Status     string
	Attempts   int // attempts made so far
	NextAt     time.Time
	CreatedAt  time.Time
}

// Attempt is one entry of an endpoint's delivery log.
type Attempt struct {
	ID           string
	EndpointID   string
	MessageID    string
	EventType    string
	N            int // 1 for the message's first attempt
	At           time.Time
	StatusCode   int // 0 when no response came
	Latency      time.Duration
	Error        string
	ResponseBody string
}

// Success reports a 2xx answer.
func (a *Attempt) Success() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// Outcome is what an attempt leaves its message in.
type Outcome struct {
	Status string    // StatusPending (retry at NextAt), StatusDelivered or StatusFailed
	NextAt time.Time // when pending
	// Disable, when set, disables the endpoint with this reason.
	Disable string
}

// Lease is the span a node takes messages for: from Now until Until.
type Lease struct {
	Now, Until time.Time
	// Max is how many of the endpoint's next messages, in log order,
	// to take at once (a run; at least 1).
	Max int
	// After, when set, is the last message of a run the same owner holds:
	// the lease extends that run with the messages after it, instead of
	// taking the endpoint's oldest pending ones (which are the run's).
	After *Message
}

// Finish is one attempt to record (Store.FinishAttempts).
type Finish struct {
	Attempt *Attempt // nil: only Release
	Outcome Outcome
	// Release lists messages of the attempt's run that will not be
	// attempted under its lease: the lease ends, so they are due again.
	Release []string
	Next    *Lease // nil: lease nothing
}

// Finished is what recording a Finish did.
type Finished struct {
	Next []*Message // the endpoint's next run, leased, in log order
	Err  error      // ErrLost, or nil
}

// ErrLost is returned by Store.FinishAttempt when the message's lease
// passed to another node (or the message was deleted) meanwhile.
var ErrLost = errors.New("webhooks: lease lost")

// ErrMoved is returned by Store.FanOut when another node moved the
// position first.
var ErrMoved = errors.New("webhooks: position moved")

// Store keeps endpoints, their queued messages and the delivery log.
// Errors: memoryd.ErrNotFound-coded errors for unknown endpoints or
// messages of the workspace; anything else is internal.
type Store interface {
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	// ListEndpoints returns the workspace's endpoints, oldest first.
	ListEndpoints(ctx context.Context, workspace string) ([]*Endpoint, error)
	GetEndpoint(ctx context.Context, workspace, id string) (*Endpoint, error)
	// EndpointByID reads an endpoint whatever its workspace (deliveries).
	EndpointByID(ctx context.Context, id string) (*Endpoint, error)
	// UpdateEndpoint stores every field of e but ID, Workspace and CreatedAt.
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	// DeleteEndpoint removes it with its messages and attempts.
	DeleteEndpoint(ctx context.Context, workspace, id string) error

	// HasEndpoints reports whether any endpoint is registered, enabled
	// or not.
	HasEndpoints(ctx context.Context) (bool, error)
	// WebhookPosition returns the log position the fan-out has reached;
	// ok is false before the first InitWebhookPosition.
	WebhookPosition(ctx context.Context) (seq int64, ok bool, err error)
	// InitWebhookPosition sets the position unless one is set.
	InitWebhookPosition(ctx context.Context, seq int64) error
	// FanOut queues a message for every enabled endpoint that wants
	// each event (built by build) and moves the position from `from`
	// to `to`, in one transaction; ErrMoved when the position is no
	// longer `from`. Messages have ids derived from endpoint and seq, so
	// a repeated fan-out queues nothing twice.
	FanOut(ctx context.Context, from, to int64, evs []*memoryd.Event, build func(*Endpoint, *memoryd.Event) (*Message, error)) error
	// EnqueueMessage queues one message (a test event).
	EnqueueMessage(ctx context.Context, m *Message) error
	// DueMessages returns, for up to limit endpoints that are enabled,
	// the oldest pending message (by seq) if it is due at now and not
	// leased: one message at a time per endpoint, in log order.
	DueMessages(ctx context.Context, now time.Time, limit int) ([]*Message, error)
	// LeaseMessage takes the message for owner until `until` unless
	// another lease holds it; false when it does.
	LeaseMessage(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
	// FinishAttempts records attempts in one transaction. For each, if
	// owner still holds the message's lease (Finished.Err is ErrLost
	// otherwise), it records the Attempt and leaves the message in
	// Outcome, and ends owner's leases of the Release messages; with
	// Next set it also leases for owner the endpoint's oldest pending
	// messages, up to Next.Max of them, as far as each is due at Next.Now
	// and free (a run in log order, never one with a gap). The result has
	// one entry per Finish; err reports a failure of the whole transaction.
	FinishAttempts(ctx context.Context, owner string, fs []Finish) ([]Finished, error)
	// Redeliver makes a message of the endpoint pending and due now with
	// a fresh retry schedule.
	Redeliver(ctx context.Context, endpointID, messageID string, now time.Time) error
	// ListAttempts returns the endpoint's newest attempts first.
	ListAttempts(ctx context.Context, endpointID string, limit int) ([]*Attempt, error)
	// PruneDeliveries deletes up to limit delivered or failed messages
	// queued before `before`, and up to limit attempts made before it;
	// it returns how many rows went. Pending messages stay.
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)
}

// Package memoryd holds the domain types of the memory service and the small
// interfaces its parts implement. Subpackages own one dependency or concern
// each (store, vector, embed, httpapi, events, auth, ...) and depend on this
// package, never on each other's internals.
package memoryd

import (
	"context"
	"time"
)

// Memory is one stored text with its metadata and vector.
//
// Metadata is free-form JSON; the well-known keys "type" (string), "tags"
// ([]string), "source" (string) and "timestamp" (RFC 3339 string) are also
// indexed so lists and searches can filter on them.
type Memory struct {
	ID        string
	Workspace string
	Text      string
	Metadata  map[string]any

	Embedding      []float32 // unit length when produced by an embedder
	EmbeddingModel string    // e.g. "use-lite", "hash-512", "client"
	Tokens         int       // tokens the embedder counted for Text (0 for client vectors)
	// VectorDims is the embedding's length when a read left Embedding
	// out (GetMemoriesMeta); Dimensions says which to show.
	VectorDims int

	CreatedAt time.Time
	UpdatedAt time.Time
	CreatedBy string // user of the key that created it
	UpdatedBy string
}

// Dimensions is the embedding's length, also when it was not read.
func (m *Memory) Dimensions() int {
	if m.Embedding != nil {
		return len(m.Embedding)
	}
	return m.VectorDims
}

// Type returns metadata.type or "".
func (m *Memory) Type() string { return metaString(m.Metadata, "type") }

// Source returns metadata.source or "".
func (m *Memory) Source() string { return metaString(m.Metadata, "source") }

// Tags returns metadata.tags as strings (non-strings are ignored).
func (m *Memory) Tags() []string {
	raw, _ := m.Metadata["tags"].([]any)
	if raw == nil {
		if ss, ok := m.Metadata["tags"].([]string); ok {
			return ss
		}
	}
	out := make([]string, 0, len(raw))
	for _, t := range raw {
		if s, ok := t.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func metaString(md map[string]any, key string) string {
	s, _ := md[key].(string)
	return s
}

// Filter narrows lists and searches. Zero values match everything.
type Filter struct {
	Type   string
	Source string
	// Tags: a memory matches when it carries every one of these tags.
	Tags []string
	// Metadata: exact match of top-level metadata keys against these values
	// (compared as JSON scalars: string, number, bool).
	Metadata      map[string]any
	CreatedAfter  *time.Time // inclusive
	CreatedBefore *time.Time // exclusive
}

// ListQuery selects one page of a workspace's memories, newest first.
type ListQuery struct {
	Filter
	Limit  int    // 1..1000; callers validate
	Cursor string // opaque, from ListPage.NextCursor; "" for the first page
}

// ListPage is one page of a list. Total counts every match of the filter,
// not only this page.
type ListPage struct {
	Memories   []*Memory
	NextCursor string // "" when this is the last page
	Total      int
}

// Event is one entry of the durable, append-only event log. Seq is the
// log position, assigned by the store when the event is appended in the same
// transaction as the change it describes.
type Event struct {
	Seq       int64
	Workspace string
	Type      string // "memory.created", "memory.updated", ...
	Payload   []byte // JSON, exactly the SSE data line
	CreatedAt time.Time
	// With holds events that the same change appends right after this
	// one, in the same transaction (embedding.generated with the
	// memory.created or memory.updated of the write that computed it).
	// A store gives each its Seq.
	With []*Event
}

// Event types.
const (
	EventMemoryCreated   = "memory.created"
	EventMemoryUpdated   = "memory.updated"
	EventMemoryDeleted   = "memory.deleted"
	EventSearchPerformed = "search.performed"
	EventUserActivity    = "user.activity"
	EventSystemHealth    = "system.health"
	EventAnalyticsUpdate = "analytics.update"
	// EventEmbeddingGenerated is a webhook event: in the log, not on the stream.
	EventEmbeddingGenerated = "embedding.generated"
)

// Tier names a rate-limit class of API keys.
type Tier string

const (
	TierUnlimited  Tier = ""
	TierFree       Tier = "free"
	TierPro        Tier = "pro"
	TierEnterprise Tier = "enterprise"
)

// APIKey is a stored key. Only the SHA-256 hash of the secret is kept.
type APIKey struct {
	ID         string // public identifier, e.g. "key_..."
	Hash       []byte // sha256(secret)
	Workspaces []string
	Tier       Tier
	User       string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// Scored is a search hit: a memory id and its score (higher is better).
type Scored struct {
	ID    string
	Score float32
}

// MemoryStore persists memories. Each change appends its event to the
// EventLog of the same store in the same transaction.
//
// Errors: ErrNotFound (wrapped in *Error with code NOT_FOUND) when a memory
// does not exist in the given workspace; anything else is internal.
type MemoryStore interface {
	// PutMemory inserts m or, when m.ID exists in m.Workspace, replaces it.
	// mkEvent builds the event appended in the same transaction; it gets the
	// previous version (nil for an insert). It must only build the event:
	// a store may call it more than once, and with nil before it knows
	// whether m.ID exists; the event appended is the one built for the
	// outcome. It returns whether m was created and the appended event
	// with its Seq.
	PutMemory(ctx context.Context, m *Memory, mkEvent func(prev *Memory) (*Event, error)) (created bool, ev *Event, err error)
	// UpdateMemory applies update to the current version inside the
	// transaction and stores the result; ErrNotFound if absent.
	UpdateMemory(ctx context.Context, workspace, id string, update func(cur *Memory) (*Event, error)) (*Memory, *Event, error)
	// DeleteMemory removes it and appends the event built by mkEvent.
	DeleteMemory(ctx context.Context, workspace, id string, mkEvent func(prev *Memory) (*Event, error)) (*Event, error)
	GetMemory(ctx context.Context, workspace, id string) (*Memory, error)
	ListMemories(ctx context.Context, workspace string, q ListQuery) (*ListPage, error)
	// MatchIDs returns the ids of every memory in workspace matching f.
	MatchIDs(ctx context.Context, workspace string, f Filter) ([]string, error)
	// KeywordSearch ranks memories by full-text relevance to query.
	KeywordSearch(ctx context.Context, workspace, query string, f Filter, limit int) ([]Scored, error)
	// GetMemories loads several memories by id (missing ids are skipped).
	GetMemories(ctx context.Context, workspace string, ids []string) (map[string]*Memory, error)
	// GetMemoriesMeta is GetMemories without the embeddings (VectorDims
	// keeps their length): what search answers show, without reading and
	// decoding a vector per hit.
	GetMemoriesMeta(ctx context.Context, workspace string, ids []string) (map[string]*Memory, error)
	// EachVector calls fn for every stored vector, to rebuild indexes at start.
	EachVector(ctx context.Context, fn func(workspace, id string, vec []float32) error) error
}

// BatchPutter stores many memories in one transaction (bulk writes).
type BatchPutter interface {
	// PutMemories puts each of ms as PutMemory does, all in one
	// transaction: every one is stored with its event, or none is.
	// mkEvent(i, prev) builds ms[i]'s event under PutMemory's rules.
	// created[i] and evs[i] report ms[i]'s outcome.
	PutMemories(ctx context.Context, ms []*Memory, mkEvent func(i int, prev *Memory) (*Event, error)) (created []bool, evs []*Event, err error)
}

// Exporter reads a workspace's memories in a stable order for export.
type Exporter interface {
	// ExportMemories returns up to limit memories of workspace stored
	// after the position after ("" from the start), vectors included, in
	// storage order, with the position of each. Memories added during an
	// export come after every earlier one, so an export resumed from a
	// position skips and repeats nothing. A malformed position is an
	// INVALID_REQUEST error.
	ExportMemories(ctx context.Context, workspace, after string, limit int) (ms []*Memory, positions []string, err error)
}

// EventAppender appends events that have no accompanying change.
type EventAppender interface {
	// AppendEvent appends an event that has no accompanying change
	// (search.performed, user.activity, ...).
	AppendEvent(ctx context.Context, ev *Event) error
}

// EventsAppender appends several events that have no accompanying change,
// each at the next position in slice order, committed together as far as
// the engine allows (one round trip instead of one per event).
type EventsAppender interface {
	AppendEvents(ctx context.Context, evs []*Event) error
}

// EventReader reads the log by position.
type EventReader interface {
	ReadEvents(ctx context.Context, workspace string, after int64, limit int) ([]*Event, error)
}

// RecentEvents is implemented by stores that keep the newest events in
// memory (SQLite those this process committed, PostgreSQL those its
// NOTIFY connection received). ok is false when the events after `after`
// are not all there.
type RecentEvents interface {
	RecentEvents(after int64, limit int) (evs []*Event, ok bool)
}

// ReadAfter returns up to limit events of every workspace after position
// after, in order. A log tailer woken by a commit passes woken: the
// events then come from the store's memory when it has them all (every
// commit wakes every tailer of every node, a search too), and from the
// log otherwise.
func ReadAfter(ctx context.Context, log EventReader, after int64, limit int, woken bool) ([]*Event, error) {
	if r, ok := log.(RecentEvents); ok && woken {
		if evs, ok := r.RecentEvents(after, limit); ok {
			return evs, nil
		}
	}
	return log.ReadEvents(ctx, "", after, limit)
}

// EventLog is the durable, append-only log that the stream tails.
type EventLog interface {
	EventAppender
	// ReadEvents returns up to limit events of workspace with Seq > after,
	// in order; workspace "" reads every workspace (the stream's log tail).
	ReadEvents(ctx context.Context, workspace string, after int64, limit int) ([]*Event, error)
	// EventBounds returns the lowest retained and the highest Seq (0, 0 when empty).
	EventBounds(ctx context.Context) (first, last int64, err error)
	// PruneEvents deletes events older than before or beyond the newest keep.
	PruneEvents(ctx context.Context, before time.Time, keep int64) (int64, error)
	// Epoch is a random id fixed when the log was created; positions of
	// another epoch are unusable.
	Epoch(ctx context.Context) (string, error)
}

// KeyLookup resolves a key by the hash of its secret; ErrNotFound when
// no key has it.
type KeyLookup interface {
	KeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
}

// KeyStore keeps API keys. Errors: ErrConflict on a duplicate key id,
// ErrNotFound when revoking an unknown key.
type KeyStore interface {
	KeyLookup
	CreateKey(ctx context.Context, k *APIKey) error
	ListKeys(ctx context.Context) ([]*APIKey, error)
	RevokeKey(ctx context.Context, id string) error
}

// Pinger reports whether a dependency answers (readiness).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Embedding is one embedder output.
type Embedding struct {
	Vector []float32
	Tokens int
}

// Embedder turns texts into vectors. Implementations are safe for
// concurrent use.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([]Embedding, error)
	Model() string
	Dims() int
}

// VectorIndex answers nearest-neighbour queries per workspace. Scores are
// cosine similarity (vectors are compared after normalisation).
type VectorIndex interface {
	Upsert(workspace, id string, vec []float32) error
	Delete(workspace, id string) error
	// Search returns up to k hits, best first. allow, when non-nil, restricts
	// the candidates before ranking.
	Search(workspace string, query []float32, k int, allow func(id string) bool) ([]Scored, error)
	Len(workspace string) int
}

// FilterSearcher is implemented by indexes that apply a Filter themselves,
// before ranking (Weaviate, which holds the filter attributes as
// properties); their writes must carry the memory, so that the attributes
// are stored with the vector.
type FilterSearcher interface {
	SearchFilter(workspace string, query []float32, k int, f Filter) ([]Scored, error)
	UpsertMemories(workspace string, ms []*Memory) error
}

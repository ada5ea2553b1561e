// Package service implements the memory operations on top of the store, the
// vector index and the embedder: validation that needs server state (text
// size, vector dimension), embedding, the outbox event of each change, and
// keeping the in-process index in step with the store.
package service

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Actor is who performs an operation: the authenticated key's user acting in
// one workspace.
type Actor struct {
	Workspace string
	User      string
	KeyID     string
}

// Service is safe for concurrent use.
type Service struct {
	store    Store
	index    memoryd.VectorIndex
	embedder memoryd.Embedder
	log      *slog.Logger
	now      func() time.Time

	maxTextBytes int
	// embedErr is the embedder's failure on the latest call, nil when it
	// answered (EmbedderHealth).
	embedErr atomic.Pointer[error]
	// locks serialise the store write and the index update of one memory id,
	// so the index never ends up holding an older vector than the store.
	locks [256]sync.Mutex
}

// Store is what the service writes and reads: the memories, and the log for
// events that accompany no change (search.performed).
type Store interface {
	memoryd.MemoryStore
	memoryd.EventAppender
}

// Option configures a Service.
type Option func(*Service)

// WithMaxTextBytes sets the largest accepted text (413 beyond).
func WithMaxTextBytes(n int) Option { return func(s *Service) { s.maxTextBytes = n } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// DefaultMaxTextBytes is the default text limit: 64 KiB.
const DefaultMaxTextBytes = 64 << 10

// New returns a Service.
func New(store Store, index memoryd.VectorIndex, embedder memoryd.Embedder, opts ...Option) *Service {
	s := &Service{
		store: store, index: index, embedder: embedder,
		log: slog.Default(), now: func() time.Time { return time.Now().Truncate(time.Microsecond) }, maxTextBytes: DefaultMaxTextBytes,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Embedder returns the service's embedder.
func (s *Service) Embedder() memoryd.Embedder { return s.embedder }

// LoadIndex fills the vector index from the store; run once at start.
func (s *Service) LoadIndex(ctx context.Context) (int, error) {
	n := 0
	err := s.store.EachVector(ctx, func(ws, id string, vec []float32) error {
		n++
		return s.index.Upsert(ws, id, vec)
	})
	return n, err
}

func (s *Service) lock(ws, id string) func() {
	h := fnv.New32a()
	h.Write([]byte(ws))
	h.Write([]byte{0})
	h.Write([]byte(id))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// checkText enforces the text size limit.
func (s *Service) checkText(text string) error {
	if len(text) > s.maxTextBytes {
		return &memoryd.Error{Code: memoryd.ETOOLARGE,
			Message: "Text is larger than the server accepts",
			Details: map[string]any{"max_text_bytes": s.maxTextBytes, "text_bytes": len(text)}}
	}
	return nil
}

// checkVector rejects a client vector whose dimension differs from the
// embedder's, which is the dimension of every vector in a workspace.
func (s *Service) checkVector(field string, vec []float32) error {
	if len(vec) != s.embedder.Dims() {
		return &memoryd.Error{Code: memoryd.EINVALID,
			Message: "Embedding has the wrong dimension",
			Details: map[string]any{"field": field, "expected_dimensions": s.embedder.Dims(), "got_dimensions": len(vec)}}
	}
	for _, v := range vec {
		if v != v || v > 3.4e38 || v < -3.4e38 {
			return &memoryd.Error{Code: memoryd.EINVALID, Message: "Embedding contains a non-finite number",
				Details: map[string]any{"field": field}}
		}
	}
	return nil
}

// embed embeds one text with the server's embedder.
func (s *Service) embed(ctx context.Context, text string) (memoryd.Embedding, error) {
	out, err := s.embedder.Embed(ctx, []string{text})
	if err != nil {
		if memoryd.ErrorCode(err) != memoryd.EINTERNAL {
			return memoryd.Embedding{}, err
		}
		s.embedErr.Store(&err)
		s.log.ErrorContext(ctx, "embedding failed", "err", err, "model", s.embedder.Model())
		return memoryd.Embedding{}, &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The embedder is unavailable"}
	}
	s.embedErr.Store(nil)
	return out[0], nil
}

// EmbedderHealth returns the embedder's failure when its latest call
// failed (searches by text and writes without a vector fail with it),
// nil once it answers again. It probes nothing: a remote embedder bills
// its calls. It is system.health's services.search.
func (s *Service) EmbedderHealth(context.Context) error {
	if p := s.embedErr.Load(); p != nil {
		return *p
	}
	return nil
}

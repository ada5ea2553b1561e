// Package service implements the memory operations on top of the store, the
// vector index and the embedder: validation of every input before anything
// is written (limits.go), embedding, the outbox event of each change,
// keeping the vector index in step with the store, and loading it at
// start without letting one bad row stop the service (load.go). A remote
// index (Weaviate, remote.go) ranks under filters itself, is written in
// batches, is synced rather than reloaded at start, and may be away:
// writes then still succeed and the log follower applies them later.
package service

import (
	"context"
	"errors"
	"fmt"
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
	// skipped counts the stored vectors LoadIndex could not load.
	skipped atomic.Int64
	// locks serialise the store write and the index update of one memory id,
	// so the index never ends up holding an older vector than the store.
	locks [stripes]sync.Mutex
	// gens counts the writes under each lock: the log follower compares
	// them across its unlocked batch read (follow.go).
	gens [stripes]atomic.Uint64
	// direct holds the log positions of the writes whose index update
	// this node made (direct.go).
	direct direct
	// searchLog, when started, appends search.performed events after
	// the search answers (searchlog.go).
	searchLog atomic.Pointer[searchLog]
}

// stripes is the number of per-id locks; ids share them by hash.
const stripes = 256

// Store is what the service writes and reads: the memories, and the log for
// events that accompany no change (search.performed).
type Store interface {
	memoryd.MemoryStore
	memoryd.EventsAppender
}

// Option configures a Service; it fails on a value the service cannot use.
type Option func(*Service) error

// WithMaxTextBytes sets the largest accepted text (413 beyond); n > 0.
func WithMaxTextBytes(n int) Option {
	return func(s *Service) error {
		if n <= 0 {
			return fmt.Errorf("service: max text bytes %d: must be positive", n)
		}
		s.maxTextBytes = n
		return nil
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) error {
		if l == nil {
			return errors.New("service: nil logger")
		}
		s.log = l
		return nil
	}
}

// DefaultMaxTextBytes is the default text limit: 64 KiB.
const DefaultMaxTextBytes = 64 << 10

// New returns a Service, or the first option's error.
func New(store Store, index memoryd.VectorIndex, embedder memoryd.Embedder, opts ...Option) (*Service, error) {
	s := &Service{
		store: store, index: index, embedder: embedder,
		log: slog.Default(), now: func() time.Time { return time.Now().Truncate(time.Microsecond) }, maxTextBytes: DefaultMaxTextBytes,
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Embedder returns the service's embedder.
func (s *Service) Embedder() memoryd.Embedder { return s.embedder }

// lock takes the lock of one memory id for a write: the store change and
// the index update it makes. Unlocking counts the write in gens.
func (s *Service) lock(ws, id string) func() {
	i := stripe(ws, id)
	s.locks[i].Lock()
	return func() {
		s.gens[i].Add(1)
		s.locks[i].Unlock()
	}
}

// stripe is the index of the lock of (ws, id).
func stripe(ws, id string) int {
	h := fnv.New32a()
	h.Write([]byte(ws))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return int(h.Sum32() % stripes)
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

// embedText embeds text and checks the vector as a client's would be: an
// embedder that answers with another dimension or a zero vector is
// misconfigured or broken, which is not the client's fault (500, logged).
func (s *Service) embedText(ctx context.Context, text string) (memoryd.Embedding, error) {
	e, err := s.embed(ctx, text)
	if err != nil {
		return e, err
	}
	if err := s.checkVector("embedding", e.Vector); err != nil {
		return memoryd.Embedding{}, fmt.Errorf("embedder %s returned an unusable vector: %v", s.embedder.Model(), err)
	}
	return e, nil
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

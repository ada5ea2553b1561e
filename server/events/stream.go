package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"

	memoryd "github.com/memoryd/memoryd/server"
)

// Stream is the live stream: the hub tailing the log, the SSE handler, the
// browser tickets, the periodic snapshots and the log's pruner. It
// implements httpapi.Stream.
type Stream struct {
	cfg     Config
	store   memoryd.MemoryStore
	log     *slog.Logger
	hub     *hub
	tickets *tickets
	reg     *registry
	meter   *meter
	proc    *procSampler
	// searchCheck reports the search engine's health (nil: always healthy).
	searchCheck func(context.Context) error

	closeOnce sync.Once
	closing   chan struct{} // closed by Close: every stream ends
}

// Option configures a Stream.
type Option func(*Stream)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Stream) { s.log = l } }

// WithSearchCheck sets the probe behind system.health's services.search.
func WithSearchCheck(f func(context.Context) error) Option {
	return func(s *Stream) { s.searchCheck = f }
}

// New returns a Stream over st. It reads the log's epoch and head, so the
// stream serves connections at once; Run starts following the log.
func New(ctx context.Context, st memoryd.MemoryStore, cfg Config, opts ...Option) (*Stream, error) {
	cfg = cfg.withDefaults()
	s := &Stream{cfg: cfg, store: st, log: slog.Default(), reg: newRegistry(),
		meter: &meter{}, proc: newProcSampler(), closing: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	var err error
	if s.tickets, err = newTickets(cfg.TicketSecret, cfg.TicketTTL); err != nil {
		return nil, err
	}
	if s.hub, err = newHub(ctx, st, cfg, s.log); err != nil {
		return nil, err
	}
	return s, nil
}

// Run follows the log, publishes snapshots and prunes the log until ctx
// ends; then it closes every open stream (as Close does).
func (s *Stream) Run(ctx context.Context) error {
	defer s.Close()
	var wg sync.WaitGroup
	wg.Go(func() { s.hub.run(ctx) })
	wg.Go(func() { s.runSnapshots(ctx) })
	if s.cfg.PruneInterval > 0 {
		wg.Go(func() { s.runPruner(ctx) })
	}
	wg.Wait()
	return nil
}

// Close ends every open stream with an `error` event (UNAVAILABLE, retry
// after the advised delay) and refuses new ones with 503. Call it when the
// HTTP server starts shutting down (http.Server.RegisterOnShutdown):
// Shutdown waits for handlers, and streams never end by themselves.
func (s *Stream) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// Head returns the position of the newest event the stream has seen, as
// clients see positions (tests, benchmarks, diagnostics).
func (s *Stream) Head() string { return s.hub.position(s.hub.head()) }

// ActiveStreams returns the number of open streams on this server.
func (s *Stream) ActiveStreams() int { return s.reg.total() }

func newConnID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "conn_" + hex.EncodeToString(b[:])
}

// registry counts open streams per key (for the connection limit) and per
// workspace (for analytics.update).
type registry struct {
	mu    sync.Mutex
	byKey map[string]int
	byWS  map[string]int
	n     int
}

func newRegistry() *registry {
	return &registry{byKey: map[string]int{}, byWS: map[string]int{}}
}

// acquire counts a new stream unless the key already has max open.
func (r *registry) acquire(key, ws string, max int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKey[key] >= max {
		return false
	}
	r.byKey[key]++
	r.byWS[ws]++
	r.n++
	return true
}

func (r *registry) release(key, ws string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byKey[key]--; r.byKey[key] <= 0 {
		delete(r.byKey, key)
	}
	if r.byWS[ws]--; r.byWS[ws] <= 0 {
		delete(r.byWS, ws)
	}
	r.n--
}

// workspaces returns the open stream count of every workspace with one.
func (r *registry) workspaces() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.byWS))
	for k, v := range r.byWS {
		out[k] = v
	}
	return out
}

func (r *registry) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

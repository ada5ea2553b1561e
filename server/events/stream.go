package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Stream is the live stream: the hub tailing the log, the SSE handler, the
// browser tickets, the periodic snapshots and the log's pruner. It
// implements httpapi.Stream.
type Stream struct {
	cfg     Config
	store   Store
	log     *slog.Logger
	hub     *hub
	tickets *tickets
	reg     *registry
	keys    *keyWatch
	meter   *meter
	proc    *procSampler
	// searchCheck reports the search engine's health (nil: always healthy).
	searchCheck func(context.Context) error

	closeOnce sync.Once
	closing   chan struct{} // closed by Close: every stream ends
	live      tracker       // streams not finished yet, for Run to wait
}

// Store is what the stream reads: the event log, and keys to check
// browser tickets against.
type Store interface {
	memoryd.EventLog
	memoryd.KeyLookup
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
func New(ctx context.Context, st Store, cfg Config, opts ...Option) (*Stream, error) {
	cfg = cfg.withDefaults()
	s := &Stream{cfg: cfg, store: st, log: slog.Default(), reg: newRegistry(), keys: newKeyWatch(),
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

// closeGrace bounds how long Run waits for the streams to end after
// Close: each sends its `error` event within a short write deadline.
const closeGrace = 10 * time.Second

// Run follows the log, publishes snapshots, checks the keys of open
// streams and prunes the log until ctx ends; then it closes every open
// stream (as Close does) and waits for them to end, up to closeGrace:
// streams taken over from net/http (hijacked) are not waited for by
// http.Server.Shutdown, and they still use the store as they end.
func (s *Stream) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { s.hub.run(ctx) })
	wg.Go(func() { s.runSnapshots(ctx) })
	wg.Go(func() { s.runKeyCheck(ctx) })
	if s.cfg.PruneInterval > 0 {
		wg.Go(func() { s.runPruner(ctx) })
	}
	wg.Wait()
	s.Close()
	s.live.wait(closeGrace)
	return nil
}

// Close ends every open stream with an `error` event (UNAVAILABLE, retry
// after the advised delay) and refuses new ones with 503. Call it when the
// HTTP server starts shutting down (http.Server.RegisterOnShutdown):
// streams never end by themselves, and Shutdown does not wait for the
// HTTP/1.1 ones, which left net/http once open; Run waits for them.
func (s *Stream) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.hub.wakeAll() // after: a woken connection sees closing
	})
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

// tracker counts the streams that have not finished, so Run can wait for
// them; once waited on it refuses new ones.
type tracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed when n drops to 0 while wait waits
}

// add counts a new stream; false once the tracker is closed.
func (t *tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n--; t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
}

// wait closes the tracker and waits until every counted stream is done,
// for at most d.
func (t *tracker) wait(d time.Duration) {
	t.mu.Lock()
	t.closed = true
	if t.n == 0 {
		t.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	t.idle = idle
	t.mu.Unlock()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-idle:
	case <-timer.C:
	}
}

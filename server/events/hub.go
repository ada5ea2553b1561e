package events

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Listener is implemented by stores that can wake the hub when an event is
// appended (PostgreSQL LISTEN/NOTIFY, in-process for SQLite). The channel
// carries the new event's seq (a hint only: the hub reads by position) and
// is closed when the subscription ends.
type Listener interface {
	Listen(ctx context.Context) (<-chan int64, error)
}

// hub tails the event log for the whole process: one reader, one encoding
// per event, one shared ring, one broadcast channel.
type hub struct {
	store memoryd.EventLog
	epoch string
	cfg   Config
	log   *slog.Logger

	mu   sync.RWMutex
	ring *ring
	// wake is closed (and replaced) whenever the ring or the board changes;
	// waiting connections take it with their read, so no wake-up is lost.
	wake   chan struct{}
	board  atomic.Pointer[board] // replaced whole, under mu, read without it
	counts map[string]*counts
}

// counts are one workspace's log events during the current snapshot period.
type counts struct{ created, updated, deleted, searches int }

func newHub(ctx context.Context, st memoryd.EventLog, cfg Config, log *slog.Logger) (*hub, error) {
	epoch, err := st.Epoch(ctx)
	if err != nil {
		return nil, err
	}
	_, last, err := st.EventBounds(ctx)
	if err != nil {
		return nil, err
	}
	h := &hub{store: st, epoch: epoch, cfg: cfg, log: log, ring: newRing(cfg.RingSize, last),
		wake: make(chan struct{}), counts: map[string]*counts{}}
	h.board.Store(&board{})
	return h, nil
}

// run tails the log until ctx ends.
func (h *hub) run(ctx context.Context) {
	notify := h.listen(ctx)
	poll := time.NewTicker(h.cfg.PollInterval)
	defer poll.Stop()
	woken := false // by a commit, rather than by the poll
	for {
		if err := h.catchUp(ctx, woken); err != nil && ctx.Err() == nil {
			h.log.Warn("reading the event log", "err", err, "after", h.head())
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-notify:
			if woken = ok; !ok {
				notify = nil // resubscribe on the next poll tick
				continue
			}
			drain(notify)
		case <-poll.C:
			woken = false
			if notify == nil {
				notify = h.listen(ctx)
			}
		}
	}
}

// listen subscribes to the store's wake-ups; nil (poll only) when it has
// none or the subscription fails.
func (h *hub) listen(ctx context.Context) <-chan int64 {
	l, ok := h.store.(Listener)
	if !ok {
		return nil
	}
	ch, err := l.Listen(ctx)
	if err != nil {
		h.log.Warn("event log wake-ups unavailable, polling", "err", err, "interval", h.cfg.PollInterval)
		return nil
	}
	return ch
}

// drain coalesces wake-ups that arrived while the hub was reading: one
// read after them serves them all.
func drain(ch <-chan int64) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// catchUp reads and shares every event after the hub's head. Woken by a
// commit, it takes the events from the store's memory when they are all
// there; the poll always reads the log, which also finds events written
// by another process.
func (h *hub) catchUp(ctx context.Context, woken bool) error {
	for {
		evs, err := memoryd.ReadAfter(ctx, h.store, h.head(), h.cfg.ReadBatch, woken)
		if err != nil {
			return err
		}
		h.ingest(evs)
		if len(evs) < h.cfg.ReadBatch {
			return nil
		}
	}
}

// ingest encodes events once (outside the lock) and publishes them.
func (h *hub) ingest(evs []*memoryd.Event) {
	if len(evs) == 0 {
		return
	}
	entries := make([]*entry, len(evs))
	for i, e := range evs {
		entries[i] = newEntry(h.epoch, e)
	}
	h.mu.Lock()
	for _, e := range entries {
		if e.seq <= h.ring.head {
			continue // already shared (a read overlapping a previous one)
		}
		h.ring.push(e)
		h.count(e)
	}
	woken := h.renewWakeLocked()
	h.mu.Unlock()
	close(woken)
}

func newEntry(epoch string, e *memoryd.Event) *entry {
	return &entry{seq: e.Seq, ws: e.Workspace, typ: e.Type, payload: e.Payload,
		frame: frame(encodePosition(epoch, e.Seq), e.Type, e.Payload)}
}

func (h *hub) count(e *entry) {
	c := h.counts[e.ws]
	if c == nil {
		c = &counts{}
		h.counts[e.ws] = c
	}
	switch e.typ {
	case memoryd.EventMemoryCreated:
		c.created++
	case memoryd.EventMemoryUpdated:
		c.updated++
	case memoryd.EventMemoryDeleted:
		c.deleted++
	case memoryd.EventSearchPerformed:
		c.searches++
	}
}

// takeCounts returns the period's counts and starts a new period.
func (h *hub) takeCounts() map[string]*counts {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.counts
	h.counts = map[string]*counts{}
	return c
}

// wakeAll wakes every waiting connection.
func (h *hub) wakeAll() {
	h.mu.Lock()
	woken := h.renewWakeLocked()
	h.mu.Unlock()
	close(woken)
}

// renewWakeLocked replaces the wake channel and returns the old one, for
// the caller to close once it has unlocked: the woken connections go
// straight for the read lock, and would otherwise all queue on it and be
// woken a second time, one by one, by Unlock.
func (h *hub) renewWakeLocked() chan struct{} {
	old := h.wake
	h.wake = make(chan struct{})
	return old
}

// head is the newest seq the hub has shared.
func (h *hub) head() int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.ring.head
}

// floor is the seq above which the ring is complete.
func (h *hub) floor() int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.ring.floor
}

// read appends to dst up to max entries after cursor; ok is false when
// cursor is older than the ring (read the store instead). wake is the
// channel closed by the next change after what was read: one lock per
// look, however many connections look at once.
func (h *hub) read(dst []*entry, cursor int64, max int) (entries []*entry, ok bool, wake <-chan struct{}) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	entries, ok = h.ring.after(dst, cursor, max)
	return entries, ok, h.wake
}

func (h *hub) position(seq int64) string { return encodePosition(h.epoch, seq) }

// board holds the latest periodic snapshots. gen changes with every
// publication, so a connection sends each snapshot at most once.
type board struct {
	gen          int64
	health       []byte
	healthStatus string
	analytics    map[string][]byte
}

// publish replaces the snapshots and wakes every connection.
func (h *hub) publish(health []byte, status string, analytics map[string][]byte) {
	h.mu.Lock()
	h.board.Store(&board{gen: h.board.Load().gen + 1, health: health, healthStatus: status, analytics: analytics})
	woken := h.renewWakeLocked()
	h.mu.Unlock()
	close(woken)
}

// snapshots returns the current board (never mutated: publish replaces it).
func (h *hub) snapshots() *board { return h.board.Load() }

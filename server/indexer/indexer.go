// Package indexer keeps a vector index in step with the durable event log,
// so every node's index follows every write, whichever node (or process on
// the same SQLite file) made it.
//
// A Consumer reads the log in order from its position, as the stream
// does, woken by the store's commit notifications (PostgreSQL
// LISTEN/NOTIFY, SQLite's in-process wake-ups) and polling at a bounded
// interval for what no notification announces (another process on the
// same SQLite file, a lost LISTEN connection). For each batch of events it
// collects the memories that memory.created, memory.updated and
// memory.deleted name and asks its Target to apply their current stored
// state (ApplyCurrent): present, upsert the stored vector; absent, delete.
// Applying state rather than the events' contents makes every step
// idempotent: a replayed overlap, or a race with the writing node's own
// direct upsert, can never leave an older vector. The node that takes a
// write still updates its own index at once, under the memory's write
// lock (server/service), so it reads its own writes as before; the
// consumer only brings the others, and skips the events of the writes
// its Target reports as applied already (DirectApplier).
//
// Positions. Start reads the log's head BEFORE the Target loads the
// memories table, then follows the log from there: a change that commits
// during the load is both loaded and replayed, which state-based applying
// makes harmless. Positions carry the log's epoch. When the events after
// the position are gone (pruned past the retention while the consumer was
// down or stuck, or the log was replaced), the consumer rebuilds the
// index from the tables with progress logs and continues from the head it
// read before the rebuild.
//
// Where a position is kept is the Cursor's business. The in-process
// index is loaded from the memories table at every start and keeps its
// position in memory (MemCursor); every node feeds its own.
//
// Weaviate (a remote index, shared by the nodes, that keeps its vectors
// across restarts) is fed by one node at a time, whichever holds the
// Gate (server/store/indexpos: a PostgreSQL advisory lock on a
// connection of its own, or a lease on the position row on SQLite), from
// a position saved in the database after Weaviate accepted each batch.
// The node that takes a write still upserts it at once
// (reads-your-writes); the feeder applies the other nodes' changes, so a
// change is written at most twice (by its node and by the feeder)
// whatever the number of nodes, and N nodes never feed it N times. A
// node that takes the gate continues from the saved position; without a
// usable one (first start, a pruned or replaced log) it compares each
// workspace's vector count with the table and applies only the differing
// ids (LoadIndex). When Weaviate is away, a node's own upserts fail
// (logged; the write is stored and logged, and not marked as applied
// directly), the feeder's batch fails and the position stays, so once
// Weaviate answers the feeder applies everything since. When the feeder
// stops, another node takes the gate and continues from the saved
// position: replaying what the old one applied after its last save is
// harmless, since applying reads current state.
//
// A Weaviate that was away can come back without writes it acknowledged
// just before (killed before they reached its disk): when feeding failed,
// the feeder compares it with the tables once it answers again, as at a
// start without a saved position (LoadIndex). A write Weaviate took
// shortly before or while it was killed can also come back as a record
// without its vector, which neither the count comparison sees nor an
// upsert of the same state repairs: the feeder therefore rewinds to the
// position it had applied Config.RewriteSpan before the failure and
// applies the events from there to the head when Weaviate answered again
// with the Target's Reapplier (delete, then write). The comparison reads
// every stored vector (LoadIndex); a failure of the database alone does
// not start it.
//
// A Weaviate wiped or replaced while memoryd runs is noticed by the
// feeder (a Marker: a record kept in Weaviate after each full load,
// checked every Config.WipeCheck; writes that recreate the collection do
// not recreate it) and re-indexed from the database with progress logs.
package indexer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Target is the index a Consumer feeds (server/service.Service for the
// in-process index).
type Target interface {
	// LoadIndex fills the index from the memories table at start, before
	// anything else writes it, and returns the number of vectors loaded.
	LoadIndex(ctx context.Context) (int, error)
	// RebuildIndex brings the whole index to the memories table's state
	// while it serves (writes keep arriving), with progress logs.
	RebuildIndex(ctx context.Context) (int, error)
	// ApplyCurrent makes the index hold the stored state of the given
	// memories of workspace (their vector, or none when absent).
	ApplyCurrent(ctx context.Context, workspace string, ids []string) error
}

// Reapplier is implemented by a Target whose index can hold a memory's
// record without a working vector after a crash (Weaviate killed while
// it took the write), and then skips an upsert of the same state.
type Reapplier interface {
	// ReapplyCurrent is ApplyCurrent that rewrites the vectors even when
	// the index believes it holds them.
	ReapplyCurrent(ctx context.Context, workspace string, ids []string) error
}

// DirectApplier is implemented by a Target that applies the writes of its
// own node directly (the in-process index, for reads-your-writes): the
// Consumer skips the events it reports, rather than reading those
// memories back from the store.
type DirectApplier interface {
	// AppliedDirectly reports, once per seq, whether the index already
	// holds the change at seq, or a newer state of that memory.
	AppliedDirectly(seq int64) bool
}

// Log is the part of the event log a Consumer reads.
type Log interface {
	ReadEvents(ctx context.Context, workspace string, after int64, limit int) ([]*memoryd.Event, error)
	EventBounds(ctx context.Context) (first, last int64, err error)
	Epoch(ctx context.Context) (string, error)
}

// Gate decides which node feeds a shared index (server/store/indexpos).
type Gate interface {
	// Hold tries to be, or stay, the node that feeds the index, and
	// reports whether this node is it now.
	Hold(ctx context.Context) (bool, error)
}

// Marker is implemented by a shared index that can tell whether it still
// holds what was loaded into it (server/vector/weaviate).
type Marker interface {
	// Mark records that the index holds the database's vectors.
	Mark(ctx context.Context) error
	// Marked reports whether that record is still there.
	Marked(ctx context.Context) (bool, error)
	// WentAway reports whether err says the index did not answer: it
	// may have lost writes it had acknowledged before.
	WentAway(err error) bool
}

// Listener is implemented by stores that wake log readers when an event is
// appended; the channel carries a hint only and is closed when ctx ends or
// the subscription is lost.
type Listener interface {
	Listen(ctx context.Context) (<-chan int64, error)
}

// Config tunes a Consumer.
type Config struct {
	// PollInterval bounds how long a change no wake-up announces (another
	// process on the same SQLite file) takes to reach the index.
	PollInterval time.Duration
	// ReadBatch is how many events one read of the log returns at most.
	ReadBatch int
	// WipeCheck is how often the feeder of an index with a Marker checks
	// that the index was not wiped.
	WipeCheck time.Duration
	// RewriteSpan is how long before a failure to feed an index with a
	// Marker the changes are rewritten once it answers again: those it
	// may have acknowledged and then lost on a crash.
	RewriteSpan time.Duration
	// WakeGap is the least time between two reads of the log that
	// wake-ups start. Every commit wakes every node's consumer, a search
	// too (search.performed), so without it each search would cost each
	// node a read of the database; the gap adds at most itself to the
	// lag of another node's write. Negative: no gap.
	WakeGap time.Duration
}

// DefaultConfig is what memoryd runs with. RewriteSpan is far above the
// seconds for which a killed Weaviate lost acknowledged writes in the
// fault drill, and costs one rewrite per change of that span.
var DefaultConfig = Config{PollInterval: 500 * time.Millisecond, ReadBatch: 1000, WipeCheck: 5 * time.Second,
	RewriteSpan: time.Minute, WakeGap: 50 * time.Millisecond}

// Consumer follows the log into one Target.
type Consumer struct {
	log    Log
	target Target
	cursor Cursor
	cfg    Config
	lg     *slog.Logger

	epoch string
	pos   atomic.Int64 // the last position applied
	// reload is set when the index was away at Start: CatchUp loads it
	// before following the log (only a remote index, whose LoadIndex is
	// safe while the service serves, can be away).
	reload atomic.Bool

	gate      Gate      // nil: this node always feeds its index
	held      bool      // this node holds gate and resumed from the saved position
	triedAt   time.Time // when this node last asked for the gate
	marker    Marker    // nil: the index cannot tell it was wiped
	checkedAt time.Time // of the last Marked check that answered
	// recheck is set when feeding failed: an index that went away may
	// have lost writes it had acknowledged just before (Weaviate killed),
	// which no event replays, so once it answers again it is compared
	// with the tables (load).
	recheck bool
	// forceUntil: after that comparison, the events up to this position
	// (those around the outage) are applied with a Reapplier, if the
	// target is one.
	forceUntil int64
	// marks: when each position was applied, one per second at most,
	// over the last RewriteSpan; rewindTo is where the rewrite after the
	// current failure starts.
	marks    []mark
	rewindTo int64
}

// mark is a position and when it was applied.
type mark struct {
	at  time.Time
	pos int64
}

// Option configures a Consumer.
type Option func(*Consumer)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *Consumer) { c.lg = l } }

// WithGate makes the consumer feed its index only while it holds g,
// continuing from the position its Cursor saved (a shared index, fed by
// one node at a time).
func WithGate(g Gate) Option { return func(c *Consumer) { c.gate = g } }

// WithMarker makes the consumer check, while it feeds, that the index
// still holds what it loaded, and re-index it from the tables otherwise.
func WithMarker(m Marker) Option { return func(c *Consumer) { c.marker = m } }

// WithConfig sets the configuration; zero fields keep their defaults.
func WithConfig(cfg Config) Option {
	return func(c *Consumer) {
		if cfg.PollInterval > 0 {
			c.cfg.PollInterval = cfg.PollInterval
		}
		if cfg.ReadBatch > 0 {
			c.cfg.ReadBatch = cfg.ReadBatch
		}
		if cfg.WipeCheck > 0 {
			c.cfg.WipeCheck = cfg.WipeCheck
		}
		if cfg.RewriteSpan > 0 {
			c.cfg.RewriteSpan = cfg.RewriteSpan
		}
		if cfg.WakeGap != 0 {
			c.cfg.WakeGap = max(cfg.WakeGap, 0) // negative: none
		}
	}
}

// New returns a Consumer of log feeding target, keeping its position in
// cursor.
func New(log Log, target Target, cursor Cursor, opts ...Option) *Consumer {
	c := &Consumer{log: log, target: target, cursor: cursor, cfg: DefaultConfig, lg: slog.Default()}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Position is the last log position the index has applied.
func (c *Consumer) Position() int64 { return c.pos.Load() }

// Start makes the index current as of the log's head: it resumes from the
// cursor's position when the log still holds everything after it, and
// loads the memories table otherwise. It returns the number of vectors
// loaded (0 when it resumed). Call it once, before Run.
func (c *Consumer) Start(ctx context.Context) (int, error) {
	epoch, err := c.log.Epoch(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the log's epoch: %w", err)
	}
	c.epoch = epoch
	if c.gate != nil {
		// A shared index: the node that holds the gate brings it up to
		// date; a node that cannot take it now (another feeds, or the
		// index is away) tries again at each CatchUp.
		if _, err := c.hold(ctx); err != nil {
			c.lg.WarnContext(ctx, "vector index feeder cannot start yet; retrying", "err", err)
		}
		return 0, nil
	}
	first, last, err := c.log.EventBounds(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the log's bounds: %w", err)
	}
	p, ok, err := c.cursor.Load(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the index's log position: %w", err)
	}
	if ok && p.Epoch == epoch && !lost(p.Seq, first, last) {
		c.pos.Store(p.Seq)
		c.lg.InfoContext(ctx, "vector index resumes from its log position", "position", p.Seq, "head", last)
		return 0, nil
	}
	// The head is read before the load: what commits meanwhile is
	// replayed after it.
	n, err := c.target.LoadIndex(ctx)
	if memoryd.ErrorCode(err) == memoryd.EUNAVAILABLE {
		// The node serves without it (writes are stored and logged);
		// the index is loaded, then follows the log, once it answers.
		c.lg.WarnContext(ctx, "vector index unavailable at start; loading it once it answers", "err", err)
		c.reload.Store(true)
		return 0, c.advance(ctx, last)
	}
	if err != nil {
		return n, err
	}
	return n, c.advance(ctx, last)
}

// lost reports whether the events after pos are no longer all in a log
// holding first..last: pruned, or pos is from a log that was replaced.
func lost(pos, first, last int64) bool { return first > pos+1 || pos > last }

// advance records pos as applied.
func (c *Consumer) advance(ctx context.Context, pos int64) error {
	c.pos.Store(pos)
	c.mark(time.Now(), pos)
	if err := c.cursor.Save(ctx, Position{Epoch: c.epoch, Seq: pos}); err != nil {
		return fmt.Errorf("saving the index's log position: %w", err)
	}
	return nil
}

// Run follows the log until ctx ends. A failing read or apply is retried
// from the same position at the next wake-up or poll.
func (c *Consumer) Run(ctx context.Context) {
	notify := c.listen(ctx)
	poll := time.NewTicker(c.cfg.PollInterval)
	defer poll.Stop()
	failing := false
	woken := false // by a commit, rather than by the poll
	for {
		began := time.Now()
		err := c.catchUp(ctx, woken)
		woken = false
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			c.lg.WarnContext(ctx, "vector index cannot follow the event log; retrying", "err", err, "position", c.Position())
		case err == nil && failing:
			c.lg.InfoContext(ctx, "vector index follows the event log again", "position", c.Position())
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case _, ok := <-notify:
			if !ok {
				notify = nil // subscribe again at the next poll
				continue
			}
			if !sleep(ctx, c.cfg.WakeGap-time.Since(began)) {
				return
			}
			drain(notify)
			woken = true
		case <-poll.C:
			if notify == nil {
				notify = c.listen(ctx)
			}
		}
	}
}

// sleep waits d (nothing when d <= 0) and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// listen subscribes to the store's wake-ups; nil (poll only) when it has
// none or the subscription fails.
func (c *Consumer) listen(ctx context.Context) <-chan int64 {
	l, ok := c.log.(Listener)
	if !ok {
		return nil
	}
	ch, err := l.Listen(ctx)
	if err != nil {
		c.lg.WarnContext(ctx, "event log wake-ups unavailable, the vector index polls", "err", err, "interval", c.cfg.PollInterval)
		return nil
	}
	return ch
}

// drain takes the wake-ups that arrived while the consumer was reading:
// the read after them serves them all.
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

// CatchUp applies every event after the position, in batches, and returns
// when it has reached the head it saw. Run calls it at each wake-up; call
// it directly only when Run is not running.
func (c *Consumer) CatchUp(ctx context.Context) error { return c.catchUp(ctx, false) }

// catchUp is CatchUp; woken by a commit, it takes the events from the
// store's memory when they are all there.
func (c *Consumer) catchUp(ctx context.Context, woken bool) error {
	if c.gate != nil {
		if ok, err := c.hold(ctx); err != nil || !ok {
			return err
		}
	}
	if err := c.checkWiped(ctx); err != nil {
		c.failed(ctx, err)
		return err
	}
	if c.recheck {
		if err := c.afterOutage(ctx); err != nil {
			return err
		}
	}
	if c.reload.Load() {
		n, err := c.target.LoadIndex(ctx)
		if err != nil {
			return err
		}
		c.reload.Store(false)
		c.lg.InfoContext(ctx, "vector index loaded after it became available", "applied", n)
	}
	for {
		pos := c.Position()
		evs, err := memoryd.ReadAfter(ctx, c.log, pos, c.cfg.ReadBatch, woken)
		if err != nil {
			return err
		}
		if len(evs) == 0 || evs[0].Seq != pos+1 {
			// Read first, bounds after: a prune that removed what the
			// read skipped shows in the bounds (positions can also be
			// skipped by a write that failed, which is not a loss).
			if gone, err := c.behind(ctx, pos); err != nil || gone {
				return err
			}
		}
		if len(evs) == 0 {
			return nil
		}
		if err := c.apply(ctx, evs); err != nil {
			c.failed(ctx, err)
			return err
		}
		if err := c.advance(ctx, evs[len(evs)-1].Seq); err != nil {
			return err
		}
		if len(evs) < c.cfg.ReadBatch {
			return nil
		}
	}
}

// failed notes that feeding an index with a Marker failed because the
// index went away (not, say, the database): it is compared with the
// tables once it answers again, and the changes from RewriteSpan before
// now are rewritten (see recheck).
func (c *Consumer) failed(ctx context.Context, err error) {
	if c.marker == nil || c.recheck || !c.marker.WentAway(err) {
		return
	}
	c.recheck = true
	c.rewindTo = c.appliedAt(time.Now().Add(-c.cfg.RewriteSpan))
	c.lg.InfoContext(ctx, "vector index will be compared with the memories table once it answers again",
		"position", c.Position(), "rewrite_from", c.rewindTo)
}

// afterOutage compares the index with the tables, then rewinds to the
// position where the rewrite starts; the events up to the head read
// before the comparison are then applied with the Reapplier.
func (c *Consumer) afterOutage(ctx context.Context) error {
	_, head, err := c.log.EventBounds(ctx)
	if err != nil {
		return err
	}
	if err := c.load(ctx); err != nil {
		return err
	}
	c.recheck, c.forceUntil = false, head
	if c.rewindTo >= c.Position() {
		return nil
	}
	c.lg.InfoContext(ctx, "vector index rewrites the changes from before and during the outage",
		"from", c.rewindTo, "to", head)
	c.marks = nil
	return c.advance(ctx, c.rewindTo)
}

// mark notes that pos was applied at t, keeping one mark per second and
// none older than the newest that is at least RewriteSpan old.
func (c *Consumer) mark(t time.Time, pos int64) {
	if n := len(c.marks); n > 0 && t.Sub(c.marks[n-1].at) < time.Second {
		return
	}
	c.marks = append(c.marks, mark{t, pos})
	cut := t.Add(-c.cfg.RewriteSpan)
	for len(c.marks) > 1 && !c.marks[1].at.After(cut) {
		c.marks = c.marks[1:]
	}
}

// appliedAt is the position that had been applied at t: the newest mark
// not after t, or the oldest mark (the earliest position this consumer
// knows) when all are newer.
func (c *Consumer) appliedAt(t time.Time) int64 {
	if len(c.marks) == 0 {
		return c.Position()
	}
	p := c.marks[0].pos
	for _, m := range c.marks {
		if m.at.After(t) {
			break
		}
		p = m.pos
	}
	return p
}

// behind rebuilds the index from the tables when the log no longer holds
// every event after pos, and reports whether it did.
func (c *Consumer) behind(ctx context.Context, pos int64) (bool, error) {
	first, last, err := c.log.EventBounds(ctx)
	if err != nil || !lost(pos, first, last) {
		return false, err
	}
	c.lg.WarnContext(ctx, "vector index fell behind the event log's retention; rebuilding it from the memories table",
		"position", pos, "oldest_retained", first, "head", last)
	if _, err := c.target.RebuildIndex(ctx); err != nil {
		return true, err
	}
	return true, c.advance(ctx, last)
}

// apply hands the memories the events name to the target, one call per
// workspace, each memory once.
func (c *Consumer) apply(ctx context.Context, evs []*memoryd.Event) error {
	byWS, forced := map[string][]string{}, map[string][]string{}
	seen := map[[2]string]bool{}
	direct, _ := c.target.(DirectApplier)
	re, _ := c.target.(Reapplier)
	for _, e := range evs {
		id, ok := c.memoryID(ctx, e)
		if !ok || seen[[2]string{e.Workspace, id}] {
			continue
		}
		// A direct write around the outage may be one the index lost:
		// it is rewritten like the others.
		isDirect := direct != nil && direct.AppliedDirectly(e.Seq)
		forcing := re != nil && e.Seq <= c.forceUntil
		if isDirect && !forcing {
			continue
		}
		seen[[2]string{e.Workspace, id}] = true
		if forcing {
			forced[e.Workspace] = append(forced[e.Workspace], id)
			continue
		}
		byWS[e.Workspace] = append(byWS[e.Workspace], id)
	}
	for ws, ids := range forced {
		if err := re.ReapplyCurrent(ctx, ws, ids); err != nil {
			return err
		}
	}
	for ws, ids := range byWS {
		if err := c.target.ApplyCurrent(ctx, ws, ids); err != nil {
			return err
		}
	}
	return nil
}

// memoryID returns the id of the memory a memory.* event names.
func (c *Consumer) memoryID(ctx context.Context, e *memoryd.Event) (string, bool) {
	switch e.Type {
	case memoryd.EventMemoryCreated, memoryd.EventMemoryUpdated, memoryd.EventMemoryDeleted:
	default:
		return "", false
	}
	var p struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil || p.ID == "" {
		c.lg.WarnContext(ctx, "memory event without a memory id; the vector index skips it",
			"seq", e.Seq, "type", e.Type, "workspace", e.Workspace)
		return "", false
	}
	return p.ID, true
}

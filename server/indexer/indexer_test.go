package indexer_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/indexer"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

const dims = 64

var actor = service.Actor{Workspace: "w", User: "u"}

// waitLimit only guards against a hang; nothing asserts on timing.
const waitLimit = 30 * time.Second

// node is one memoryd process's store, service, index and consumer.
type node struct {
	st   *store.Store
	svc  *service.Service
	idx  *memindex.Index
	feed *indexer.Consumer
	log  *logBuffer
}

// newNode opens the SQLite file at path as a node of its own, as another
// process would: its store hears none of the other nodes' commits.
func newNode(t *testing.T, path string, cfg indexer.Config) *node {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lb := &logBuffer{}
	log := slog.New(slog.NewTextHandler(lb, nil))
	n := &node{st: st, idx: memindex.New(), log: lb}
	svc, err := service.New(st, n.idx, hash.New(dims), service.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	n.svc = svc
	n.feed = indexer.New(st, n.svc, &indexer.MemCursor{}, indexer.WithLogger(log), indexer.WithConfig(cfg))
	return n
}

func (n *node) start(t *testing.T) int {
	t.Helper()
	loaded, err := n.feed.Start(context.Background())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return loaded
}

func (n *node) catchUp(t *testing.T) {
	t.Helper()
	if err := n.feed.CatchUp(context.Background()); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
}

// put stores id with vec through n's service.
func (n *node) put(t *testing.T, id string, vec []float32) {
	t.Helper()
	if _, err := n.svc.Put(context.Background(), actor, service.PutInput{ID: id, Text: "text of " + id, Embedding: vec}); err != nil {
		t.Fatal(err)
	}
}

// found returns the ids n's semantic search finds for vec with a score of
// (nearly) 1: the memories whose vector n's index holds as vec.
func (n *node) found(t *testing.T, vec []float32) []string {
	t.Helper()
	res, err := n.svc.Search(context.Background(), actor, service.SearchQuery{Embedding: vec, Mode: service.ModeSemantic, Limit: 10, Threshold: 0.999})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.Memory.ID)
	}
	return ids
}

func (n *node) wantFound(t *testing.T, vec []float32, want ...string) {
	t.Helper()
	if got := n.found(t, vec); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("search finds %v, want %v", got, want)
	}
}

func unit(i int) []float32 {
	v := make([]float32, dims)
	v[i] = 1
	return v
}

// logBuffer is a log destination tests can read while the nodes write.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Creates, updates and deletes made by another process on the same file
// reach this node's index when it follows the log, and only then.
func TestConsumerFollowsAnotherNodesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a, b := newNode(t, path, indexer.Config{}), newNode(t, path, indexer.Config{})
	a.put(t, "before", unit(0))
	if n := b.start(t); n != 1 {
		t.Fatalf("Start loaded %d vectors, want 1", n)
	}
	a.put(t, "x", unit(1))
	a.put(t, "y", unit(2))
	b.wantFound(t, unit(1)) // not yet: B has not read the log
	b.catchUp(t)
	b.wantFound(t, unit(1), "x")
	b.wantFound(t, unit(2), "y")

	if _, err := a.svc.Update(context.Background(), actor, "x", service.UpdateInput{Embedding: unit(3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Delete(context.Background(), actor, "y"); err != nil {
		t.Fatal(err)
	}
	b.catchUp(t)
	if _, last, _ := a.st.EventBounds(context.Background()); b.feed.Position() != last {
		t.Fatalf("B's position is %d, want the head %d", b.feed.Position(), last)
	}
	b.wantFound(t, unit(3), "x")
	b.wantFound(t, unit(1))
	if b.idx.Len("w") != 2 {
		t.Fatalf("B's index holds %d vectors, want before and x", b.idx.Len("w"))
	}
}

// Run finds another process's writes by polling: its commits wake no one
// here.
func TestConsumerRunPollsForAnotherProcessesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a, b := newNode(t, path, indexer.Config{}), newNode(t, path, indexer.Config{PollInterval: 20 * time.Millisecond})
	b.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.feed.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	a.put(t, "x", unit(4))
	for deadline := time.Now().Add(waitLimit); len(b.found(t, unit(4))) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("B's index did not get A's write within %v (waitLimit)", waitLimit)
		}
	}
}

// Run is woken by the store's commits: with a poll too slow to matter,
// another service's write on the same store still reaches the index.
func TestConsumerRunWakesOnCommits(t *testing.T) {
	b := newNode(t, filepath.Join(t.TempDir(), "memoryd.db"), indexer.Config{PollInterval: time.Hour})
	other, err := service.New(b.st, memindex.New(), hash.New(dims)) // a writer sharing B's store
	if err != nil {
		t.Fatal(err)
	}
	b.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.feed.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	// Once x is in, Run has subscribed (before its first read), so only a
	// wake-up can bring y.
	for i, id := range []string{"x", "y"} {
		if _, err := other.Put(context.Background(), actor, service.PutInput{ID: id, Text: id, Embedding: unit(6 + i)}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(waitLimit); len(b.found(t, unit(6+i))) == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("B's index did not get %s within %v (waitLimit)", id, waitLimit)
			}
		}
	}
}

// Start reads the log's head before it loads the table: a write that
// commits while the table is being read is replayed afterwards.
func TestConsumerStartReplaysWritesMadeDuringTheLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a, b := newNode(t, path, indexer.Config{}), newNode(t, path, indexer.Config{})
	a.put(t, "x", unit(1))
	during := &writeAfterLoad{Service: b.svc, write: func() { a.put(t, "late", unit(5)) }}
	feed := indexer.New(b.st, during, &indexer.MemCursor{})
	if _, err := feed.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.wantFound(t, unit(5)) // committed after the load had read the table
	if err := feed.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.wantFound(t, unit(5), "late")
}

// writeAfterLoad is a target whose load is followed by a write, as if the
// write had committed after the load read the table.
type writeAfterLoad struct {
	*service.Service
	write func()
}

func (w *writeAfterLoad) LoadIndex(ctx context.Context) (int, error) {
	n, err := w.Service.LoadIndex(ctx)
	w.write()
	return n, err
}

// A consumer whose next events were pruned rebuilds the index from the
// memories table, logs it, and follows the log from there.
func TestConsumerRebuildsPastTheRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a, b := newNode(t, path, indexer.Config{}), newNode(t, path, indexer.Config{})
	a.put(t, "old", unit(0))
	b.start(t)
	a.put(t, "missed-1", unit(1))
	a.put(t, "missed-2", unit(2))
	if _, err := a.svc.Update(context.Background(), actor, "old", service.UpdateInput{Embedding: unit(6)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.PruneEvents(context.Background(), time.Time{}, 1); err != nil {
		t.Fatal(err)
	}
	b.catchUp(t)
	if !strings.Contains(b.log.String(), "fell behind the event log's retention") {
		t.Fatalf("no log of the rebuild:\n%s", b.log)
	}
	b.wantFound(t, unit(1), "missed-1")
	b.wantFound(t, unit(2), "missed-2")
	b.wantFound(t, unit(6), "old")
	b.wantFound(t, unit(0))
	a.put(t, "next", unit(7))
	b.catchUp(t)
	b.wantFound(t, unit(7), "next")
}

// A position of another log (the database was replaced) is not resumed:
// the index is loaded from the table instead.
func TestConsumerLoadsWhenTheSavedPositionIsUnusable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a := newNode(t, path, indexer.Config{})
	a.put(t, "x", unit(1))
	ctx := context.Background()
	_, last, err := a.st.EventBounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]indexer.Position{
		"another epoch": {Epoch: "other", Seq: last},
		"in the future": {Seq: last + 10},
	} {
		if p.Epoch == "" {
			p.Epoch, _ = a.st.Epoch(ctx)
		}
		cur := &indexer.MemCursor{}
		cur.Save(ctx, p)
		idx := memindex.New()
		svc, err := service.New(a.st, idx, hash.New(dims))
		if err != nil {
			t.Fatal(err)
		}
		n, err := indexer.New(a.st, svc, cur).Start(ctx)
		if err != nil || n != 1 || idx.Len("w") != 1 {
			t.Fatalf("%s: Start loaded %d (%v), index holds %d; want the table loaded", name, n, err, idx.Len("w"))
		}
	}
	// A usable one is resumed, without a load.
	cur := &indexer.MemCursor{}
	epoch, _ := a.st.Epoch(ctx)
	cur.Save(ctx, indexer.Position{Epoch: epoch, Seq: last})
	idx := memindex.New()
	svc, err := service.New(a.st, idx, hash.New(dims))
	if err != nil {
		t.Fatal(err)
	}
	n, err := indexer.New(a.st, svc, cur).Start(ctx)
	if err != nil || n != 0 || idx.Len("w") != 0 {
		t.Fatalf("resume: Start loaded %d (%v), index holds %d; want a resume without a load", n, err, idx.Len("w"))
	}
}

// The events of a node's own writes, whose index update the node made
// itself, are skipped: only the other nodes' memories are read back.
func TestConsumerSkipsTheNodesOwnWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memoryd.db")
	a, b := newNode(t, path, indexer.Config{}), newNode(t, path, indexer.Config{})
	counted := &countApplies{Service: b.svc}
	feed := indexer.New(b.st, counted, &indexer.MemCursor{})
	if _, err := feed.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.put(t, "own-1", unit(1))
	a.put(t, "other", unit(2))
	b.put(t, "own-2", unit(3))
	if _, err := b.svc.Delete(context.Background(), actor, "own-1"); err != nil {
		t.Fatal(err)
	}
	if err := feed.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Join(counted.ids, ",") != "other" {
		t.Fatalf("read back %v, want only A's write", counted.ids)
	}
	b.wantFound(t, unit(2), "other")
	b.wantFound(t, unit(3), "own-2")
	b.wantFound(t, unit(1))
}

// countApplies records the memories a consumer asks to apply.
type countApplies struct {
	*service.Service
	ids []string
}

func (c *countApplies) ApplyCurrent(ctx context.Context, ws string, ids []string) error {
	c.ids = append(c.ids, ids...)
	return c.Service.ApplyCurrent(ctx, ws, ids)
}

// countReads is a Log (and Listener, through the store) that counts the
// consumer's reads of events (from the log or the store's window) and
// those of the log.
type countReads struct {
	*store.Store
	reads, logReads atomic.Int64
}

func (c *countReads) ReadEvents(ctx context.Context, ws string, after int64, limit int) ([]*memoryd.Event, error) {
	c.reads.Add(1)
	c.logReads.Add(1)
	return c.Store.ReadEvents(ctx, ws, after, limit)
}

func (c *countReads) RecentEvents(after int64, limit int) ([]*memoryd.Event, bool) {
	c.reads.Add(1)
	return c.Store.RecentEvents(after, limit)
}

// Commits 10 ms apart each wake the consumer, but it reads events at
// most once per WakeGap (here 200 ms): over 40 commits, a handful of
// reads instead of one a commit, and the last write still arrives. Woken
// by this process's commits, it takes them from the store's window, not
// from the log.
func TestConsumerWakeGapCoalescesReads(t *testing.T) {
	b := newNode(t, filepath.Join(t.TempDir(), "memoryd.db"), indexer.Config{})
	counted := &countReads{Store: b.st}
	feed := indexer.New(counted, b.svc, &indexer.MemCursor{},
		indexer.WithConfig(indexer.Config{PollInterval: time.Hour, WakeGap: 200 * time.Millisecond}))
	other, err := service.New(b.st, memindex.New(), hash.New(dims))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := feed.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { feed.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(waitLimit); counted.reads.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Run made no first read within %v (waitLimit)", waitLimit)
		}
	}
	before, logBefore := counted.reads.Load(), counted.logReads.Load()
	const writes = 40
	for i := range writes {
		if _, err := other.Put(context.Background(), actor, service.PutInput{ID: fmt.Sprint("m", i), Text: "x", Embedding: unit(i % dims)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for deadline := time.Now().Add(waitLimit); !slices.Contains(b.found(t, unit((writes-1)%dims)), fmt.Sprint("m", writes-1)); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the last write did not reach the index within %v (waitLimit)", waitLimit)
		}
	}
	if reads := counted.reads.Load() - before; reads > writes/3 {
		t.Fatalf("%d reads of events for %d commits 10 ms apart with a 200 ms WakeGap, want at most %d", reads, writes, writes/3)
	}
	if reads := counted.logReads.Load() - logBefore; reads > 0 {
		t.Fatalf("%d reads of the log for %d commits of this process, want none (the store's window has them)", reads, writes)
	}
}

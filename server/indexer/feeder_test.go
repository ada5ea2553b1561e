package indexer_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/weaviate/weaviate-go-client/v4/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/graphql"

	"github.com/memoryd/memoryd/internal/pgtest"
	"github.com/memoryd/memoryd/internal/weaviatetest"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/indexer"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/store/indexpos"
	"github.com/memoryd/memoryd/server/vector/memindex"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// feeder is a memoryd node on PostgreSQL whose vectors are in Weaviate,
// feeding it under the database's feeder lock.
type feeder struct {
	svc  *service.Service
	idx  *weaviate.Index
	pos  *indexpos.Feed
	feed *indexer.Consumer
	log  *logBuffer
}

// newFeeder starts a feeder node; wrap, when given, wraps its service as
// the consumer's Target.
func newFeeder(t *testing.T, dsn string, w *weaviatetest.Server, class string, wrap ...func(*service.Service) indexer.Target) *feeder {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	idx, err := weaviate.Open(weaviate.Config{Host: w.Host(), GRPCHost: w.GRPCHost(), Class: class, Dims: dims})
	if err != nil {
		t.Fatal(err)
	}
	pos, err := indexpos.Open(ctx, dsn, "weaviate:"+class)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pos.Close() })
	f := &feeder{idx: idx, pos: pos, log: &logBuffer{}}
	lg := slog.New(slog.NewTextHandler(f.log, nil))
	if f.svc, err = service.New(st, idx, hash.New(dims), service.WithLogger(lg)); err != nil {
		t.Fatal(err)
	}
	// WipeCheck, PollInterval: every CatchUp checks the marker and asks
	// for the gate.
	var target indexer.Target = f.svc
	for _, w := range wrap {
		target = w(f.svc)
	}
	f.feed = indexer.New(st, target, pos, indexer.WithGate(pos), indexer.WithMarker(idx), indexer.WithLogger(lg),
		indexer.WithConfig(indexer.Config{WipeCheck: 1, PollInterval: 1}))
	if _, err := f.feed.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *feeder) catchUp(t *testing.T) {
	t.Helper()
	if err := f.feed.CatchUp(context.Background()); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
}

func count(t *testing.T, f *feeder) int {
	t.Helper()
	n, err := f.idx.Count(actor.Workspace)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// writer stores memories in the shared database without touching
// Weaviate (a node on the in-process index), so only a feeder can bring
// them to Weaviate.
func writer(t *testing.T, dsn string) func(id string) {
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := service.New(st, memindex.New(), hash.New(dims))
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) {
		t.Helper()
		if _, err := svc.Put(context.Background(), actor, service.PutInput{ID: id, Text: "text of " + id}); err != nil {
			t.Fatal(err)
		}
	}
}

// Two nodes on one PostgreSQL and one Weaviate: only the holder of the
// feeder lock applies the log to Weaviate and saves its position; when it
// stops, the other takes over from the saved position (not by reloading)
// and applies what was written meanwhile. Then Weaviate's collection is
// deleted under the running feeder: it notices and re-indexes.
func TestOneFeederTakesOver(t *testing.T) {
	dsn, w := pgtest.DSN(t), weaviatetest.Start(t)
	class := "Feed" + randHex()
	put := writer(t, dsn)
	a := newFeeder(t, dsn, w, class)
	b := newFeeder(t, dsn, w, class)

	for i := range 5 {
		put(fmt.Sprintf("m%d", i))
	}
	b.catchUp(t)
	if got := count(t, a); got != 0 {
		t.Fatalf("Weaviate holds %d vectors after the node without the lock caught up, want 0 (it must not feed)", got)
	}
	a.catchUp(t)
	if got := count(t, a); got != 5 {
		t.Fatalf("Weaviate holds %d vectors after the lock holder caught up, want 5", got)
	}
	saved, ok, err := a.pos.Load(context.Background())
	if err != nil || !ok || saved.Seq != a.feed.Position() {
		t.Fatalf("saved position %+v (ok %v, err %v), want the holder's %d", saved, ok, err, a.feed.Position())
	}

	a.pos.Close() // the holder stops
	for i := 5; i < 8; i++ {
		put(fmt.Sprintf("m%d", i))
	}
	b.catchUp(t)
	if got := count(t, b); got != 8 {
		t.Fatalf("Weaviate holds %d vectors after the second node took over, want 8", got)
	}
	if strings.Contains(b.log.String(), "no usable saved position") || !strings.Contains(b.log.String(), "this node feeds the vector index") {
		t.Fatalf("the second node did not take over from the saved position; its log:\n%s", b.log)
	}

	// Wiped: the collection goes, a write recreates it with one vector.
	if err := b.idx.Client().Schema().ClassDeleter().WithClassName(class).Do(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Put(context.Background(), actor, service.PutInput{ID: "after", Text: "after the wipe"}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, b); got != 1 {
		t.Fatalf("Weaviate holds %d vectors after the wipe and one write, want 1", got)
	}
	b.catchUp(t)
	if got := count(t, b); got != 9 {
		t.Fatalf("Weaviate holds %d vectors after the feeder checked for a wipe, want 9 (re-indexed)", got)
	}
	if !strings.Contains(b.log.String(), "wiped or replaced") {
		t.Fatalf("no log of the re-index after the wipe:\n%s", b.log)
	}
}

func randHex() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// A Weaviate that comes back from an outage without a write it had
// acknowledged (here deleted behind memoryd's back, as a kill before the
// write reached its disk loses it): no event replays that write, so the
// feeder, whose batches failed meanwhile, compares Weaviate with the
// table once it answers and applies what is missing. The writes of the
// outage and of the RewriteSpan before it, which may have come back
// without their vectors, are rewritten.
func TestRecheckAfterOutage(t *testing.T) {
	dsn, w := pgtest.DSN(t), weaviatetest.Start(t)
	class := "Lost" + randHex()
	put := writer(t, dsn)
	f := newFeeder(t, dsn, w, class)
	ctx := context.Background()
	for _, id := range []string{"acked", "kept"} {
		if _, err := f.svc.Put(ctx, actor, service.PutInput{ID: id, Text: id + " before the kill"}); err != nil {
			t.Fatal(err)
		}
	}
	f.catchUp(t)
	if err := f.idx.DeleteBatch(actor.Workspace, []string{"acked"}); err != nil { // lost by the kill
		t.Fatal(err)
	}
	keptAt := updated(t, f, class, "kept")

	w.Halt()
	put("during") // another node's write: the feeder's batch fails
	if err := f.feed.CatchUp(ctx); err == nil {
		t.Fatal("CatchUp succeeded with Weaviate halted")
	}
	if err := w.Resume(); err != nil {
		t.Fatal(err)
	}
	// "during" reached Weaviate as the kill hit (its object may lack its
	// vector then): an upsert of the same state would change nothing, so
	// the feeder must rewrite it, which gives it a new update time.
	m, err := f.svc.Get(ctx, actor, "during")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.idx.UpsertMemories(actor.Workspace, []*memoryd.Memory{m}); err != nil {
		t.Fatal(err)
	}
	landed := updated(t, f, class, "during")
	f.catchUp(t)
	if got := count(t, f); got != 3 {
		t.Fatalf("Weaviate holds %d vectors after the outage, want 3 (the lost write applied again); log:\n%s", got, f.log)
	}
	if after := updated(t, f, class, "during"); after == landed {
		t.Fatalf("the write taken during the outage was not rewritten after it (update time %s before and after)", after)
	}
	if after := updated(t, f, class, "kept"); after == keptAt {
		t.Fatalf("the write applied just before the outage was not rewritten after it (update time %s before and after)", after)
	}
	if !strings.Contains(f.log.String(), "compared with the memories table once it answers") {
		t.Fatalf("no log of the comparison after the outage:\n%s", f.log)
	}
}

// updated is Weaviate's last update time of memory id's object (its
// workspace "w" is its tenant's name).
func updated(t *testing.T, f *feeder, class, id string) string {
	t.Helper()
	c := f.idx.Client()
	resp, err := c.GraphQL().Get().WithClassName(class).WithTenant(actor.Workspace).
		WithWhere(filters.Where().WithPath([]string{"memoryId"}).WithOperator(filters.Equal).WithValueText(id)).
		WithFields(graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "lastUpdateTimeUnix"}}}).Do(context.Background())
	if err != nil || len(resp.Errors) > 0 {
		t.Fatalf("reading %s's update time: %v %v", id, err, resp)
	}
	rows, _ := resp.Data["Get"].(map[string]any)[class].([]any)
	if len(rows) != 1 {
		t.Fatalf("Weaviate holds %d objects for %s, want 1", len(rows), id)
	}
	return fmt.Sprint(rows[0].(map[string]any)["_additional"].(map[string]any)["lastUpdateTimeUnix"])
}

// failOnce fails its next ApplyCurrent as a store that lost its database
// connection does, then applies as the service.
type failOnce struct {
	*service.Service
	fail atomic.Bool
}

func (f *failOnce) ApplyCurrent(ctx context.Context, ws string, ids []string) error {
	if f.fail.CompareAndSwap(true, false) {
		return memoryd.Errorf(memoryd.EUNAVAILABLE, "Database unavailable")
	}
	return f.Service.ApplyCurrent(ctx, ws, ids)
}

// Feeding that fails because the database does not answer says nothing
// about Weaviate: no comparison with the tables (which reads every stored
// vector) follows, only the retry.
func TestDatabaseFailureIsNoIndexOutage(t *testing.T) {
	dsn, w := pgtest.DSN(t), weaviatetest.Start(t)
	put := writer(t, dsn)
	target := &failOnce{}
	f := newFeeder(t, dsn, w, "Db"+randHex(), func(s *service.Service) indexer.Target {
		target.Service = s
		return target
	})
	put("one")
	target.fail.Store(true)
	if err := f.feed.CatchUp(context.Background()); err == nil {
		t.Fatal("CatchUp succeeded while applying failed")
	}
	f.catchUp(t)
	if got := count(t, f); got != 1 {
		t.Fatalf("Weaviate holds %d vectors after the retry, want 1", got)
	}
	if strings.Contains(f.log.String(), "compared with the memories table") {
		t.Fatalf("a database failure started the comparison meant for a Weaviate outage; log:\n%s", f.log)
	}
}

package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryd/memoryd/gen/api"
	"github.com/memoryd/memoryd/internal/testenv"
	"github.com/memoryd/memoryd/internal/weaviatetest"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

// TestMultiNodeStream runs two memoryd processes on one PostgreSQL. Each
// tails the shared log, so a stream on either node sees the writes made
// through both, in the same order, at the same positions; and a position
// handed out by one node resumes a stream on the other.
func TestMultiNodeStream(t *testing.T) {
	t.Parallel()
	db := pgDSN(t)
	key := createKey(t, db, "team")
	a := startNode(t, "A", db)
	// Started after A is up: both would migrate the empty database at once.
	b := startNode(t, "B", db)
	ca, cb := testenv.NewClient(a.base, key), testenv.NewClient(b.base, key)
	sa := openStream(t, a.base, key, "")
	sb := openStream(t, b.base, key, "")
	epochA, seqA := testenv.SplitPosition(t, sa.Welcome.Position)
	epochB, seqB := testenv.SplitPosition(t, sb.Welcome.Position)
	if epochA != epochB {
		t.Fatalf("nodes A and B report different log epochs %q and %q", epochA, epochB)
	}
	start := max(seqA, seqB)

	// Phase 1: writes through A only, one after the other: this is the
	// order both streams must show.
	var want []string
	for i := range 12 {
		id := fmt.Sprintf("seq-%02d", i)
		ca.Create(t, id, "first phase "+id)
		want = append(want, "memory.created "+id)
	}
	ca.Update(t, "seq-03", "changed on A")
	cb.Update(t, "seq-04", "changed on B")
	ca.Remove(t, "seq-05")
	want = append(want, "memory.updated seq-03", "memory.updated seq-04", "memory.deleted seq-05")

	// Phase 2: concurrent writers on both nodes; the log decides the order.
	perWriter := concurrentWrites(t, map[string]*testenv.Client{"a": ca, "b": cb}, 15)
	cb.Create(t, "end", "last write, through B")

	logA := untilMemory(t, sa, "end")
	logB := untilMemory(t, sb, "end")
	logA, logB = after(t, logA, start), after(t, logB, start)
	sameEvents(t, "stream on A", logA, "stream on B", logB)
	testenv.CheckNoGap(t, db, "team", start, logA)

	got := memoryEvents(t, logA)
	if len(got) != len(want)+2*15+1 {
		t.Fatalf("%d memory events, want %d: %v", len(got), len(want)+2*15+1, got)
	}
	for i, w := range want {
		if got[i] != w {
			t.Fatalf("memory event %d is %q, want %q (phase 1 order)\n%v", i, got[i], w, got)
		}
	}
	checkWriterOrder(t, got[len(want):len(got)-1], perWriter)

	// A position from node A resumes a stream on node B, without a gap.
	mid := logA[len(logA)/2]
	sc := openStream(t, b.base, key, mid.ID)
	resumed := untilMemory(t, sc, "end")
	sameEvents(t, "stream on A after "+mid.ID, logA[len(logA)/2+1:], "stream on B resumed there", resumed)
}

// concurrentWrites creates n memories through each client at once, and
// returns the ids each writer created, in its order.
func concurrentWrites(t *testing.T, clients map[string]*testenv.Client, n int) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	errs := make(chan error, len(clients))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				id := fmt.Sprintf("%s-%02d", name, i)
				if _, err := c.Do("POST", "/memory", map[string]string{"id": id, "text": "written through " + name}, nil); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				out[name] = append(out[name], "memory.created "+id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

// checkWriterOrder fails unless got holds exactly the writers' events,
// each writer's in the order it wrote them.
func checkWriterOrder(t *testing.T, got []string, perWriter map[string][]string) {
	t.Helper()
	next := map[string]int{}
	owner := map[string]string{}
	total := 0
	for w, evs := range perWriter {
		total += len(evs)
		for _, e := range evs {
			owner[e] = w
		}
	}
	if len(got) != total {
		t.Fatalf("%d concurrent writes in the log, want %d", len(got), total)
	}
	for _, e := range got {
		w, ok := owner[e]
		if !ok || perWriter[w][next[w]] != e {
			t.Fatalf("event %q out of its writer's order or unexpected (log %v)", e, got)
		}
		next[w]++
	}
}

// untilMemory reads log events until the memory.created event of id.
func untilMemory(t testing.TB, s *testenv.SSE, id string) []testenv.Message {
	t.Helper()
	return s.LogThrough(t, func(m testenv.Message) bool { return m.Event == "memory.created" && testenv.MemoryID(t, m) == id })
}

// after drops the events at or before position seq.
func after(t testing.TB, msgs []testenv.Message, seq int64) []testenv.Message {
	t.Helper()
	for i, m := range msgs {
		if testenv.SeqOf(t, m.ID) > seq {
			return msgs[i:]
		}
	}
	return nil
}

// sameEvents fails unless both lists hold the same events: type, position
// and payload bytes.
func sameEvents(t testing.TB, nameA string, a []testenv.Message, nameB string, b []testenv.Message) {
	t.Helper()
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			t.Fatalf("%s and %s differ at event %d:\n%s\n%s", nameA, nameB, i, at(a, i), at(b, i))
		}
	}
}

func at(msgs []testenv.Message, i int) string {
	if i >= len(msgs) {
		return "(none)"
	}
	return fmt.Sprintf("%s id=%s %s", msgs[i].Event, msgs[i].ID, msgs[i].Data)
}

// memoryEvents returns "type id" of the memory.* events of msgs.
func memoryEvents(t testing.TB, msgs []testenv.Message) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		switch m.Event {
		case "memory.created", "memory.updated", "memory.deleted":
			out = append(out, m.Event+" "+testenv.MemoryID(t, m))
		}
	}
	return out
}

// TestMultiNodeSearch runs two memoryd processes on one PostgreSQL and
// writes through node A only. Node B serves each write everywhere: get,
// list, stream and semantic search (its in-process index follows the
// shared log); A's updates and deletes reach B's search too, so B never
// keeps a stale vector. A, which took the writes, finds them at once.
func TestMultiNodeSearch(t *testing.T) {
	t.Parallel()
	multiNodeSearch(t, nil)
}

// TestMultiNodeSearchWeaviate is TestMultiNodeSearch with both nodes on
// one Weaviate (--vectors): A upserts its writes at once, B's consumer
// applies them too (idempotently), and B's search, answered by the same
// Weaviate, follows A's create, update and delete.
func TestMultiNodeSearchWeaviate(t *testing.T) {
	t.Parallel()
	w := weaviatetest.Start(t)
	x, err := weaviate.Open(weaviate.Config{Host: w.Host()})
	if err != nil {
		t.Fatal(err)
	}
	multiNodeSearch(t, func(want int) {
		t.Helper()
		if n, err := x.Count("team"); err != nil || n != want {
			t.Fatalf("Weaviate holds %d vectors of the workspace (%v), want %d", n, err, want)
		}
	}, "--vectors", "weaviate://"+w.Host()+"?grpc="+w.GRPCHost())
}

// multiNodeSearch runs two nodes with the extra serve flags on one
// PostgreSQL; see TestMultiNodeSearch. indexed, when not nil, checks
// the number of vectors the shared index holds.
func multiNodeSearch(t *testing.T, indexed func(want int), extra ...string) {
	db := pgDSN(t)
	key := createKey(t, db, "team")
	a := startNode(t, "A", db, extra...)
	b := startNode(t, "B", db, extra...)
	ca, cb := testenv.NewClient(a.base, key), testenv.NewClient(b.base, key)
	sb := openStream(t, b.base, key, "")

	const first, second = "amber lighthouse keeper paints stairs", "violet submarine cook sings loudly"
	ca.Create(t, "xnode", first)
	if got := searchIDs(t, ca, first); !slices.Equal(got, []string{"xnode"}) {
		t.Fatalf("search on A, which took the write, found %v at once, want [xnode]", got)
	}
	untilMemory(t, sb, "xnode")
	if m := cb.Get(t, "xnode"); m == nil || m.Text != first {
		t.Fatalf("GET on B: %+v, want the memory with text %q", m, first)
	}
	if !cb.ListIDs(t)["xnode"] {
		t.Fatal("list on B does not hold xnode")
	}
	untilSearch(t, "B", cb, first, []string{"xnode"})
	if indexed != nil {
		indexed(1)
	}

	ca.Update(t, "xnode", second)
	untilSearch(t, "B", cb, second, []string{"xnode"})
	untilSearch(t, "B", cb, first, []string{})

	ca.Remove(t, "xnode")
	untilSearch(t, "B", cb, second, []string{})
	if m := cb.Get(t, "xnode"); m != nil {
		t.Fatalf("GET on B after the delete on A: %+v", m)
	}
	if indexed != nil {
		indexed(0)
	}
}

// TestMultiNodeSearchOnOneSQLiteFile runs two memoryd processes on one
// SQLite file. A's commits wake nothing in B, whose index finds them by
// polling the log: B's search follows A's create, update and delete.
func TestMultiNodeSearchOnOneSQLiteFile(t *testing.T) {
	t.Parallel()
	db := "sqlite://" + filepath.Join(t.TempDir(), "memoryd.db")
	key := createKey(t, db, "team")
	a := startNode(t, "A", db)
	b := startNode(t, "B", db)
	ca, cb := testenv.NewClient(a.base, key), testenv.NewClient(b.base, key)
	const first, second = "copper kettle whistles at dawn", "granite owl counts pebbles"
	ca.Create(t, "file", first)
	untilSearch(t, "B", cb, first, []string{"file"})
	ca.Update(t, "file", second)
	untilSearch(t, "B", cb, second, []string{"file"})
	untilSearch(t, "B", cb, first, []string{})
	ca.Remove(t, "file")
	untilSearch(t, "B", cb, second, []string{})
}

// TestMultiNodeSearchBothWays writes through both nodes at once, creates,
// then updates of each other's memories: every node's search ends up
// agreeing with the store on every memory.
func TestMultiNodeSearchBothWays(t *testing.T) {
	t.Parallel()
	db := pgDSN(t)
	key := createKey(t, db, "team")
	a := startNode(t, "A", db)
	b := startNode(t, "B", db)
	clients := map[string]*testenv.Client{"a": testenv.NewClient(a.base, key), "b": testenv.NewClient(b.base, key)}
	const n = 10
	concurrentWrites(t, clients, n) // ids a-00.., b-00.., text "written through a|b"
	var wg sync.WaitGroup
	for name, c := range clients {
		other := map[string]string{"a": "b", "b": "a"}[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				id := fmt.Sprintf("%s-%02d", other, i)
				if _, err := c.Do("PUT", "/memory/"+id, map[string]string{"text": xtext(id)}, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for node, c := range clients {
		for _, w := range []string{"a", "b"} {
			for i := range n {
				id := fmt.Sprintf("%s-%02d", w, i)
				untilSearch(t, node, c, xtext(id), []string{id})
			}
		}
	}
}

// xtext is a text only memory id has after TestMultiNodeSearchBothWays'
// updates: words no other text shares.
func xtext(id string) string {
	return fmt.Sprintf("rewritten %s elsewhere quartz%s", id, strings.ReplaceAll(id, "-", "x"))
}

// exact is the score threshold of a search for a memory's own text: the
// hash embedder gives equal texts equal vectors (score 1), and the texts
// of these tests share too few words to come near.
const exact = 0.99

// searchIDs runs a semantic search for query on c, keeping only hits of
// score >= exact, and returns their ids.
func searchIDs(t testing.TB, c *testenv.Client, query string) []string {
	t.Helper()
	var res api.SearchResponse
	th, mode := float32(exact), api.SearchRequestMode("semantic")
	c.Must(t, http.StatusOK, http.MethodPost, "/memory/search", api.SearchRequest{Query: &query, Threshold: &th, Mode: &mode}, &res)
	ids := []string{}
	for _, r := range res.Results {
		ids = append(ids, r.Memory.Id)
	}
	return ids
}

// untilSearch searches node's c for query until the hits are want: the
// other nodes' index follows the log, so it takes a moment. testenv's
// WaitLimit only guards against a hang.
func untilSearch(t testing.TB, node string, c *testenv.Client, query string, want []string) {
	t.Helper()
	deadline := time.Now().Add(testenv.WaitLimit)
	for {
		got := searchIDs(t, c, query)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("search on %s for %q still finds %v after %v (testenv.WaitLimit), want %v", node, query, got, testenv.WaitLimit, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

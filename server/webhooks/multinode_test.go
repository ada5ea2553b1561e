package webhooks_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/webhooks"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// nodeStore is one node's store, counting the successful attempts that
// node recorded.
type nodeStore struct {
	webhooks.Store
	delivered atomic.Int64
}

func (s *nodeStore) FinishAttempts(ctx context.Context, owner string, fs []webhooks.Finish) ([]webhooks.Finished, error) {
	res, err := s.Store.FinishAttempts(ctx, owner, fs)
	for i := range res {
		if res[i].Err == nil && fs[i].Attempt != nil && fs[i].Attempt.Success() {
			s.delivered.Add(1)
		}
	}
	return res, err
}

// hookLog is a receiver of several endpoints (one path each) that notes
// every delivery's sequence number, overlapping deliveries to one
// endpoint, and answers 500 to the first fail deliveries of /ep0 and to
// the first attempt of each of its messages whose seq is a multiple of
// failEvery (a failure in the middle of a run).
type hookLog struct {
	mu        sync.Mutex
	arrived   map[string][]int64 // path -> seq of each 2xx-answered delivery, in order
	seen      map[string]int     // path + webhook-id -> 2xx deliveries
	dups      int
	active    map[string]int
	overlap   int
	fail      int
	failEvery int64
	failed    map[int64]bool
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("webhook-id")
	seq, _ := strconv.ParseInt(id[strings.LastIndexByte(id, '_')+1:], 10, 64)
	h.mu.Lock()
	h.active[r.URL.Path]++
	if h.active[r.URL.Path] > 1 {
		h.overlap++
	}
	failed := false
	switch {
	case r.URL.Path != "/ep0":
	case h.fail > 0:
		failed = true
		h.fail--
	case seq%h.failEvery == 0 && !h.failed[seq]:
		failed = true
		h.failed[seq] = true
	}
	h.mu.Unlock()
	time.Sleep(time.Millisecond) // widens the window in which a second attempt would overlap
	h.mu.Lock()
	h.active[r.URL.Path]--
	if !failed {
		h.arrived[r.URL.Path] = append(h.arrived[r.URL.Path], seq)
		if h.seen[r.URL.Path+id]++; h.seen[r.URL.Path+id] > 1 {
			h.dups++
		}
	}
	h.mu.Unlock()
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Two deliverers (two nodes) on one PostgreSQL database: every message
// reaches every endpoint, no endpoint gets two attempts at once, each
// endpoint's messages arrive in log order, and both nodes deliver.
func TestTwoNodesOnPostgres(t *testing.T) {
	const endpoints, events = 3, 300
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := pgtest.DSN(t)
	lg := testenv.Logger(t, slog.LevelWarn)
	var nodes [2]*nodeStore
	var stores [2]*store.Store
	for i := range nodes {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[i], nodes[i] = st, &nodeStore{Store: st}
	}
	h := &hookLog{arrived: map[string][]int64{}, seen: map[string]int{}, active: map[string]int{}, fail: 5,
		failEvery: 37, failed: map[int64]bool{}}
	rcv := httptest.NewServer(h)
	defer rcv.Close()
	created := time.Now().Add(-time.Second).UTC()
	for e := range endpoints {
		ep := &webhooks.Endpoint{ID: fmt.Sprintf("wh_n%d", e), Workspace: "a", URL: fmt.Sprintf("%s/ep%d", rcv.URL, e),
			Events: []string{memoryd.EventMemoryCreated}, Enabled: true, Secret: "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
			CreatedAt: created, UpdatedAt: created}
		if err := stores[0].CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	if err := stores[0].InitWebhookPosition(ctx, 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, n := range nodes {
		d := webhooks.NewDeliverer(n, stores[i], webhooks.NewGuard(true), webhooks.Config{
			Schedule: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond,
				20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond},
			// Short chains and runs: the nodes race for each endpoint's queue often.
			PollInterval: 20 * time.Millisecond, MaxChain: 2, MaxRun: 8}, lg)
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
	}
	for i := range events {
		createMemory(t, stores[i%2], i)
	}
	complete := func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for e := range endpoints {
			if len(h.arrived[fmt.Sprintf("/ep%d", e)]) < events {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(2 * time.Minute) // a cold, busy machine: 900 deliveries take seconds
	for !complete() {
		if time.Now().After(deadline) {
			t.Fatalf("the 2-minute wait for %d deliveries ran out: %v", endpoints*events, counts(h))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	h.check(t)
	h.mu.Lock()
	defer h.mu.Unlock()
	a, b := nodes[0].delivered.Load(), nodes[1].delivered.Load()
	t.Logf("delivered %d: node 1 %d, node 2 %d; duplicates %d; overlaps %d", endpoints*events, a, b, h.dups, h.overlap)
	if a == 0 || b == 0 {
		t.Errorf("one node delivered everything (node 1 %d, node 2 %d): the test did not exercise two nodes", a, b)
	}
}

// check fails t for deliveries to one endpoint out of log order,
// overlapping, or repeated.
func (h *hookLog) check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for path, seqs := range h.arrived {
		for i := 1; i < len(seqs); i++ {
			if seqs[i] < seqs[i-1] {
				t.Errorf("%s: seq %d arrived after %d", path, seqs[i], seqs[i-1])
				break
			}
		}
	}
	if h.overlap > 0 {
		t.Errorf("%d deliveries overlapped another to the same endpoint", h.overlap)
	}
	if h.dups > 0 {
		t.Errorf("%d duplicate deliveries (same webhook-id answered 2xx twice)", h.dups)
	}
}

// createMemory stores memory m<i> of workspace "a" with its
// memory.created event.
func createMemory(t *testing.T, st *store.Store, i int) {
	t.Helper()
	m := &memoryd.Memory{ID: fmt.Sprintf("m%d", i), Workspace: "a", Text: "t", Embedding: []float32{1, 0},
		EmbeddingModel: "test", Tokens: 1, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(), CreatedBy: "x", UpdatedBy: "x"}
	_, _, err := st.PutMemory(t.Context(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
		return &memoryd.Event{Workspace: "a", Type: memoryd.EventMemoryCreated, Payload: fmt.Appendf(nil, `{"id":%q}`, m.ID)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func counts(h *hookLog) map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for p, s := range h.arrived {
		out[p] = len(s)
	}
	return out
}

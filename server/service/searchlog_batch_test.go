package service

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// countingStore counts the append calls that reach a real store.
type countingStore struct {
	*store.Store
	calls atomic.Int64
}

func (c *countingStore) AppendEvents(ctx context.Context, evs []*memoryd.Event) error {
	c.calls.Add(1)
	return c.Store.AppendEvents(ctx, evs)
}

// Events queued together are appended together: a burst of n events
// takes a few appends, not n, and every event lands once, in queue order.
func TestSearchLogBatchesAppends(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "memoryd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	svc, err := New(cs, memindex.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := svc.StartSearchLog()
	const n = 600
	for i := range n {
		ev := &memoryd.Event{Workspace: "w", Type: memoryd.EventSearchPerformed, Payload: fmt.Appendf(nil, `{"i":%d}`, i)}
		if !svc.searchLog.Load().enqueue(ev) {
			svc.appendSearch(context.Background(), ev)
		}
	}
	stop()
	evs, err := st.ReadEvents(context.Background(), "w", 0, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d events in the log after %d queued", len(evs), n)
	}
	for i, ev := range evs {
		if want := fmt.Sprintf(`{"i":%d}`, i); string(ev.Payload) != want {
			t.Fatalf("event %d is %s, want %s", i, ev.Payload, want)
		}
	}
	// n/searchLogBatch full batches; the rest allows for a scheduler that
	// lets the worker run between enqueues.
	if calls := cs.calls.Load(); calls > n/10 {
		t.Fatalf("%d appends for %d events queued back to back, want at most %d", calls, n, n/10)
	}
}

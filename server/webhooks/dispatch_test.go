package webhooks_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/webhooks"
)

// With no poll to fall back on, every message still goes: a commit wakes
// the fan-out, which starts an idle endpoint's attempt; a busy endpoint's
// run extends itself with what is queued after it (short runs here, so
// it does so often), and one that ends looks again.
func TestMessagesGoWithoutAPoll(t *testing.T) {
	deliverAll(t, webhooks.Config{PollInterval: time.Hour, MaxRun: 3}, 1<<62)
}

// A failed attempt (the first of every 17th message of /ep0) gives back
// the rest of its run, the extension's messages included, to follow its
// retry (which the poll finds): none waits for a lease to run out.
func TestFailureGivesBackTheExtension(t *testing.T) {
	deliverAll(t, webhooks.Config{PollInterval: 20 * time.Millisecond, MaxRun: 3,
		Schedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}}, 17)
}

// deliverAll queues 200 messages for each of two endpoints on a fresh
// SQLite store, a few at a time, and checks that every one arrives within
// testenv.WaitLimit (shorter than a run's lease), in log order, each
// once, none two at a time.
func deliverAll(t *testing.T, cfg webhooks.Config, failEvery int64) {
	const endpoints, events = 2, 200
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openSQLite(t)
	h := &hookLog{arrived: map[string][]int64{}, seen: map[string]int{}, active: map[string]int{}, failEvery: failEvery,
		failed: map[int64]bool{}}
	rcv := httptest.NewServer(h)
	defer rcv.Close()
	created := time.Now().Add(-time.Second).UTC()
	for e := range endpoints {
		ep := &webhooks.Endpoint{ID: fmt.Sprintf("wh_p%d", e), Workspace: "a", URL: fmt.Sprintf("%s/ep%d", rcv.URL, e),
			Events: []string{memoryd.EventMemoryCreated}, Enabled: true, Secret: "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
			CreatedAt: created, UpdatedAt: created}
		if err := st.CreateEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.InitWebhookPosition(ctx, 0); err != nil {
		t.Fatal(err)
	}
	d := webhooks.NewDeliverer(st, st, webhooks.NewGuard(true), cfg, testenv.Logger(t, slog.LevelWarn))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.Run(ctx) }()
	for i := range events {
		createMemory(t, st, i)
		if i%20 == 19 {
			time.Sleep(20 * time.Millisecond) // let the runs end now and then
		}
	}
	deadline := time.Now().Add(testenv.WaitLimit)
	for {
		c := counts(h)
		if c["/ep0"] >= events && c["/ep1"] >= events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv.WaitLimit (%s) ran out with deliveries %v of %d each (poll every %s)",
				testenv.WaitLimit, c, events, cfg.PollInterval)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	h.check(t)
}

// An endpoint disabled through another node (here: the store, with no
// Wake) stops receiving within MaxRun messages, however long the run
// that is under way would go on.
func TestRunSeesAnotherNodesChange(t *testing.T) {
	const maxRun, events, disableAt = 4, 100, 10
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openSQLite(t)
	created := time.Now().Add(-time.Second).UTC()
	ep := &webhooks.Endpoint{ID: "wh_o", Workspace: "a", Events: []string{memoryd.EventMemoryCreated}, Enabled: true,
		Secret: "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", CreatedAt: created, UpdatedAt: created}
	var mu sync.Mutex
	got := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got++
		n := got
		mu.Unlock()
		if n == disableAt {
			off := *ep
			off.Enabled, off.DisabledReason, off.UpdatedAt = false, "disabled elsewhere", time.Now().UTC()
			if err := st.UpdateEndpoint(context.Background(), &off); err != nil {
				t.Error(err)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	ep.URL = rcv.URL
	if err := st.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if err := st.InitWebhookPosition(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// Queued before the deliverer starts: one run takes them in a row.
	for i := range events {
		createMemory(t, st, i)
	}
	d := webhooks.NewDeliverer(st, st, webhooks.NewGuard(true), webhooks.Config{PollInterval: 20 * time.Millisecond,
		MaxRun: maxRun}, testenv.Logger(t, slog.LevelWarn))
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	count := func() int { mu.Lock(); defer mu.Unlock(); return got }
	for deadline := time.Now().Add(testenv.WaitLimit); count() < disableAt; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("testenv.WaitLimit (%s) ran out with %d deliveries of the first %d", testenv.WaitLimit, count(), disableAt)
		}
	}
	time.Sleep(time.Second) // room for the rest of the run, were it to go on
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got < disableAt || got > disableAt+maxRun {
		t.Fatalf("%d deliveries; want %d to %d (the endpoint was disabled at the %dth, runs re-read it every %d)",
			got, disableAt, disableAt+maxRun, disableAt, maxRun)
	}
}

// openSQLite opens a store on a fresh SQLite file, closed when tb ends.
func openSQLite(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+tb.TempDir()+"/m.db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

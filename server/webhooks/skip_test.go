package webhooks_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/webhooks"
)

// fanOutCounter counts the fan-out transactions, position reads and
// due-message reads of a store.
type fanOutCounter struct {
	webhooks.Store
	fanOuts, positions, dues atomic.Int64
}

func (c *fanOutCounter) WebhookPosition(ctx context.Context) (int64, bool, error) {
	c.positions.Add(1)
	return c.Store.WebhookPosition(ctx)
}

func (c *fanOutCounter) DueMessages(ctx context.Context, now time.Time, limit int) ([]*webhooks.Message, error) {
	c.dues.Add(1)
	return c.Store.DueMessages(ctx, now, limit)
}

func (c *fanOutCounter) FanOut(ctx context.Context, from, to int64, evs []*memoryd.Event,
	build func(*webhooks.Endpoint, *memoryd.Event) (*webhooks.Message, error)) error {
	c.fanOuts.Add(1)
	return c.Store.FanOut(ctx, from, to, evs, build)
}

// readTracker notes the last sequence number the deliverer has read, from
// the log or the store's window, and counts the reads of the log.
type readTracker struct {
	*store.Store
	mu       sync.Mutex
	read     int64
	logReads int
}

func (r *readTracker) ReadEvents(ctx context.Context, ws string, after int64, limit int) ([]*memoryd.Event, error) {
	evs, err := r.Store.ReadEvents(ctx, ws, after, limit)
	r.noteRead(evs, true)
	return evs, err
}

func (r *readTracker) RecentEvents(after int64, limit int) ([]*memoryd.Event, bool) {
	evs, ok := r.Store.RecentEvents(after, limit)
	r.noteRead(evs, false)
	return evs, ok
}

func (r *readTracker) noteRead(evs []*memoryd.Event, fromLog bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fromLog {
		r.logReads++
	}
	if len(evs) > 0 {
		r.read = max(r.read, evs[len(evs)-1].Seq)
	}
}

// waitRead waits until the deliverer has read event seq.
func (r *readTracker) waitRead(t *testing.T, seq int64) {
	t.Helper()
	deadline := time.Now().Add(testenv.WaitLimit)
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.read < seq {
		if time.Now().After(deadline) {
			t.Fatalf("the deliverer did not read event %d within %s (testenv.WaitLimit)", seq, testenv.WaitLimit)
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		r.mu.Lock()
	}
}

// skipEnv is a deliverer on a fresh SQLite store, with one endpoint that
// wants memory.created (unless made without), delivering to got.
type skipEnv struct {
	st      *store.Store
	d       *webhooks.Deliverer
	counter *fanOutCounter
	log     *readTracker
	rcv     *httptest.Server
	got     chan string
}

func newSkipEnv(t *testing.T, poll time.Duration, endpoint bool) *skipEnv {
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, "sqlite://"+t.TempDir()+"/m.db")
	if err != nil {
		t.Fatal(err)
	}
	e := &skipEnv{st: st, counter: &fanOutCounter{Store: st}, log: &readTracker{Store: st}, got: make(chan string, 100)}
	e.rcv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.got <- r.Header.Get("webhook-id")
	}))
	if endpoint {
		e.addEndpoint(t, time.Now().Add(-time.Second))
	}
	if err := st.InitWebhookPosition(ctx, 0); err != nil {
		t.Fatal(err)
	}
	e.d = webhooks.NewDeliverer(e.counter, e.log, webhooks.NewGuard(true), webhooks.Config{PollInterval: poll},
		testenv.Logger(t, slog.LevelWarn))
	done := make(chan struct{})
	go func() { e.d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; e.rcv.Close(); st.Close() })
	return e
}

// addEndpoint registers wh_skip, created at the given time, in the store
// alone: the deliverer hears of it at its next poll or Wake.
func (e *skipEnv) addEndpoint(t *testing.T, created time.Time) {
	t.Helper()
	created = created.UTC()
	ep := &webhooks.Endpoint{ID: "wh_skip", Workspace: "a", URL: e.rcv.URL, Events: []string{memoryd.EventMemoryCreated},
		Enabled: true, Secret: "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", CreatedAt: created, UpdatedAt: created}
	if err := e.st.CreateEndpoint(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
}

// expect waits for wh_skip's deliveries of seqs, in that order, and then
// for nothing more within quiet.
func (e *skipEnv) expect(t *testing.T, quiet time.Duration, seqs ...int64) {
	t.Helper()
	ids := make([]string, len(seqs))
	for i, seq := range seqs {
		ids[i] = fmt.Sprintf("msg_skip_%d", seq)
	}
	e.expectIDs(t, quiet, ids...)
}

// expectIDs waits for the deliveries of the webhook ids, in that order,
// and then for nothing more within quiet.
func (e *skipEnv) expectIDs(t *testing.T, quiet time.Duration, ids ...string) {
	t.Helper()
	for _, want := range ids {
		select {
		case id := <-e.got:
			if id != want {
				t.Fatalf("delivered %q, want %q", id, want)
			}
		case <-time.After(testenv.WaitLimit):
			t.Fatalf("%s not delivered within %s (testenv.WaitLimit)", want, testenv.WaitLimit)
		}
	}
	select {
	case id := <-e.got:
		t.Fatalf("delivered %q, want only %v", id, ids)
	case <-time.After(quiet):
	}
}

func (e *skipEnv) appendEvent(t *testing.T, typ string) int64 {
	t.Helper()
	ev := &memoryd.Event{Workspace: "a", Type: typ, Payload: []byte(`{"id":"m"}`), CreatedAt: time.Now().UTC()}
	if err := e.st.AppendEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return ev.Seq
}

// appendRead appends n events of type typ, one at a time, each once the
// deliverer has read the one before.
func (e *skipEnv) appendRead(t *testing.T, typ string, n int) {
	t.Helper()
	for range n {
		e.log.waitRead(t, e.appendEvent(t, typ))
	}
}

func (e *skipEnv) position(t *testing.T) int64 {
	t.Helper()
	pos, _, err := e.st.WebhookPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

// Events no endpoint can want (search.performed) cost no fan-out
// transaction each, nor a read of the position, of due messages or of
// the log (the store's window has them): the position moves over them
// with the next webhook event, and that event is delivered.
func TestEventsWithoutWebhookTypeWriteNoPosition(t *testing.T) {
	e := newSkipEnv(t, time.Hour, true)
	e.appendRead(t, memoryd.EventSearchPerformed, 40)
	if n := e.counter.fanOuts.Load(); n != 0 {
		t.Fatalf("%d fan-out transactions for 40 search.performed events, want 0", n)
	}
	// The start reads both once (and initPosition the position once more).
	if p, d := e.counter.positions.Load(), e.counter.dues.Load(); p > 2 || d > 1 {
		t.Fatalf("%d position reads and %d due-message reads for 40 search.performed events, want at most 2 and 1", p, d)
	}
	e.log.mu.Lock()
	logReads := e.log.logReads
	e.log.mu.Unlock()
	if logReads > 1 { // the start's
		t.Fatalf("%d reads of the log for 40 search.performed events, want at most 1", logReads)
	}
	seq := e.appendEvent(t, memoryd.EventMemoryCreated)
	select {
	case id := <-e.got:
		if want := fmt.Sprintf("msg_skip_%d", seq); id != want {
			t.Fatalf("delivered %q, want %q", id, want)
		}
	case <-time.After(testenv.WaitLimit):
		t.Fatalf("memory.created after 40 skipped events not delivered within %s (testenv.WaitLimit)", testenv.WaitLimit)
	}
	if n := e.counter.fanOuts.Load(); n != 1 {
		t.Errorf("%d fan-out transactions, want 1 (the one with memory.created)", n)
	}
	if pos := e.position(t); pos != seq {
		t.Errorf("stored position %d after the fan-out, want %d", pos, seq)
	}
}

// A span without webhook events is written once it is PollInterval old,
// so a restart does not read it again.
func TestSkippedSpanIsWrittenAfterPollInterval(t *testing.T) {
	e := newSkipEnv(t, 50*time.Millisecond, true)
	start := e.position(t)
	var last int64
	for range 5 {
		last = e.appendEvent(t, memoryd.EventSearchPerformed)
	}
	deadline := time.Now().Add(testenv.WaitLimit)
	for e.position(t) != last {
		if time.Now().After(deadline) {
			t.Fatalf("stored position %d (from %d), want %d within %s (testenv.WaitLimit)", e.position(t), start, last, testenv.WaitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case id := <-e.got:
		t.Fatalf("delivered %q for search.performed", id)
	default:
	}
}

// While no endpoint is registered, webhook events cost no fan-out
// transaction each either. An endpoint registered through this node's
// Manager gets the events after it at once (no poll runs within the
// test), and the held ones before it are not sent.
func TestWebhookEventsWithoutEndpointsWriteNoPosition(t *testing.T) {
	e := newSkipEnv(t, time.Hour, false)
	e.appendRead(t, memoryd.EventMemoryCreated, 40)
	if n := e.counter.fanOuts.Load(); n != 0 {
		t.Fatalf("%d fan-out transactions for 40 memory.created events and no endpoint, want 0", n)
	}
	m := webhooks.NewManager(e.st, webhooks.NewGuard(true))
	m.Wake = e.d.Wake
	ep, err := m.Create(context.Background(), "a", e.rcv.URL, []string{memoryd.EventMemoryCreated}, true)
	if err != nil {
		t.Fatal(err)
	}
	seq := e.appendEvent(t, memoryd.EventMemoryCreated)
	e.expectIDs(t, 200*time.Millisecond, fmt.Sprintf("msg_%s_%d", strings.TrimPrefix(ep.ID, "wh_"), seq))
	if pos := e.position(t); pos != seq {
		t.Errorf("stored position %d after the fan-out, want %d", pos, seq)
	}
}

// Held webhook events are fanned out with their span, in its
// transaction: an endpoint registered on another node (no Wake here)
// that they post-date gets every one of them, in order.
func TestHeldWebhookEventsAreFannedOutWithTheirSpan(t *testing.T) {
	e := newSkipEnv(t, 200*time.Millisecond, false)
	registered := time.Now()
	var seqs []int64
	for range 5 {
		seqs = append(seqs, e.appendEvent(t, memoryd.EventMemoryCreated))
	}
	e.log.waitRead(t, seqs[len(seqs)-1])
	e.addEndpoint(t, registered)
	e.expect(t, 200*time.Millisecond, seqs...)
	if pos := e.position(t); pos != seqs[len(seqs)-1] {
		t.Errorf("stored position %d, want %d", pos, seqs[len(seqs)-1])
	}
}

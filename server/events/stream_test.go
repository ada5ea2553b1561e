package events_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store"
)

func TestWelcomeFirstAndHeaders(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	resp := e.GetStream(e.KeyA, q("events", "memory.created,memory.deleted", "filters[user_id]", "u1", "heartbeat", "40"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for h, want := range map[string]string{
		"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if resp.Header.Get("Content-Encoding") != "" {
		t.Error("the stream must not be compressed")
	}
	c := testenv.NewSSE(resp)
	defer c.Close()
	if r := c.Raw(t); !r.IsRetry() || r.Retry != 3000 {
		t.Fatalf("first message %+v, want retry: 3000", r)
	}
	m := c.Next(t)
	var w ev.Welcome
	m.Decode(t, &w)
	if m.Event != "welcome" || w.Heartbeat != 40 || w.Workspace != "a" || w.Filters["user_id"] != "u1" ||
		fmt.Sprint(w.Events) != "[memory.created memory.deleted]" || w.ConnectionId == "" || w.Retry != 3000 {
		t.Fatalf("welcome %s %+v", m.Event, w)
	}
	if w.Position != w.Head || seqOf(t, w.Position, e.epoch()) != 0 {
		t.Fatalf("a fresh stream starts at the end: position %q head %q", w.Position, w.Head)
	}
}

func TestLiveEvents(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	c, _ := e.OpenStream(e.KeyA, "", nil)
	created := e.create("a", "mem_1", map[string]any{"user_id": "u1"})
	expectEvent(t, c.NextData(t), created, e.epoch())
	deleted := e.remove("a", "mem_1")
	expectEvent(t, c.NextData(t), deleted, e.epoch())
}

func TestResumeReplaysExactlyTheMissedEvents(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	epoch := e.epoch()
	c, _ := e.OpenStream(e.KeyA, "", nil)
	var evs []*memoryd.Event
	for i := range 3 {
		evs = append(evs, e.create("a", fmt.Sprint("mem_", i), nil))
	}
	var ids []string
	for _, want := range evs {
		m := c.NextData(t)
		expectEvent(t, m, want, epoch)
		ids = append(ids, m.ID)
	}
	c.Close()
	for i := 3; i < 6; i++ {
		evs = append(evs, e.create("a", fmt.Sprint("mem_", i), nil))
	}
	for _, via := range []string{"header", "query"} {
		t.Run(via, func(t *testing.T) {
			var c *testenv.SSE
			var w ev.Welcome
			if via == "header" {
				// The stale query parameter loses to the header, as on an
				// EventSource reconnection.
				c, w = e.OpenStream(e.KeyA, q("last_event_id", ids[2]), map[string]string{"Last-Event-ID": ids[0]})
			} else {
				c, w = e.OpenStream(e.KeyA, q("last_event_id", ids[0]), nil)
			}
			defer c.Close()
			if w.Position != ids[0] {
				t.Fatalf("welcome position %q, want the resumed one %q", w.Position, ids[0])
			}
			for _, want := range evs[1:] {
				expectEvent(t, c.NextData(t), want, epoch)
			}
			live := e.create("a", "mem_live_"+via, nil)
			evs = append(evs, live)
			expectEvent(t, c.NextData(t), live, epoch)
		})
	}
}

func TestResumeOlderThanTheRingReadsTheStore(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.RingSize = 4
	cfg.ReadBatch = 3
	e := newEnv(t, cfg)
	epoch := e.epoch()
	c, _ := e.OpenStream(e.KeyA, "", nil)
	var evs []*memoryd.Event
	for i := range 20 {
		ws := "a"
		if i%3 == 0 {
			ws = "b" // interleaved events of another workspace
		}
		evs = append(evs, e.create(ws, fmt.Sprint("mem_", i), nil))
	}
	var first testenv.Message
	for i, want := range evs {
		if want.Workspace != "a" {
			continue
		}
		m := c.NextData(t)
		expectEvent(t, m, want, epoch)
		if i == 1 {
			first = m
		}
	}
	c.Close()
	c2, _ := e.OpenStream(e.KeyA, "", map[string]string{"Last-Event-ID": first.ID})
	for _, want := range evs[2:] {
		if want.Workspace == "a" {
			expectEvent(t, c2.NextData(t), want, epoch)
		}
	}
	live := e.create("a", "mem_live", nil)
	expectEvent(t, c2.NextData(t), live, epoch)
}

func TestUnusablePositionRestarts(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	epoch := e.epoch()
	var last *memoryd.Event
	for i := range 5 {
		last = e.create("a", fmt.Sprint("mem_", i), nil)
	}
	if _, err := e.Store.PruneEvents(context.Background(), time.Time{}, 2); err != nil {
		t.Fatal(err)
	}
	cases := map[ev.RestartReason]string{
		ev.Malformed:    "not-a-position",
		ev.ForeignEpoch: testenv.Position("another-epoch", 1),
		ev.Future:       testenv.Position(epoch, last.Seq+100),
		ev.Pruned:       testenv.Position(epoch, 1),
	}
	for reason, pos := range cases {
		t.Run(string(reason), func(t *testing.T) {
			c, w := e.OpenStream(e.KeyA, "", map[string]string{"Last-Event-ID": pos})
			defer c.Close()
			m := c.Next(t)
			var r ev.Restart
			m.Decode(t, &r)
			if m.Event != "restart" || r.Reason != reason || r.Position != w.Head || m.ID != w.Head || r.Message == "" {
				t.Fatalf("got %s %+v id %q, want restart %s at %q", m.Event, r, m.ID, reason, w.Head)
			}
			live := e.create("a", "mem_after_"+string(reason), nil)
			expectEvent(t, c.NextData(t), live, epoch)
		})
	}
	// The last retained positions are still usable: no restart, and the
	// next event is the one after.
	c, _ := e.OpenStream(e.KeyA, "", map[string]string{"Last-Event-ID": testenv.Position(epoch, last.Seq-2)})
	m := c.NextData(t)
	if m.Event != memoryd.EventMemoryCreated || seqOf(t, m.ID, epoch) != last.Seq-1 {
		t.Fatalf("got %s %s, want the event after the oldest kept position", m.Event, m.ID)
	}
}

// A stream from the end starts at the log's head even when the hub has not
// read it yet: a write acknowledged before the stream opened is not
// replayed as live. Here the write comes from another store on the same
// database (another node), which does not wake this hub, and the hub never
// polls, so it lags until this node's next write.
func TestEndIsTheLogsHead(t *testing.T) {
	for name, hdr := range map[string]map[string]string{
		"no position": nil, "malformed": {"Last-Event-ID": "not-a-position"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testenv.Quiet()
			cfg.PollInterval = time.Hour
			e := newEnv(t, cfg)
			epoch := e.epoch()
			other, err := store.Open(context.Background(), e.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			head := createIn(t, other, "a", "mem_elsewhere", nil).Seq
			c, w := e.OpenStream(e.KeyA, "", hdr)
			defer c.Close()
			if want := testenv.Position(epoch, head); w.Position != want || w.Head != want {
				t.Fatalf("welcome at %q, head %q; want both at the log's head %q", w.Position, w.Head, want)
			}
			if hdr != nil {
				if m := c.Next(t); m.Event != "restart" || m.ID != testenv.Position(epoch, head) {
					t.Fatalf("got %s %s, want restart at %s", m.Event, m.ID, testenv.Position(epoch, head))
				}
			}
			live := e.create("a", "mem_live", nil)
			expectEvent(t, c.NextData(t), live, epoch)
		})
	}
}

func TestRefusals(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.MinHeartbeat = 30 * time.Second
	e := newEnv(t, cfg)
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, "", map[string]string{"Accept": "application/json"}), 406, "NOT_ACCEPTABLE")
	// 406 is checked before the parameters.
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, q("events", "bogus"), map[string]string{"Accept": "text/html"}), 406, "NOT_ACCEPTABLE")
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, q("events", "memory.created,bogus"), nil), 400, "INVALID_REQUEST")
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, q("heartbeat", "10"), nil), 400, "INVALID_REQUEST")
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, q("filters", "x"), nil), 400, "INVALID_REQUEST")
	testenv.ExpectStatus(t, e.GetStream("", "", nil), 401, "UNAUTHORIZED")
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, "", map[string]string{"X-Workspace-ID": "b"}), 403, "FORBIDDEN")
	for _, accept := range []string{"*/*", "text/*", "text/event-stream"} {
		c, _ := e.OpenStream(e.KeyA, "", map[string]string{"Accept": accept})
		c.Close()
	}
}

func TestConnectionLimitPerKey(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.MaxStreamsPerKey = 2
	e := newEnv(t, cfg)
	c1, _ := e.OpenStream(e.KeyA, "", nil)
	c2, _ := e.OpenStream(e.KeyA, "", map[string]string{"X-Workspace-ID": "a2"})
	resp := e.GetStream(e.KeyA, "", nil)
	body := testenv.ExpectStatus(t, resp, 429, "RATE_LIMITED")
	if resp.Header.Get("Retry-After") == "" || body["retry_after"] == nil {
		t.Fatalf("429 without retry_after: %v %v", resp.Header, body)
	}
	// Another key is not affected.
	c3, _ := e.OpenStream(e.KeyB, "", nil)
	defer c3.Close()
	c1.Close()
	c2.Close()
	// A slot frees once the server notices the close.
	for i := 0; ; i++ {
		resp := e.GetStream(e.KeyA, "", nil)
		if resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		resp.Body.Close()
		if i > 200 {
			t.Fatal("the closed streams never freed their slots")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWorkspaceIsolation(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	epoch := e.epoch()
	ca, _ := e.OpenStream(e.KeyA, "", nil)
	ca2, _ := e.OpenStream(e.KeyA, "", map[string]string{"X-Workspace-ID": "a2"})
	cb, _ := e.OpenStream(e.KeyB, "", nil)
	inB := e.create("b", "mem_b", nil)
	inA2 := e.create("a2", "mem_a2", nil)
	inA := e.create("a", "mem_a", nil)
	expectEvent(t, ca.NextData(t), inA, epoch)
	expectEvent(t, ca2.NextData(t), inA2, epoch)
	expectEvent(t, cb.NextData(t), inB, epoch)
	// And a resume of b's position from a's stream only replays a's events.
	c, _ := e.OpenStream(e.KeyA, "", map[string]string{"Last-Event-ID": testenv.Position(epoch, 0)})
	expectEvent(t, c.NextData(t), inA, epoch)
}

func TestEventsAndMetadataFilters(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	epoch := e.epoch()
	onlyDeletes, _ := e.OpenStream(e.KeyA, q("events", "memory.deleted"), nil)
	onlyU1, _ := e.OpenStream(e.KeyA, q("filters[user_id]", "u1"), nil)
	tagged, _ := e.OpenStream(e.KeyA, q("filters[tags]", "work", "events", "memory.created"), nil)
	e.create("a", "mem_u2", map[string]any{"user_id": "u2"})
	u1 := e.create("a", "mem_u1", map[string]any{"user_id": "u1", "tags": []any{"home", "work"}})
	del := e.remove("a", "mem_u2")
	expectEvent(t, onlyDeletes.NextData(t), del, epoch)
	expectEvent(t, onlyU1.NextData(t), u1, epoch)
	expectEvent(t, tagged.NextData(t), u1, epoch)
	// The deletion carries no user_id: the user_id filter skips it.
	after := e.create("a", "mem_u1b", map[string]any{"user_id": "u1"})
	expectEvent(t, onlyU1.NextData(t), after, epoch)
}

func TestHeartbeatPositionResumesAFilteredStream(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	epoch := e.epoch()
	c, w := e.OpenStream(e.KeyA, q("events", "memory.deleted", "heartbeat", "1"), nil)
	var last *memoryd.Event
	for i := range 3 {
		last = e.create("a", fmt.Sprint("mem_", i), nil) // filtered out
	}
	// Heartbeats follow the cursor past the filtered events.
	var hb ev.Heartbeat
	var m testenv.Message
	for {
		m = c.Next(t)
		if m.Event != "heartbeat" {
			t.Fatalf("unexpected %s", m.Event)
		}
		m.Decode(t, &hb)
		if seqOf(t, hb.Position, epoch) == last.Seq {
			break
		}
	}
	if m.ID != hb.Position || hb.ConnectionId != w.ConnectionId || hb.Status != ev.HeartbeatStatusHealthy {
		t.Fatalf("heartbeat id %q data %+v", m.ID, hb)
	}
	c.Close()
	del := e.remove("a", "mem_1")
	c2, w2 := e.OpenStream(e.KeyA, q("events", "memory.deleted"), map[string]string{"Last-Event-ID": m.ID})
	if w2.Position != m.ID {
		t.Fatalf("resumed at %q, want %q", w2.Position, m.ID)
	}
	expectEvent(t, c2.NextData(t), del, epoch)
}

func TestPacingDelaysButNeverDrops(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.EventsPerMinute = 1200 // 20 per second
	cfg.PaceBurst = 2
	e := newEnv(t, cfg)
	epoch := e.epoch()
	c, _ := e.OpenStream(e.KeyA, "", nil)
	var evs []*memoryd.Event
	for i := range 30 {
		evs = append(evs, e.create("a", fmt.Sprint("mem_", i), nil))
	}
	for _, want := range evs {
		expectEvent(t, c.NextData(t), want, epoch)
	}
}

func TestShutdownSendsAnErrorEvent(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	c, _ := e.OpenStream(e.KeyA, "", nil)
	e.Stream.Close()
	if se := endsWithUnavailable(t, c.ExpectEnd(t)); se.RetryAfter != 3000 {
		t.Fatalf("error event %+v", se)
	}
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, "", nil), http.StatusServiceUnavailable, "UNAVAILABLE")
}

func TestUserActivityIsLogged(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.DisableActivity = false
	e := newEnv(t, cfg)
	watcher, _ := e.OpenStream(e.KeyA, q("events", "user.activity"), nil)
	// The watcher's own connect comes first.
	var ua ev.UserActivity
	watcher.NextData(t).Decode(t, &ua)
	if ua.Action != ev.StreamConnected || ua.UserId != "user-a" {
		t.Fatalf("first activity %+v", ua)
	}
	other, w := e.OpenStream(e.KeyA, "", nil)
	m := watcher.NextData(t)
	m.Decode(t, &ua)
	if m.Event != "user.activity" || ua.Action != ev.StreamConnected || ua.ConnectionId == nil || *ua.ConnectionId != w.ConnectionId {
		t.Fatalf("got %s %+v", m.Event, ua)
	}
	other.Close()
	m = watcher.NextData(t)
	m.Decode(t, &ua)
	if ua.Action != ev.StreamDisconnected || *ua.ConnectionId != w.ConnectionId {
		t.Fatalf("got %+v", ua)
	}
	// Replayable: a resume from before sees them again.
	c, _ := e.OpenStream(e.KeyA, q("events", "user.activity"), map[string]string{"Last-Event-ID": testenv.Position(e.epoch(), 0)})
	c.NextData(t).Decode(t, &ua)
	if ua.Action != ev.StreamConnected {
		t.Fatalf("replayed %+v", ua)
	}
}

func TestSnapshotsAndKeepalive(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.SnapshotInterval = 150 * time.Millisecond
	cfg.Keepalive = 20 * time.Millisecond
	e := newEnv(t, cfg)
	c, w := e.OpenStream(e.KeyA, q("events", "system.health,analytics.update"), nil)
	e.create("a", "mem_1", nil)
	var health ev.SystemHealth
	var an ev.AnalyticsUpdate
	sawHealth, sawKeepalive := false, false
	for !sawHealth || an.Counters.MemoriesCreated == 0 || !sawKeepalive {
		m := c.Raw(t)
		switch {
		case m.IsComment() && m.Comment == "keepalive":
			sawKeepalive = true
		case m.Event == "system.health":
			m.Decode(t, &health)
			sawHealth = true
			// Snapshots carry the connection's current position: at or
			// after welcome's, since filtered events advance it too.
			if seqOf(t, m.ID, e.epoch()) < seqOf(t, w.Position, e.epoch()) {
				t.Fatalf("snapshot id %q is before the connection's position %q", m.ID, w.Position)
			}
		case m.Event == "analytics.update":
			m.Decode(t, &an)
			if an.Workspace != "a" || an.ActiveStreams != 1 || an.PeriodSeconds != 0 {
				t.Fatalf("analytics %+v", an)
			}
		case m.Event == "memory.created":
			t.Fatal("memory.created was not subscribed")
		}
	}
	if health.Services.Database != ev.ServiceStatusHealthy || health.Status != ev.SystemHealthStatusHealthy ||
		health.Metrics.MemoryUsage <= 0 || health.Metrics.CpuUsage < 0 {
		t.Fatalf("health %+v", health)
	}
}

func TestTickets(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	req, _ := http.NewRequest(http.MethodPost, e.Srv.URL+"/api/v1/stream/tickets", nil)
	req.Header.Set("Authorization", "Bearer "+e.KeyA)
	req.Header.Set("X-Workspace-ID", "a2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("ticket: %v %v", resp.StatusCode, err)
	}
	var tk struct {
		Ticket, Workspace string
		ExpiresAt         time.Time `json:"expires_at"`
	}
	decodeBody(t, resp, &tk)
	if tk.Workspace != "a2" || time.Until(tk.ExpiresAt) < 4*time.Minute {
		t.Fatalf("ticket %+v", tk)
	}
	// Usable several times (EventSource reconnections), for its workspace.
	for range 2 {
		c, w := e.OpenStream("", q("ticket", tk.Ticket), nil)
		if w.Workspace != "a2" {
			t.Fatalf("ticket stream in %q", w.Workspace)
		}
		c.Close()
	}
	forged := tk.Ticket[:len(tk.Ticket)-2] + "xx"
	testenv.ExpectStatus(t, e.GetStream("", q("ticket", forged), nil), 401, "UNAUTHORIZED")
	testenv.ExpectStatus(t, e.GetStream("", q("ticket", "st_"), nil), 401, "UNAUTHORIZED")
	testenv.ExpectStatus(t, e.GetStream("", q("ticket", tk.Ticket), map[string]string{"X-Workspace-ID": "a"}), 403, "FORBIDDEN")
	// Revoking the key kills its tickets at once.
	keys, _ := e.Store.ListKeys(context.Background())
	for _, k := range keys {
		if k.User == "user-a" {
			if err := e.Store.RevokeKey(context.Background(), k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	testenv.ExpectStatus(t, e.GetStream("", q("ticket", tk.Ticket), nil), 401, "UNAUTHORIZED")
}

func TestTwoNodesShareTheLog(t *testing.T) {
	// A write through another handle on the same database, as a second
	// node's: it does not wake this node's hub, which finds it by its
	// poll.
	cfg := testenv.Quiet()
	cfg.PollInterval = 20 * time.Millisecond
	e := newEnv(t, cfg)
	other, err := store.Open(context.Background(), e.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c, _ := e.OpenStream(e.KeyA, "", nil)
	elsewhere := createIn(t, other, "a", "mem_elsewhere", nil)
	expectEvent(t, c.NextData(t), elsewhere, e.epoch())
}

// A workspace with no stream open at the last snapshot round still gets
// its analytics.update at once, with zero counters, not a period later.
func TestAnalyticsForANewWorkspaceAtOnce(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.SnapshotInterval = time.Hour
	e := newEnv(t, cfg)
	c, _ := e.OpenStream(e.KeyB, q("events", "analytics.update"), nil)
	var an ev.AnalyticsUpdate
	m := c.Next(t)
	if m.Event != "analytics.update" {
		t.Fatalf("got %s, want analytics.update", m.Event)
	}
	m.Decode(t, &an)
	if an.Workspace != "b" || an.ActiveStreams != 1 || an.Counters.MemoriesCreated != 0 {
		t.Fatalf("analytics %+v", an)
	}
}

// A resuming client's catch-up (the events up to the head when it
// connects) is delivered unpaced; live events after it are paced. At 60
// events a minute, 200 paced events would take over three minutes.
func TestCatchUpIsNotPaced(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.EventsPerMinute = 60 // one a second
	cfg.PaceBurst = 3
	e := newEnv(t, cfg)
	epoch := e.epoch()
	from := e.Stream.Head()
	var missed []*memoryd.Event
	for i := range 200 {
		missed = append(missed, e.create("a", fmt.Sprint("mem_", i), nil))
	}
	c, _ := e.OpenStream(e.KeyA, "", map[string]string{"Last-Event-ID": from})
	deadline := time.Now().Add(testenv.WaitLimit)
	for i, want := range missed {
		expectEvent(t, c.NextData(t), want, epoch)
		if time.Now().After(deadline) {
			t.Fatalf("the catch-up is paced: %d of %d events after %s", i+1, len(missed), testenv.WaitLimit)
		}
	}
	// Live: the burst goes out at once, the next event waits its turn. At
	// most a burst of tokens is banked, refilled at one a second, so the
	// event after the burst cannot leave before a second after the first
	// live write started. Timed from there, not from the burst's arrival:
	// slow writes or a late reader (a busy machine) only make the wait
	// look longer, never shorter.
	var live []*memoryd.Event
	start := time.Now()
	for i := range cfg.PaceBurst + 1 {
		live = append(live, e.create("a", fmt.Sprint("live_", i), nil))
	}
	for _, want := range live[:cfg.PaceBurst] {
		expectEvent(t, c.NextData(t), want, epoch)
	}
	expectEvent(t, c.NextData(t), live[cfg.PaceBurst], epoch)
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("the event after the burst came %s after the first live write: live events are not paced", waited)
	}
}

// endsWithUnavailable checks that a stream's last message is an `error`
// event with code UNAVAILABLE and no id (it moves no resume point), and
// returns it.
func endsWithUnavailable(t *testing.T, rest []testenv.Message) ev.StreamError {
	t.Helper()
	if len(rest) == 0 || rest[len(rest)-1].Event != "error" {
		t.Fatalf("stream ended with %+v, want an error event", rest)
	}
	last := rest[len(rest)-1]
	var se ev.StreamError
	last.Decode(t, &se)
	if se.Code != "UNAVAILABLE" || last.HasID {
		t.Fatalf("error event %+v (has id: %v)", se, last.HasID)
	}
	return se
}

package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/memoryd/memoryd/conformance/sse"
)

func streamLiveChecks() []Check {
	return []Check{
		{ID: "STREAM-LIVE-001", Level: Must, Profile: Stream, Ref: "memory.created",
			Title: "creating a memory sends memory.created with content, metadata, tags and a position id", Run: checkLiveCreated},
		{ID: "STREAM-LIVE-002", Level: Must, Profile: Stream, Ref: "memory.updated",
			Title: "updating a memory sends memory.updated whose changes say what changed", Run: checkLiveUpdated},
		{ID: "STREAM-LIVE-003", Level: Must, Profile: Stream, Ref: "memory.deleted",
			Title: "deleting a memory sends memory.deleted (reason user_request)", Run: checkLiveDeleted},
		{ID: "STREAM-LIVE-004", Level: Must, Profile: Stream, Ref: "search.performed",
			Title: "a search sends search.performed with the query, mode and result count", Run: checkLiveSearch},
		{ID: "STREAM-LIVE-005", Level: Must, Profile: Stream, Ref: "memory.created",
			Title: "events arrive in the order of the writes, with distinct positions", Run: checkLiveOrder},
		{ID: "STREAM-ACTIVITY-001", Level: Must, Profile: Stream, Ref: "user.activity",
			Title: "opening and closing a stream sends user.activity stream.connected / stream.disconnected", Run: checkActivity},
		{ID: "STREAM-FILTER-001", Level: Must, Profile: Stream, Ref: "streamEvents 200",
			Title: "events= selects the event types received", Run: checkFilterEvents},
		{ID: "STREAM-FILTER-002", Level: Must, Profile: Stream, Ref: "streamEvents 200",
			Title: "filters[key]=value selects memory events by metadata (exact match, array element match)", Run: checkFilterMetadata},
		{ID: "STREAM-ISO-001", Level: Must, Profile: Stream, Ref: "streamEvents 200",
			Title: "key B's stream never carries key A's events", Run: checkStreamIsolation},
		{ID: "STREAM-RESUME-001", Level: Must, Profile: Stream, Ref: "streamEvents 200",
			Title: "Last-Event-ID resumes strictly after that position: no gap, no duplicate, in order", Run: resumeCheck(false)},
		{ID: "STREAM-RESUME-002", Level: Must, Profile: Stream, Ref: "streamEvents 200",
			Title: "the last_event_id query parameter resumes like the header", Run: resumeCheck(true)},
		{ID: "STREAM-RESUME-003", Level: Should, Profile: Stream, Ref: "streamEvents 200",
			Title: "when both are given, the Last-Event-ID header wins over last_event_id", Run: checkHeaderWins},
		{ID: "STREAM-RESTART-001", Level: Must, Profile: Stream, Ref: "restart",
			Title: "an unusable Last-Event-ID gets welcome, then restart (reason malformed), then live events", Run: checkRestart},
		{ID: "STREAM-LIMIT-001", Level: Must, Profile: Limits, Ref: "streamEvents 429", Timeout: 2 * time.Minute,
			Title: "more than 5 open streams per key is 429 with retry_after and Retry-After", Run: checkStreamLimit},
		{ID: "STREAM-ERROR-001", Level: Must, Profile: Stream, Ref: "error",
			Title: "every error message seen during the run matched its schema (errors cannot be provoked from outside)", Run: checkStreamErrors},
	}
}

func checkLiveCreated(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{})
	md := map[string]any{"user_id": t.Name("u"), "category": "note", "tags": []any{t.Name("live"), "work"}}
	sr := t.Create(ctx, t.A, map[string]any{"text": "New memory content", "metadata": md})
	ev, _ := s.Await(t.eventWait(), "memory.created for "+sr.ID, isMemoryEvent("memory.created", sr.ID))
	p := payload(ev)
	if p["content"] != "New memory content" {
		t.Errorf("content %v", p["content"])
	}
	if tags, _ := p["tags"].([]any); !slices.Equal(tags, []any{t.Name("live"), "work"}) {
		t.Errorf("tags %v", p["tags"])
	}
	if m, _ := p["metadata"].(map[string]any); m["user_id"] != t.Name("u") {
		t.Errorf("metadata %v", p["metadata"])
	}
	if !ev.IDSet || ev.ID == "" || ev.ID == s.Welcome.Position {
		t.Errorf("memory.created SSE id %q (welcome position %q)", ev.ID, s.Welcome.Position)
	}
}

func checkLiveUpdated(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{})
	sr := t.Create(ctx, t.A, map[string]any{"text": "before", "metadata": map[string]any{"tags": []any{"a"}}})
	t.update(ctx, t.A, sr.ID, map[string]any{"text": "after"})
	ev, _ := s.Await(t.eventWait(), "memory.updated", isMemoryEvent("memory.updated", sr.ID))
	p := payload(ev)
	ch, _ := p["changes"].(map[string]any)
	if p["content"] != "after" || ch["content"] != true || ch["metadata"] != false || ch["tags"] != false {
		t.Errorf("text update: content %v changes %v", p["content"], ch)
	}
	t.update(ctx, t.A, sr.ID, map[string]any{"metadata": map[string]any{"tags": []any{"a", "b"}}})
	ev, _ = s.Await(t.eventWait(), "second memory.updated", isMemoryEvent("memory.updated", sr.ID))
	ch, _ = payload(ev)["changes"].(map[string]any)
	if ch["content"] != false || ch["metadata"] != true || ch["tags"] != true {
		t.Errorf("tags update: changes %v", ch)
	}
}

func checkLiveDeleted(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{})
	sr := t.Create(ctx, t.A, map[string]any{"text": "short-lived"})
	t.Expect(t.del(ctx, t.A, sr.ID), http.StatusOK)
	ev, _ := s.Await(t.eventWait(), "memory.deleted", isMemoryEvent("memory.deleted", sr.ID))
	if r := payload(ev)["reason"]; r != "user_request" {
		t.Errorf("reason %v", r)
	}
}

func checkLiveSearch(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"events": {"search.performed"}}})
	q := "what did we decide " + t.RunID
	res := t.Search(ctx, t.A, map[string]any{"query": q, "mode": "keyword"})
	ev, _ := s.Await(t.eventWait(), "search.performed", func(ev sse.Event) bool {
		return ev.Type == "search.performed" && payload(ev)["query"] == q
	})
	p := payload(ev)
	if p["mode"] != nil && p["mode"] != "keyword" {
		t.Errorf("mode %v", p["mode"])
	}
	if n, _ := p["results_count"].(float64); int(n) != len(res.Results) {
		t.Errorf("results_count %v, the search returned %d", p["results_count"], len(res.Results))
	}
}

// createN creates n memories tagged tag and returns their ids in order.
func (t *T) createN(ctx context.Context, c *Client, n int, tag string, md map[string]any) []string {
	var ids []string
	for i := range n {
		meta := map[string]any{"tags": []any{tag}}
		for k, v := range md {
			meta[k] = v
		}
		ids = append(ids, t.Create(ctx, c, map[string]any{"text": fmt.Sprintf("event %d %s", i, tag), "metadata": meta}).ID)
	}
	return ids
}

// awaitCreated reads the memory.created events of ids, in order, and
// returns their positions.
func (s *SSEConn) awaitCreated(ids []string) []string {
	var got []string
	var positions []string
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for len(got) < len(ids) {
		ev, _ := s.Await(s.t.eventWait(), "memory.created of our writes", func(ev sse.Event) bool {
			return ev.Type == "memory.created" && want[fmt.Sprint(payload(ev)["id"])]
		})
		got = append(got, fmt.Sprint(payload(ev)["id"]))
		positions = append(positions, ev.ID)
	}
	if !slices.Equal(got, ids) {
		s.t.Errorf("events in order %v, writes were %v", got, ids)
	}
	return positions
}

func checkLiveOrder(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"events": {"memory.created"}}})
	pos := s.awaitCreated(t.createN(ctx, t.A, 5, t.Name("order"), nil))
	seen := map[string]bool{}
	for _, p := range pos {
		if p == "" || seen[p] {
			t.Errorf("positions not distinct: %v", pos)
			break
		}
		seen[p] = true
	}
}

func checkActivity(ctx context.Context, t *T) {
	watch := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"events": {"user.activity"}}})
	other := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"events": {"memory.deleted"}}})
	id := other.Welcome.ConnectionID
	activity := func(action string) func(sse.Event) bool {
		return func(ev sse.Event) bool {
			p := payload(ev)
			return ev.Type == "user.activity" && p["action"] == action && p["connection_id"] == id
		}
	}
	watch.Await(t.eventWait(), "user.activity stream.connected", activity("stream.connected"))
	other.Close()
	watch.Await(t.eventWait(), "user.activity stream.disconnected", activity("stream.disconnected"))
}

func checkFilterEvents(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"events": {"memory.deleted"}}})
	if !slices.Equal(s.Welcome.Events, []string{"memory.deleted"}) {
		t.Errorf("welcome events %v, want [memory.deleted]", s.Welcome.Events)
	}
	sr := t.Create(ctx, t.A, map[string]any{"text": "filtered out"})
	t.update(ctx, t.A, sr.ID, map[string]any{"text": "still filtered out"})
	t.Expect(t.del(ctx, t.A, sr.ID), http.StatusOK)
	_, before := s.Await(t.eventWait(), "memory.deleted", isMemoryEvent("memory.deleted", sr.ID))
	for _, ev := range before {
		if ev.Type != "heartbeat" && ev.Type != "memory.deleted" {
			t.Errorf("received %s although events=memory.deleted", ev.Type)
		}
	}
}

func checkFilterMetadata(ctx context.Context, t *T) {
	user := t.Name("user")
	s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"filters[user_id]": {user}, "events": {"memory.created"}}})
	if s.Welcome.Filters["user_id"] != user {
		t.Errorf("welcome filters %v", s.Welcome.Filters)
	}
	other := t.createN(ctx, t.A, 2, t.Name("flt"), map[string]any{"user_id": user + "-other"})
	mine := t.createN(ctx, t.A, 1, t.Name("flt"), map[string]any{"user_id": user})
	_, before := s.Await(t.eventWait(), "the matching memory.created", isMemoryEvent("memory.created", mine[0]))
	for _, ev := range before {
		if id := payload(ev)["id"]; slices.Contains(other, fmt.Sprint(id)) {
			t.Errorf("received %s of %v, which the filter excludes", ev.Type, id)
		}
	}
	tag := t.Name("fltag")
	s2 := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"filters[tags]": {tag}, "events": {"memory.created"}}})
	t.createN(ctx, t.A, 1, t.Name("untagged"), nil)
	tagged := t.createN(ctx, t.A, 1, tag, nil)
	_, before = s2.Await(t.eventWait(), "the tagged memory.created", isMemoryEvent("memory.created", tagged[0]))
	for _, ev := range before {
		if ev.Type == "memory.created" {
			t.Errorf("filters[tags]=%s let through %v", tag, payload(ev)["id"])
		}
	}
}

func checkStreamIsolation(ctx context.Context, t *T) {
	t.NeedB()
	s := t.OpenStream(ctx, t.B, StreamOpts{})
	a := t.Create(ctx, t.A, map[string]any{"text": "A's secret " + t.RunID})
	t.Search(ctx, t.A, map[string]any{"query": "A's secret " + t.RunID})
	// B's own write, after A's: once B sees it, A's events would have come.
	b := t.Create(ctx, t.B, map[string]any{"text": "B's marker"})
	_, before := s.Await(t.eventWait(), "B's own memory.created", isMemoryEvent("memory.created", b.ID))
	for _, ev := range before {
		p := payload(ev)
		if p["id"] == a.ID || p["query"] == "A's secret "+t.RunID {
			t.Errorf("B's stream carried A's %s", ev.Type)
		}
	}
}

func resumeCheck(query bool) func(context.Context, *T) {
	return func(ctx context.Context, t *T) {
		tag := t.Name("resume")
		sel := url.Values{"events": {"memory.created"}}
		s := t.OpenStream(ctx, t.A, StreamOpts{Query: sel})
		ids := t.createN(ctx, t.A, 4, tag, nil)
		pos := s.awaitCreated(ids)
		s.Close()
		more := t.createN(ctx, t.A, 2, tag, nil) // written while disconnected
		o := StreamOpts{Query: cloneValues(sel), LastEventID: pos[0]}
		if query {
			o.Query.Set("last_event_id", pos[0])
			o.LastEventID = ""
		}
		r := t.OpenStream(ctx, t.A, o)
		if r.Welcome.Position != pos[0] {
			t.Errorf("resumed welcome position %q, want %q", r.Welcome.Position, pos[0])
		}
		got := r.awaitCreated(append(ids[1:], more...))
		if !slices.Equal(got[:3], pos[1:]) {
			t.Errorf("replayed positions %v, the live stream had %v", got[:3], pos[1:])
		}
	}
}

func checkHeaderWins(ctx context.Context, t *T) {
	tag := t.Name("wins")
	sel := url.Values{"events": {"memory.created"}}
	s := t.OpenStream(ctx, t.A, StreamOpts{Query: sel})
	ids := t.createN(ctx, t.A, 3, tag, nil)
	pos := s.awaitCreated(ids)
	s.Close()
	q := cloneValues(sel)
	q.Set("last_event_id", pos[0])
	r := t.OpenStream(ctx, t.A, StreamOpts{Query: q, LastEventID: pos[1]})
	if r.Welcome.Position != pos[1] {
		t.Errorf("welcome position %q, want the header's %q", r.Welcome.Position, pos[1])
	}
	r.awaitCreated(ids[2:])
}

func checkRestart(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{LastEventID: "not a position!"})
	ev, ok := s.NextEvent(t.eventWait())
	if !ok || ev.Type != "restart" {
		t.Fatalf("second message %q, want restart", ev.Type)
	}
	p := payload(ev)
	if p["reason"] != "malformed" {
		t.Errorf("restart reason %v, want malformed", p["reason"])
	}
	if !ev.IDSet || ev.ID != p["position"] {
		t.Errorf("restart SSE id %q, position %v", ev.ID, p["position"])
	}
	sr := t.Create(ctx, t.A, map[string]any{"text": "after restart"})
	s.Await(t.eventWait(), "live memory.created after restart", isMemoryEvent("memory.created", sr.ID))
}

func checkStreamLimit(ctx context.Context, t *T) {
	for i := range 10 {
		connect := t.connect
		if i < 5 {
			connect = t.connectForSlot
		}
		resp, cancel := connect(ctx, t.A, StreamOpts{})
		if resp.StatusCode == http.StatusOK {
			t.Cleanup(func(context.Context) { cancel(); resp.Body.Close() })
			continue
		}
		body := readSome(resp, cancel)
		resp.Body.Close()
		cancel()
		out := &Response{Method: "GET", URL: resp.Request.URL.String(), Status: resp.StatusCode, Header: resp.Header, Body: body}
		if i < 5 {
			t.Fatalf("stream %d refused: %s", i+1, out)
		}
		if _, err := t.A.Validate(ctx, resp.Request, out, false); err != nil {
			t.Errorf("%v", err)
		}
		t.ExpectError(out, http.StatusTooManyRequests)
		return
	}
	t.Errorf("10 concurrent streams of one key were all accepted")
}

func checkStreamErrors(ctx context.Context, t *T) {
	seen := t.suite.seenStreamErrors()
	if len(seen) == 0 {
		t.Skipf("no error message was seen on any stream (they cannot be provoked from outside)")
	}
	t.Logf("%d error message(s) seen; each was validated against StreamError when received", len(seen))
}

package conformance

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/memoryd/memoryd/conformance/sse"
)

func streamConnectChecks() []Check {
	return []Check{
		{ID: "STREAM-CONNECT-001", Level: Must, Profile: Stream, Ref: "streamEvents 200, welcome",
			Title: "GET /stream answers 200 text/event-stream and sends welcome first, its SSE id being its position", Run: checkWelcome},
		{ID: "STREAM-CONNECT-002", Level: Should, Profile: Stream, Ref: "streamEvents 200",
			Title: "the stream has Cache-Control no-cache, X-Accel-Buffering no, no compression, and a retry field", Run: checkStreamHeaders},
		{ID: "STREAM-CONNECT-003", Level: Must, Profile: Stream, Ref: "streamEvents 200",
			Title: "a request without Accept is served the stream", Run: checkNoAccept},
		{ID: "STREAM-ACCEPT-001", Level: Must, Profile: Stream, Ref: "streamEvents 406",
			Title: "an Accept header that does not allow text/event-stream is 406 NOT_ACCEPTABLE", Run: checkNotAcceptable},
		{ID: "STREAM-PARAM-001", Level: Must, Profile: Stream, Ref: "streamEvents 400",
			Title: "heartbeat out of range or not a number, or an unknown event type, is 400", Run: checkStreamBadParams},
		{ID: "STREAM-TICKET-002", Level: Must, Profile: Stream, Ref: "streamEvents 200, streamEvents 401",
			Title: "a ticket authenticates GET /stream without a key, reusably; a bad ticket is 401", Run: checkTicketStream},
		{ID: "STREAM-HEARTBEAT-001", Level: Must, Profile: Stream, Ref: "heartbeat", Timeout: 3 * time.Minute,
			Title: "heartbeats arrive at the effective interval with the connection's position as SSE id", Run: checkHeartbeat},
		{ID: "STREAM-KEEPALIVE-001", Level: Should, Profile: Stream, Ref: "streamEvents 200", Timeout: time.Minute,
			Title: "an otherwise silent connection gets a keepalive comment within about 15s", Run: checkKeepalive},
		{ID: "STREAM-SNAPSHOT-001", Level: Must, Profile: Stream, Ref: "system.health",
			Title: "a connection subscribed to system.health receives the latest snapshot at once", Run: snapshotCheck("system.health")},
		{ID: "STREAM-SNAPSHOT-002", Level: Must, Profile: Stream, Ref: "analytics.update",
			Title: "a connection subscribed to analytics.update receives the latest snapshot at once", Run: snapshotCheck("analytics.update")},
	}
}

func checkWelcome(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{})
	w := s.Welcome
	if w.ConnectionID == "" || w.Position == "" || w.Head == "" {
		t.Errorf("welcome lacks connection_id, position or head: %+v", w)
	}
	if s.WelcomeEvent.ID != w.Position || !s.WelcomeEvent.IDSet {
		t.Errorf("welcome SSE id %q, want its position %q", s.WelcomeEvent.ID, w.Position)
	}
	if w.Position != w.Head {
		t.Errorf("a connection without Last-Event-ID starts at %q, not the end %q", w.Position, w.Head)
	}
	if w.Heartbeat < 1 {
		t.Errorf("welcome heartbeat %d", w.Heartbeat)
	}
	if t.A.Workspace != "" && w.Workspace != t.A.Workspace {
		t.Errorf("welcome workspace %q, want %q", w.Workspace, t.A.Workspace)
	}
}

func checkStreamHeaders(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{Req: Request{Header: http.Header{"Accept-Encoding": {"gzip"}}}})
	h := s.Resp.Header
	if !strings.Contains(h.Get("Cache-Control"), "no-cache") {
		t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
	}
	if h.Get("X-Accel-Buffering") != "no" {
		t.Errorf("X-Accel-Buffering %q", h.Get("X-Accel-Buffering"))
	}
	if ce := h.Get("Content-Encoding"); ce != "" && ce != "identity" {
		t.Errorf("stream compressed with %q", ce)
	}
	// The retry field, when sent, comes with or before welcome; look at
	// what was buffered up to now.
	if s.Welcome.Retry <= 0 {
		t.Errorf("welcome retry %d", s.Welcome.Retry)
	}
}

func checkNoAccept(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{Req: Request{Header: http.Header{"Accept": nil}}})
	_ = s
}

func (t *T) preStreamError(ctx context.Context, c *Client, o StreamOpts, status int) {
	resp, cancel := t.connect(ctx, c, o)
	defer cancel()
	defer resp.Body.Close()
	out := &Response{Method: "GET", URL: resp.Request.URL.String(), Status: resp.StatusCode, Header: resp.Header}
	if isEventStream(resp.Header) {
		t.Errorf("want %d before the stream starts, got a %d event stream for %s", status, resp.StatusCode, out.URL)
		return
	}
	out.Body = readSome(resp, cancel)
	if _, err := c.Validate(ctx, resp.Request, out, false); err != nil {
		t.Errorf("%s: %v", out, err)
		return
	}
	if resp.StatusCode != status {
		t.Errorf("want %d, got %s", status, out)
		return
	}
	t.checkEnvelope(out)
}

func checkNotAcceptable(ctx context.Context, t *T) {
	for _, accept := range []string{"application/json", "text/html", "text/plain;q=1, application/xml"} {
		t.preStreamError(ctx, t.A, StreamOpts{Req: Request{Header: http.Header{"Accept": {accept}}}}, http.StatusNotAcceptable)
	}
}

func checkStreamBadParams(ctx context.Context, t *T) {
	for _, q := range []url.Values{
		{"heartbeat": {"0"}}, {"heartbeat": {"3601"}}, {"heartbeat": {"soon"}},
		{"events": {"no.such.event"}}, {"events": {"memory.created,bogus"}},
	} {
		t.preStreamError(ctx, t.A, StreamOpts{Query: q}, http.StatusBadRequest)
	}
}

func checkTicketStream(ctx context.Context, t *T) {
	st := t.ticket(ctx, t.A)
	for range 2 {
		s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"ticket": {st.Ticket}}, Req: Request{NoAuth: true}})
		if s.Welcome.Workspace != st.Workspace {
			t.Errorf("ticket stream workspace %q, ticket says %q", s.Welcome.Workspace, st.Workspace)
		}
		s.Close()
	}
	t.preStreamError(ctx, t.A, StreamOpts{Query: url.Values{"ticket": {st.Ticket + "x"}}, Req: Request{NoAuth: true}}, http.StatusUnauthorized)
	t.preStreamError(ctx, t.A, StreamOpts{Query: url.Values{"ticket": {t.A.Key}}, Req: Request{NoAuth: true}}, http.StatusUnauthorized)
}

func checkHeartbeat(ctx context.Context, t *T) {
	asked := t.heartbeatFloor(ctx)
	s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"heartbeat": {strconv.Itoa(asked)}, "events": {"memory.deleted"}}})
	if s.Welcome.Heartbeat != asked {
		t.Errorf("asked for heartbeat %d, welcome says %d", asked, s.Welcome.Heartbeat)
	}
	hb := time.Duration(s.Welcome.Heartbeat) * time.Second
	t.Logf("heartbeat=%d, the smallest of 1, 2, 5, 10, 15, 30 the server accepts", asked)
	var last time.Time
	for i := range 2 {
		ev, _ := s.Await(hb+10*time.Second, "heartbeat", func(ev sse.Event) bool { return ev.Type == "heartbeat" })
		now := time.Now()
		// Heartbeats come every interval: far earlier is as wrong as late.
		if i > 0 && now.Sub(last) < hb/2 {
			t.Errorf("heartbeat %d came %s after the previous one, the interval is %s", i, now.Sub(last).Round(time.Millisecond), hb)
		}
		last = now
		p := payload(ev)
		if !ev.IDSet || ev.ID != p["position"] {
			t.Errorf("heartbeat %d: SSE id %q, position %v", i, ev.ID, p["position"])
		}
		if p["connection_id"] != s.Welcome.ConnectionID {
			t.Errorf("heartbeat connection_id %v, welcome said %q", p["connection_id"], s.Welcome.ConnectionID)
		}
	}
}

// heartbeatFloor finds the smallest of a few heartbeat intervals the
// server accepts: the spec lets a server set its minimum (30 by default)
// and answer 400 below it, and a short one keeps the heartbeat check fast
// against a server configured for tests.
func (t *T) heartbeatFloor(ctx context.Context) int {
	for _, hb := range []int{1, 2, 5, 10, 15, 30} {
		resp, cancel := t.connect(ctx, t.A, StreamOpts{Query: url.Values{"heartbeat": {strconv.Itoa(hb)}, "events": {"memory.deleted"}}})
		status := resp.StatusCode
		resp.Body.Close()
		cancel()
		switch status {
		case http.StatusOK:
			return hb
		case http.StatusBadRequest:
			continue
		default:
			t.Fatalf("heartbeat=%d: want 200, or 400 below the server's minimum; got %d", hb, status)
		}
	}
	t.Fatalf("no heartbeat up to the default 30 was accepted")
	return 0
}

func checkKeepalive(ctx context.Context, t *T) {
	s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"heartbeat": {"3600"}, "events": {"memory.deleted"},
		"filters[" + t.RunID + "]": {"none"}}})
	deadline := time.Now().Add(25 * time.Second)
	for time.Now().Before(deadline) {
		it, ok := s.Next(time.Until(deadline))
		if !ok {
			break
		}
		if it.Kind == sse.KindComment {
			return
		}
	}
	t.Errorf("no comment line within 25s of silence (%v)", s.Err())
}

func snapshotCheck(name string) func(context.Context, *T) {
	return func(ctx context.Context, t *T) {
		s := t.OpenStream(ctx, t.A, StreamOpts{Query: url.Values{"events": {name}}})
		ev, _ := s.Await(t.eventWait(), name, func(ev sse.Event) bool { return ev.Type == name })
		if !ev.IDSet || ev.ID == "" {
			t.Errorf("%s without an SSE id (the connection's position)", name)
		}
	}
}

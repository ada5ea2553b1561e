package events

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
)

// limitRetry is the Retry-After of a 429 for too many open streams: a
// guess, since a slot frees only when one of the key's streams ends.
const limitRetry = 5 * time.Second

// ServeHTTP serves GET /api/v1/stream for the principal in the request's
// context. Before the stream starts, problems are HTTP statuses, checked in
// this order: 401, 406, 400, 503, 429. After, they are `error` events.
func (s *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	if p == nil || p.Key == nil {
		writeError(w, &memoryd.Error{Code: memoryd.EUNAUTHORIZED, Message: "Missing API key: send Authorization: Bearer <key>"})
		return
	}
	if !acceptsEventStream(r) {
		writeError(w, &memoryd.Error{Code: memoryd.ENOTACCEPT, Message: "This endpoint only produces text/event-stream; send Accept: text/event-stream"})
		return
	}
	req, perr := parseRequest(r, p.Workspace, s.cfg)
	if perr != nil {
		writeError(w, perr)
		return
	}
	if s.isClosing() || !s.live.add() {
		writeError(w, &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The server is shutting down"})
		return
	}
	if !s.reg.acquire(p.Key.ID, p.Workspace, s.cfg.MaxStreamsPerKey) {
		s.live.done()
		writeError(w, &memoryd.Error{Code: memoryd.ERATELIMITED,
			Message: "Too many open streams for this API key (at most " + strconv.Itoa(s.cfg.MaxStreamsPerKey) + ")",
			Details: map[string]any{"retry_after": int(limitRetry / time.Second)}})
		return
	}
	s.serve(w, r, p, req)
}

// serve opens the stream and runs it: on a goroutine of its own when the
// connection could be hijacked (the handler returns at once), in the
// handler otherwise. The stream's context ends when the client leaves or
// when the key check ends the stream (its cause says why).
func (s *Stream) serve(w http.ResponseWriter, r *http.Request, p *auth.Principal, req *request) {
	c, err := s.start(w, r, p, req)
	if err != nil || c.out.nc == nil {
		ctx, stop := context.WithCancelCause(r.Context())
		defer stop(nil)
		s.finish(ctx, stop, c, p)
		return
	}
	// The request's context ends with the handler: the stream's ends when
	// the client closes the connection.
	ctx, stop := context.WithCancelCause(context.WithoutCancel(r.Context()))
	go watchClose(c.out.nc, stop)
	go func() {
		defer stop(nil)
		s.finish(ctx, stop, c, p)
	}()
}

// start checks the position, sends the response head, retry advice,
// welcome (and restart) and records the connection. A nil conn with an
// error: nothing was sent but the refusal's status, if anything.
func (s *Stream) start(w http.ResponseWriter, r *http.Request, p *auth.Principal, req *request) (*conn, error) {
	ctx := r.Context()
	cursor, restart, backlog, err := s.resolve(ctx, req.position)
	if err != nil {
		s.log.ErrorContext(ctx, "stream: reading the event log bounds", "err", err)
		writeError(w, &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The event log is unavailable"})
		return nil, err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Del("Content-Length")
	nc, head, err := hijack(w, r, h)
	if err != nil {
		return nil, err
	}
	c := &conn{s: s, id: newConnID(), req: req, cursor: cursor, backlog: backlog,
		pace: *newPacer(s.cfg.EventsPerMinute, s.cfg.PaceBurst, time.Now()),
		out:  output{nc: nc, head: head, timeout: s.cfg.WriteTimeout}}
	c.log = s.log.With("connection_id", c.id, "workspace", p.Workspace, "key_id", p.Key.ID)
	if nc == nil {
		c.out.w, c.out.rc = w, http.NewResponseController(w)
		w.WriteHeader(http.StatusOK)
		// The server's WriteTimeout is for ordinary responses; a stream
		// lives on, with output's rolling deadline instead.
		_ = c.out.rc.SetWriteDeadline(time.Time{})
	}
	if err := c.open(restart); err != nil {
		return c, err
	}
	c.log.DebugContext(ctx, "stream opened", "position", c.cursor)
	s.activity(ctx, p, c.id, ev.StreamConnected)
	return c, nil
}

// finish runs an opened stream (c.opened) until it ends, then closes it
// and frees its slot. stop ends ctx: the key check calls it when the
// stream's key is revoked.
func (s *Stream) finish(ctx context.Context, stop context.CancelCauseFunc, c *conn, p *auth.Principal) {
	defer s.live.done()
	if c == nil {
		s.reg.release(p.Key.ID, p.Workspace)
		return
	}
	if !c.opened {
		c.out.finish()
		s.reg.release(p.Key.ID, p.Workspace)
		return
	}
	watched := s.keys.add(p, stop)
	err := c.loop(ctx)
	s.keys.remove(watched)
	s.end(ctx, c, err)
	c.out.finish()
	s.reg.release(p.Key.ID, p.Workspace)
	s.activity(context.WithoutCancel(ctx), p, c.id, ev.StreamDisconnected)
}

// end reports why a stream stopped, as an `error` event when the client
// is still there to read it.
func (s *Stream) end(ctx context.Context, c *conn, err error) {
	// The last writes (the `error` event, the end of the body) get a short
	// deadline: a client that reads nothing does not hold up a shutdown,
	// nor a failed stream's goroutine.
	c.out.timeout, c.out.renewed = min(s.cfg.WriteTimeout, closeWrite), time.Time{}
	var lost *keyLost
	switch {
	case errors.Is(err, errClosing):
		_ = c.sendError(memoryd.EUNAVAILABLE, "The server is shutting down; reconnect to another one or retry", s.cfg.Retry)
	case errors.As(context.Cause(ctx), &lost):
		// Reconnecting cannot help: retry_after 0.
		c.log.InfoContext(ctx, "stream closed: its key is no longer allowed", "code", lost.code)
		_ = c.sendError(lost.code, lost.message, 0)
	case ctx.Err() != nil:
		// The client left.
	default:
		c.log.ErrorContext(ctx, "stream failed", "err", err)
		_ = c.sendError(memoryd.EUNAVAILABLE, "The stream failed; reconnect with Last-Event-ID to resume", s.cfg.Retry)
	}
	c.log.DebugContext(ctx, "stream closed", "position", c.cursor)
}

// closeWrite is the write deadline of a stream's last writes.
const closeWrite = 2 * time.Second

// resolve turns the requested position into the cursor to continue from.
// An unusable position starts at the end and comes back as restart.
// backlog is the log's head as the stream opens: the events up to it are
// the catch-up, delivered without pacing.
func (s *Stream) resolve(ctx context.Context, position string) (cursor int64, restart *positionError, backlog int64, err error) {
	first, last, err := s.store.EventBounds(ctx)
	if err != nil {
		return 0, nil, 0, err
	}
	// The end is the database's head, not the hub's: the hub may not have
	// read yet a write acknowledged just before this request, or one made
	// on another node, and "from the end" must not replay those. The hub
	// serves positions up to it once it has caught up.
	top := max(s.hub.head(), last)
	if position == "" {
		return top, nil, top, nil
	}
	seq, perr := decodePosition(position, s.hub.epoch)
	if perr == nil {
		perr = checkRange(seq, first, top)
	}
	if perr != nil {
		return top, perr, top, nil
	}
	return seq, nil, top, nil
}

// open sends the advised retry delay, welcome, and restart when needed.
func (c *conn) open(restart *positionError) error {
	if err := c.out.queue(retryFrame(c.s.cfg.Retry.Milliseconds())); err != nil {
		return err
	}
	pos := c.s.hub.position(c.cursor)
	filters := c.req.sub.filters
	if filters == nil {
		filters = map[string]string{}
	}
	w := ev.Welcome{ConnectionId: c.id, Position: pos, Head: c.s.hub.position(max(c.backlog, c.s.hub.head())),
		Heartbeat: int(c.req.heartbeat / time.Second), Events: c.req.sub.typeList(), Filters: filters,
		Workspace: c.req.sub.workspace, Retry: int(c.s.cfg.Retry.Milliseconds())}
	if err := c.send(typeWelcome, pos, w); err != nil {
		return err
	}
	if restart != nil {
		if err := c.restart(restart, c.cursor); err != nil {
			return err
		}
	}
	c.opened = true
	return nil
}

// typeList returns the subscribed data types, sorted.
func (s *subscription) typeList() []string {
	if s.types == nil {
		return append([]string(nil), dataTypes...)
	}
	out := make([]string, 0, len(s.types))
	for t := range s.types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (s *Stream) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// writeError writes the API's error envelope (as httpapi does: a 429
// carries retry_after at the top level and a Retry-After header).
func writeError(w http.ResponseWriter, e *memoryd.Error) {
	body := map[string]any{"error": e.Code, "message": e.Message}
	if e.Code == memoryd.ERATELIMITED {
		secs, _ := e.Details["retry_after"].(int)
		body["retry_after"] = secs
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	} else if len(e.Details) > 0 {
		body["details"] = e.Details
	}
	if e.Code == memoryd.EUNAVAILABLE {
		w.Header().Set("Retry-After", "3")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusOf[e.Code])
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

var statusOf = map[string]int{
	memoryd.EINVALID:      http.StatusBadRequest,
	memoryd.EUNAUTHORIZED: http.StatusUnauthorized,
	memoryd.ENOTACCEPT:    http.StatusNotAcceptable,
	memoryd.ERATELIMITED:  http.StatusTooManyRequests,
	memoryd.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

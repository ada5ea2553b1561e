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
	if s.isClosing() {
		writeError(w, &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The server is shutting down"})
		return
	}
	if !s.reg.acquire(p.Key.ID, p.Workspace, s.cfg.MaxStreamsPerKey) {
		writeError(w, &memoryd.Error{Code: memoryd.ERATELIMITED,
			Message: "Too many open streams for this API key (at most " + strconv.Itoa(s.cfg.MaxStreamsPerKey) + ")",
			Details: map[string]any{"retry_after": int(limitRetry / time.Second)}})
		return
	}
	defer s.reg.release(p.Key.ID, p.Workspace)
	s.serve(w, r, p, req)
}

func (s *Stream) serve(w http.ResponseWriter, r *http.Request, p *auth.Principal, req *request) {
	ctx := r.Context()
	cursor, restart, err := s.resolve(ctx, req.position)
	if err != nil {
		s.log.ErrorContext(ctx, "stream: reading the event log bounds", "err", err)
		writeError(w, &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The event log is unavailable"})
		return
	}
	c := &conn{s: s, w: w, rc: http.NewResponseController(w), id: newConnID(), req: req, cursor: cursor,
		pace: newPacer(s.cfg.EventsPerMinute, s.cfg.PaceBurst, time.Now())}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	// The server's WriteTimeout is for ordinary responses; a stream lives
	// on, with conn.write's rolling deadline instead.
	_ = c.rc.SetWriteDeadline(time.Time{})
	log := s.log.With("connection_id", c.id, "workspace", p.Workspace, "key_id", p.Key.ID)
	if err := c.open(restart); err != nil {
		return
	}
	log.DebugContext(ctx, "stream opened", "position", c.cursor)
	s.activity(ctx, p, c.id, ev.StreamConnected)
	err = c.loop(ctx)
	s.activity(context.WithoutCancel(ctx), p, c.id, ev.StreamDisconnected)
	s.end(ctx, c, err, log)
}

// end reports why a stream stopped, as an `error` event when the client
// is still there to read it.
func (s *Stream) end(ctx context.Context, c *conn, err error, log interface {
	DebugContext(context.Context, string, ...any)
	ErrorContext(context.Context, string, ...any)
}) {
	switch {
	case errors.Is(err, errClosing):
		_ = c.sendError(memoryd.EUNAVAILABLE, "The server is shutting down; reconnect to another one or retry", s.cfg.Retry)
	case ctx.Err() != nil:
		// The client left.
	default:
		log.ErrorContext(ctx, "stream failed", "err", err)
		_ = c.sendError(memoryd.EUNAVAILABLE, "The stream failed; reconnect with Last-Event-ID to resume", s.cfg.Retry)
	}
	log.DebugContext(ctx, "stream closed", "position", c.cursor)
}

// resolve turns the requested position into the cursor to continue from.
// An unusable position starts at the end and comes back as restart.
func (s *Stream) resolve(ctx context.Context, position string) (int64, *positionError, error) {
	head := s.hub.head()
	if position == "" {
		return head, nil, nil
	}
	seq, perr := decodePosition(position, s.hub.epoch)
	if perr != nil {
		return head, perr, nil
	}
	first, last, err := s.store.EventBounds(ctx)
	if err != nil {
		return 0, nil, err
	}
	// The hub may lag the database (a write on another node): a position
	// up to the database's head is valid and served once the hub has it.
	if perr := checkRange(seq, first, max(head, last)); perr != nil {
		return head, perr, nil
	}
	return seq, nil, nil
}

// open sends the advised retry delay, welcome, and restart when needed.
func (c *conn) open(restart *positionError) error {
	if err := c.write(retryFrame(c.s.cfg.Retry.Milliseconds()), false); err != nil {
		return err
	}
	pos := c.s.hub.position(c.cursor)
	filters := c.req.sub.filters
	if filters == nil {
		filters = map[string]string{}
	}
	w := ev.Welcome{ConnectionId: c.id, Position: pos, Head: c.s.hub.position(c.s.hub.head()),
		Heartbeat: int(c.req.heartbeat / time.Second), Events: c.req.sub.typeList(), Filters: filters,
		Workspace: c.req.sub.workspace, Retry: int(c.s.cfg.Retry.Milliseconds())}
	if err := c.send(typeWelcome, pos, w); err != nil {
		return err
	}
	if restart != nil {
		return c.restart(restart, c.cursor)
	}
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
	_ = json.NewEncoder(w).Encode(body)
}

var statusOf = map[string]int{
	memoryd.EINVALID:      http.StatusBadRequest,
	memoryd.EUNAUTHORIZED: http.StatusUnauthorized,
	memoryd.ENOTACCEPT:    http.StatusNotAcceptable,
	memoryd.ERATELIMITED:  http.StatusTooManyRequests,
	memoryd.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

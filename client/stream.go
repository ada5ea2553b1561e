package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/memoryd/memoryd/conformance/sse"
	ev "github.com/memoryd/memoryd/gen/events"
)

// StreamOptions select what Stream follows.
type StreamOptions struct {
	// LastEventID resumes after this position (an event's ID); empty
	// starts at the end, with new events only.
	LastEventID string
	// Events are the event types to receive (all when empty).
	Events []string
	// Filters are exact matches on the events' metadata (filters[k]=v).
	Filters map[string]string
	// Heartbeat asks for a heartbeat every so many seconds (server
	// default when zero).
	Heartbeat int
	// MaxBackoff bounds the wait between reconnections that fail one after
	// another (default 30 s); the first waits the server's retry advice.
	MaxBackoff time.Duration
}

// Event is one message of the stream.
type Event struct {
	// ID is the event's position (empty for messages without one).
	ID string
	// Type is the SSE event name: welcome, restart, heartbeat, error,
	// memory.created, memory.updated, memory.deleted, search.performed,
	// user.activity, system.health, analytics.update.
	Type string
	// Data is the JSON payload as sent.
	Data json.RawMessage
	// Payload is Data decoded into its generated type (*events.Welcome,
	// *events.MemoryCreated, ...); nil for a type this client does not know.
	Payload any
}

// payloadTypes gives each known event its generated payload type.
var payloadTypes = map[string]func() any{
	"welcome":          func() any { return new(ev.Welcome) },
	"restart":          func() any { return new(ev.Restart) },
	"heartbeat":        func() any { return new(ev.Heartbeat) },
	"error":            func() any { return new(ev.StreamError) },
	"memory.created":   func() any { return new(ev.MemoryCreated) },
	"memory.updated":   func() any { return new(ev.MemoryUpdated) },
	"memory.deleted":   func() any { return new(ev.MemoryDeleted) },
	"search.performed": func() any { return new(ev.SearchPerformed) },
	"user.activity":    func() any { return new(ev.UserActivity) },
	"system.health":    func() any { return new(ev.SystemHealth) },
	"analytics.update": func() any { return new(ev.AnalyticsUpdate) },
}

// Stream follows the workspace's live stream and yields its events, typed,
// until ctx ends or the server refuses the stream for good (a 400, 401,
// 403 or 406, or an `error` event UNAUTHORIZED or FORBIDDEN), which it
// yields as an *Error. A connection that breaks is opened again after the
// server's `retry:` advice (longer after failures one after another, and
// as long as a 429 or 503 asks), resuming from the last position seen, so
// no event is missed or repeated. A `restart` event means the position was
// unusable (e.g. past retention): the stream continues from the end and
// the caller should rebuild its state. Breaking out of the loop closes
// the stream.
func (c *Client) Stream(ctx context.Context, o StreamOptions) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s := &streamer{c: c, o: o, last: o.LastEventID, retry: 3 * time.Second}
		if s.o.MaxBackoff <= 0 {
			s.o.MaxBackoff = 30 * time.Second
		}
		for failures := 0; ctx.Err() == nil; {
			progressed, wait, err := s.connect(ctx, yield)
			if errors.Is(err, errStop) {
				return
			}
			var apiErr *Error
			if errors.As(err, &apiErr) && final(apiErr.Code) {
				yield(Event{}, apiErr)
				return
			}
			if progressed {
				failures = 0
			} else {
				failures++
			}
			if wait == 0 {
				wait = s.backoff(failures)
			}
			if sleep(ctx, wait) != nil {
				return
			}
		}
	}
}

// errStop: the caller broke out of its loop.
var errStop = errors.New("stop")

// final reports the codes after which reconnecting cannot help.
func final(code string) bool {
	switch code {
	case "INVALID_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_ACCEPTABLE", "NOT_FOUND":
		return true
	}
	return false
}

type streamer struct {
	c     *Client
	o     StreamOptions
	last  string        // the last position seen
	retry time.Duration // the server's reconnection advice
}

// backoff is the wait before a reconnection: the server's advice, doubled
// for each failure in a row after the first, up to MaxBackoff.
func (s *streamer) backoff(failures int) time.Duration {
	d := s.retry
	for i := 1; i < failures && d < s.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.o.MaxBackoff)
}

// connect runs one connection until it ends. It reports whether any event
// arrived, and how long the server asked to wait before the next one.
func (s *streamer) connect(ctx context.Context, yield func(Event, error) bool) (progressed bool, wait time.Duration, err error) {
	resp, err := s.open(ctx)
	if err != nil {
		return false, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		e := apiError(resp, body)
		return false, e.RetryAfter, e
	}
	r := sse.NewReader(resp.Body)
	for {
		it, err := r.Next()
		if err != nil {
			return progressed, 0, err
		}
		switch it.Kind {
		case sse.KindRetry:
			s.retry = time.Duration(it.Retry) * time.Millisecond
		case sse.KindEvent:
			progressed = true
			e := decode(it.Event)
			if it.Event.IDSet {
				s.last = it.Event.ID
			}
			if !yield(e, nil) {
				return progressed, 0, errStop
			}
			if se, ok := e.Payload.(*ev.StreamError); ok {
				// The server closes the stream after an error event.
				return progressed, time.Duration(se.RetryAfter) * time.Millisecond,
					&Error{Code: se.Code, Message: se.Message, Status: http.StatusOK}
			}
		}
	}
}

func decode(e sse.Event) Event {
	out := Event{Type: e.Type, Data: json.RawMessage(e.Data)}
	if e.IDSet {
		out.ID = e.ID
	}
	if mk, ok := payloadTypes[e.Type]; ok {
		p := mk()
		if json.Unmarshal([]byte(e.Data), p) == nil {
			out.Payload = p
		}
	}
	return out
}

// open sends the stream request, resuming from the last position.
func (s *streamer) open(ctx context.Context) (*http.Response, error) {
	q := url.Values{}
	if len(s.o.Events) > 0 {
		q.Set("events", strings.Join(s.o.Events, ","))
	}
	for k, v := range s.o.Filters {
		q.Set("filters["+k+"]", v)
	}
	if s.o.Heartbeat > 0 {
		q.Set("heartbeat", strconv.Itoa(s.o.Heartbeat))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.c.base+BasePath+"/stream?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("memoryd: stream request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if s.last != "" {
		req.Header.Set("Last-Event-ID", s.last)
	}
	_ = s.c.authorize(ctx, req)
	hc := *s.c.hc
	hc.Timeout = 0 // a stream lasts as long as its context
	return hc.Do(req)
}

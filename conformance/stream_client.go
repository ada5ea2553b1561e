package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/memoryd/memoryd/conformance/sse"
)

// SSEConn is an open GET /stream connection read in the background.
type SSEConn struct {
	Resp         *http.Response
	Welcome      Welcome
	WelcomeEvent sse.Event
	items        chan sse.Item
	done         chan struct{}
	cancel       context.CancelFunc
	t            *T

	mu  sync.Mutex
	err error // why reading stopped (io.EOF at a clean end)
}

// Welcome is the first message's payload.
type Welcome struct {
	ConnectionID string            `json:"connection_id"`
	Position     string            `json:"position"`
	Head         string            `json:"head"`
	Heartbeat    int               `json:"heartbeat"`
	Events       []string          `json:"events"`
	Filters      map[string]string `json:"filters"`
	Workspace    string            `json:"workspace"`
	Retry        int               `json:"retry"`
}

// StreamOpts shape a stream request.
type StreamOpts struct {
	Query       url.Values
	LastEventID string // sent as the Last-Event-ID header
	Req         Request
}

// Connect opens a stream and returns the raw response (not validated,
// body unread) for checks of pre-stream errors.
func (t *T) connect(ctx context.Context, c *Client, o StreamOpts) (*http.Response, context.CancelFunc) {
	r := o.Req
	r.Method, r.Path, r.Query = "GET", "/stream", o.Query
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if _, ok := r.Header["Accept"]; !ok {
		r.Header.Set("Accept", "text/event-stream")
	}
	if o.LastEventID != "" {
		r.Header.Set("Last-Event-ID", o.LastEventID)
	}
	sctx, cancel := context.WithCancel(ctx)
	req, err := c.NewHTTPRequest(sctx, r)
	if err != nil {
		cancel()
		t.Fatalf("%v", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /stream: %v", err)
	}
	return resp, cancel
}

// OpenStream connects, expects 200 text/event-stream conforming to
// openapi.yaml, and reads the welcome message. The stream is closed when
// the check ends.
func (t *T) OpenStream(ctx context.Context, c *Client, o StreamOpts) *SSEConn {
	resp, cancel := t.connect(ctx, c, o)
	return t.startStream(ctx, c, resp, cancel)
}

// slotWait bounds how long a stream-limit check waits for the slots of
// streams the suite itself has closed: a server learns that a client left
// only when it next reads or writes the connection, so a closed stream may
// count against the key a moment longer.
const slotWait = 10 * time.Second

// openForSlot is OpenStream for the streams a limit check opens up to the
// limit: a 429 is retried until slotWait has passed.
func (t *T) openForSlot(ctx context.Context, c *Client, o StreamOpts) *SSEConn {
	resp, cancel := t.connectForSlot(ctx, c, o)
	return t.startStream(ctx, c, resp, cancel)
}

// connectForSlot is connect, retrying a 429 until slotWait has passed;
// what it returns after that wait is the last answer, whatever it is.
func (t *T) connectForSlot(ctx context.Context, c *Client, o StreamOpts) (*http.Response, context.CancelFunc) {
	start := time.Now()
	for {
		resp, cancel := t.connect(ctx, c, o)
		waited := time.Since(start)
		switch {
		case resp.StatusCode != http.StatusTooManyRequests:
			if resp.StatusCode == http.StatusOK && waited >= 100*time.Millisecond {
				t.Logf("a slot came free after %s (closed streams of earlier checks still counted)", waited.Round(time.Millisecond))
			}
			return resp, cancel
		case waited >= slotWait:
			t.Logf("still 429 after the %s slot wait for the suite's closed streams to be released", slotWait)
			return resp, cancel
		}
		resp.Body.Close()
		cancel()
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for a stream slot: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startStream expects resp to be 200 text/event-stream conforming to
// openapi.yaml and reads its welcome message.
func (t *T) startStream(ctx context.Context, c *Client, resp *http.Response, cancel context.CancelFunc) *SSEConn {
	out := &Response{Method: "GET", URL: resp.Request.URL.String(), Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusOK || !isEventStream(resp.Header) {
		out.Body = readSome(resp, cancel)
		resp.Body.Close()
		cancel()
		t.Fatalf("want 200 text/event-stream, got %s (Content-Type %q)", out, resp.Header.Get("Content-Type"))
	}
	if _, err := c.Validate(ctx, resp.Request, out, true); err != nil {
		resp.Body.Close()
		cancel()
		t.Fatalf("%v", err)
	}
	s := &SSEConn{Resp: resp, items: make(chan sse.Item, 1024), done: make(chan struct{}), cancel: cancel, t: t}
	go s.read()
	t.Cleanup(func(context.Context) { s.Close() })
	ev, ok := s.NextEvent(t.eventWait())
	if !ok {
		t.Fatalf("no first message within %s (%v)", t.eventWait(), s.Err())
	}
	if ev.Type != "welcome" {
		t.Fatalf("first message is %q, want welcome: %s", ev.Type, ev.Data)
	}
	if err := json.Unmarshal([]byte(ev.Data), &s.Welcome); err != nil {
		t.Fatalf("welcome data: %v", err)
	}
	s.WelcomeEvent = ev
	return s
}

// readSome reads the body of a response that should not be a stream but
// may be one (a mislabelled stream never ends): what arrives within a
// second, at most 64 KiB. cancel is the request's.
func readSome(resp *http.Response, cancel context.CancelFunc) []byte {
	timer := time.AfterFunc(time.Second, cancel)
	defer timer.Stop()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return b
}

func (s *SSEConn) read() {
	defer close(s.done)
	defer close(s.items)
	r := sse.NewReader(s.Resp.Body)
	for {
		it, err := r.Next()
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
		if it.Kind == sse.KindEvent {
			s.t.validateEvent(it.Event)
		}
		select {
		case s.items <- it:
		default:
			s.t.Errorf("the suite fell 1024 messages behind the stream")
			return
		}
	}
}

// eventWait is how long to wait for an expected stream message.
func (t *T) eventWait() time.Duration { return t.suite.cfg.EventWait }

// Err is why reading stopped, nil while it goes on.
func (s *SSEConn) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the connection.
func (s *SSEConn) Close() {
	s.cancel()
	s.Resp.Body.Close()
	<-s.done
}

// Next returns the next item within d; false on timeout or end of stream.
func (s *SSEConn) Next(d time.Duration) (sse.Item, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case it, ok := <-s.items:
		return it, ok
	case <-timer.C:
		return sse.Item{}, false
	}
}

// NextEvent returns the next event within d, skipping comments and retry.
func (s *SSEConn) NextEvent(d time.Duration) (sse.Event, bool) {
	deadline := time.Now().Add(d)
	for {
		it, ok := s.Next(time.Until(deadline))
		if !ok {
			return sse.Event{}, false
		}
		if it.Kind == sse.KindEvent {
			return it.Event, true
		}
	}
}

// Await returns the first event matching match within d, and every event
// received before it. It stops the check on timeout.
func (s *SSEConn) Await(d time.Duration, what string, match func(sse.Event) bool) (sse.Event, []sse.Event) {
	deadline := time.Now().Add(d)
	var before []sse.Event
	for {
		ev, ok := s.NextEvent(time.Until(deadline))
		if !ok {
			s.t.Fatalf("no %s within %s (stream: %v; %d other events)", what, d, s.Err(), len(before))
		}
		if match(ev) {
			return ev, before
		}
		before = append(before, ev)
	}
}

// Collect gathers the events arriving within d.
func (s *SSEConn) Collect(d time.Duration) []sse.Event {
	deadline := time.Now().Add(d)
	var out []sse.Event
	for {
		ev, ok := s.NextEvent(time.Until(deadline))
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

// payload decodes an event's data into a map.
func payload(ev sse.Event) map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(ev.Data), &m)
	return m
}

// isMemoryEvent matches a memory event of the given type about id.
func isMemoryEvent(typ, id string) func(sse.Event) bool {
	return func(ev sse.Event) bool { return ev.Type == typ && payload(ev)["id"] == id }
}

// validateEvent checks a message's payload against the schema AsyncAPI
// names for it; unknown event types are an error too.
func (t *T) validateEvent(ev sse.Event) {
	schema, err := t.suite.spec.eventSchema(ev.Type)
	if err != nil {
		t.Errorf("stream message %q: %v", ev.Type, err)
		return
	}
	var v any
	if err := json.Unmarshal([]byte(ev.Data), &v); err != nil {
		t.Errorf("stream message %q: data is not JSON: %v", ev.Type, err)
		return
	}
	if err := schema.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		t.Errorf("stream message %q violates its schema: %v (data %s)", ev.Type, err, snippet([]byte(ev.Data)))
	}
	if ev.Type == "error" {
		t.suite.noteStreamError(ev)
	}
}

// eventSchema returns the payload schema of an SSE event name.
func (s *Spec) eventSchema(name string) (*openapi3.Schema, error) {
	s.once.Do(func() { s.payloads, s.payloadErr = AsyncPayloadSchemas() })
	if s.payloadErr != nil {
		return nil, s.payloadErr
	}
	ref, ok := s.payloads[name]
	if !ok {
		return nil, fmt.Errorf("not a message of asyncapi.yaml")
	}
	sr := s.Events.Components.Schemas[ref]
	if sr == nil || sr.Value == nil {
		return nil, errors.New("schema " + ref + " missing from schemas/events.yaml")
	}
	return sr.Value, nil
}

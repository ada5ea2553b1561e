package testenv

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/conformance/sse"
	ev "github.com/memoryd/memoryd/gen/events"
)

// Message is one thing read from a stream: an event as EventSource would
// dispatch it, a comment, or a retry field.
type Message struct {
	Event, Data string
	// ID is the event's own id; HasID reports whether it carried one.
	ID    string
	HasID bool
	// Comment is a comment line's text (IsComment).
	Comment string
	// Retry is the advised reconnection delay in milliseconds (IsRetry).
	Retry int
	kind  sse.Kind
}

// IsComment reports whether m is a comment line (a keepalive).
func (m Message) IsComment() bool { return m.kind == sse.KindComment }

// IsRetry reports whether m is a retry field.
func (m Message) IsRetry() bool { return m.kind == sse.KindRetry }

// IsLogEvent reports whether m is an event of the durable log (its id is
// its own position), as opposed to control messages and snapshots, whose
// id repeats the connection's position.
func (m Message) IsLogEvent() bool {
	switch m.Event {
	case "welcome", "restart", "heartbeat", "error", "system.health", "analytics.update":
		return false
	}
	return m.Event != "" && m.HasID
}

// Decode unmarshals the event's data into v.
func (m Message) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(m.Data), v); err != nil {
		t.Fatalf("%s data %q: %v", m.Event, m.Data, err)
	}
}

// SSE reads a stream's response with the conformance suite's WHATWG
// parser, on a goroutine of its own.
type SSE struct {
	Resp *http.Response
	// Welcome is the stream's welcome, when OpenStream opened it.
	Welcome ev.Welcome
	msgs    chan Message
	done    chan error
}

// NewSSE starts reading resp's body.
func NewSSE(resp *http.Response) *SSE {
	s := &SSE{Resp: resp, msgs: make(chan Message, 4096), done: make(chan error, 1)}
	go s.read()
	return s
}

func (s *SSE) read() {
	r := sse.NewReader(s.Resp.Body)
	for {
		it, err := r.Next()
		if err != nil {
			close(s.msgs)
			if err == io.EOF {
				err = nil
			}
			s.done <- err
			return
		}
		m := Message{kind: it.Kind}
		switch it.Kind {
		case sse.KindComment:
			m.Comment = strings.TrimSpace(it.Comment)
		case sse.KindRetry:
			m.Retry = it.Retry
		case sse.KindEvent:
			m.Event, m.Data, m.HasID = it.Event.Type, it.Event.Data, it.Event.IDSet
			if it.Event.IDSet {
				m.ID = it.Event.ID
			}
		}
		s.msgs <- m
	}
}

// Close closes the response body (the client leaves).
func (s *SSE) Close() { s.Resp.Body.Close() }

// Messages is every message read, in order; it is closed when the stream
// ends, and Err then tells why.
func (s *SSE) Messages() <-chan Message { return s.msgs }

// Err waits for the end of the stream and returns the read error that
// ended it (nil at a clean end).
func (s *SSE) Err() error {
	err := <-s.done
	s.done <- err
	return err
}

// Raw returns the next message, comments and retry fields included.
func (s *SSE) Raw(t testing.TB) Message {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			t.Fatalf("the stream ended: %v", s.Err())
		}
		return m
	case <-time.After(WaitLimit):
		t.Fatalf("no message within %s (testenv.WaitLimit)", WaitLimit)
	}
	return Message{}
}

// Next returns the next event.
func (s *SSE) Next(t testing.TB) Message {
	t.Helper()
	for {
		if m := s.Raw(t); m.kind == sse.KindEvent {
			return m
		}
	}
}

// NextData returns the next event that is neither a heartbeat nor a
// snapshot.
func (s *SSE) NextData(t testing.TB) Message {
	t.Helper()
	for {
		m := s.Next(t)
		switch m.Event {
		case "heartbeat", "system.health", "analytics.update":
			continue
		}
		return m
	}
}

// ExpectEnd waits for the server to end the stream and returns what came
// before the end.
func (s *SSE) ExpectEnd(t testing.TB) []Message {
	t.Helper()
	var rest []Message
	limit := time.After(WaitLimit)
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				return rest
			}
			rest = append(rest, m)
		case <-limit:
			t.Fatalf("the stream did not end within %s (testenv.WaitLimit)", WaitLimit)
		}
	}
}

// LogUntil returns the log events up to and including position seq,
// failing on a restart or error event.
func (s *SSE) LogUntil(t testing.TB, seq int64) []Message {
	t.Helper()
	return s.LogThrough(t, func(m Message) bool { return SeqOf(t, m.ID) >= seq })
}

// LogThrough returns the log events up to and including the first one
// last accepts, failing on a restart or error event.
func (s *SSE) LogThrough(t testing.TB, last func(Message) bool) []Message {
	t.Helper()
	var out []Message
	for {
		m := s.Next(t)
		if m.Event == "restart" || m.Event == "error" {
			t.Fatalf("unexpected %s: %s", m.Event, m.Data)
		}
		if !m.IsLogEvent() {
			continue
		}
		out = append(out, m)
		if last(m) {
			return out
		}
	}
}

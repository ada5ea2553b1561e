package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	ssep "github.com/memoryd/memoryd/conformance/sse"
	ev "github.com/memoryd/memoryd/gen/events"
)

// waitLimit only guards against a hung test; nothing asserts on timing.
const waitLimit = 30 * time.Second

// message is one SSE message as EventSource would dispatch it.
type message struct {
	id, event, data string
	hasID           bool
}

// isLogEvent reports whether m is an event of the durable log (its id is
// its own position), as opposed to control messages and snapshots whose
// id repeats the connection's position.
func (m message) isLogEvent() bool {
	switch m.event {
	case "welcome", "restart", "heartbeat", "error", "system.health", "analytics.update":
		return false
	}
	return m.hasID
}

// sse is one open stream, parsed by a goroutine.
type sse struct {
	resp    *http.Response
	msgs    chan message
	welcome ev.Welcome
}

// openStream opens GET /api/v1/stream with key, resuming after lastID
// when it is not empty, and reads up to the welcome.
func openStream(t testing.TB, base, key, lastID string) *sse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET /stream: %d %s", resp.StatusCode, b)
	}
	s := &sse{resp: resp, msgs: make(chan message, 1<<16)}
	t.Cleanup(func() { resp.Body.Close() })
	go s.read()
	m := s.next(t)
	if m.event != "welcome" {
		t.Fatalf("first event %q, want welcome", m.event)
	}
	if err := json.Unmarshal([]byte(m.data), &s.welcome); err != nil || m.id != s.welcome.Position {
		t.Fatalf("welcome %q (id %q): %v", m.data, m.id, err)
	}
	return s
}

// read parses the stream with the conformance suite's WHATWG parser.
func (s *sse) read() {
	defer close(s.msgs)
	r := ssep.NewReader(s.resp.Body)
	for {
		e, err := r.NextEvent()
		if err != nil {
			return
		}
		m := message{event: e.Type, data: e.Data, hasID: e.IDSet}
		if e.IDSet {
			m.id = e.ID
		}
		s.msgs <- m
	}
}

// next returns the next message.
func (s *sse) next(t testing.TB) message {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			t.Fatal("the stream ended")
		}
		return m
	case <-time.After(waitLimit):
		t.Fatal("no message within the wait limit")
	}
	return message{}
}

// logUntil returns the log events up to and including position seq,
// failing on a restart or error event.
func (s *sse) logUntil(t testing.TB, seq int64) []message {
	t.Helper()
	return s.logThrough(t, func(m message) bool { return seqOf(t, m.id) >= seq })
}

// logThrough returns the log events up to and including the first one
// last accepts, failing on a restart or error event.
func (s *sse) logThrough(t testing.TB, last func(message) bool) []message {
	t.Helper()
	var out []message
	for {
		m := s.next(t)
		if m.event == "restart" || m.event == "error" {
			t.Fatalf("unexpected %s: %s", m.event, m.data)
		}
		if !m.isLogEvent() {
			continue
		}
		out = append(out, m)
		if last(m) {
			return out
		}
	}
}

// Positions are opaque to clients: base64url("<epoch>.<seq>"). The tests
// decode them only to check that sequences are gap-free.

func splitPosition(t testing.TB, pos string) (string, int64) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(pos)
	if err != nil {
		t.Fatalf("position %q: %v", pos, err)
	}
	dot := strings.LastIndexByte(string(raw), '.')
	if dot < 0 {
		t.Fatalf("position %q decodes to %q", pos, raw)
	}
	seq, err := strconv.ParseInt(string(raw[dot+1:]), 10, 64)
	if err != nil {
		t.Fatalf("position %q decodes to %q", pos, raw)
	}
	return string(raw[:dot]), seq
}

func seqOf(t testing.TB, pos string) int64 {
	t.Helper()
	_, seq := splitPosition(t, pos)
	return seq
}

func makePosition(epoch string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(epoch + "." + strconv.FormatInt(seq, 10)))
}

// checkConsecutive fails unless the log events' positions are after,
// after+1, ... with no gap and no duplicate.
func checkConsecutive(t testing.TB, after int64, msgs []message) {
	t.Helper()
	for i, m := range msgs {
		if got := seqOf(t, m.id); got != after+int64(i)+1 {
			t.Fatalf("event %d (%s) is at position %d, want %d: a gap or a duplicate", i, m.event, got, after+int64(i)+1)
		}
	}
}

// memoryID returns the memory id of a memory.* event's payload.
func memoryID(t testing.TB, m message) string {
	t.Helper()
	var p struct{ ID string }
	if err := json.Unmarshal([]byte(m.data), &p); err != nil || p.ID == "" {
		t.Fatalf("%s payload %q has no id: %v", m.event, m.data, err)
	}
	return p.ID
}

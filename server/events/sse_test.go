package events_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	ssep "github.com/memoryd/memoryd/conformance/sse"
)

// message is one parsed SSE message (or comment, when comment is set).
type message struct {
	id, event, data string
	hasID           bool
	retry           string
	comment         string
}

func (m message) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(m.data), v); err != nil {
		t.Fatalf("%s data %q: %v", m.event, m.data, err)
	}
}

// sseClient reads an SSE response as EventSource parses it.
type sseClient struct {
	resp *http.Response
	msgs chan message
	done chan error
}

func newSSEClient(resp *http.Response) *sseClient {
	c := &sseClient{resp: resp, msgs: make(chan message, 4096), done: make(chan error, 1)}
	go c.read()
	return c
}

// read parses the stream with the conformance suite's WHATWG parser and
// passes on events, comments and retry fields as messages.
func (c *sseClient) read() {
	r := ssep.NewReader(c.resp.Body)
	for {
		it, err := r.Next()
		if err != nil {
			close(c.msgs)
			if err == io.EOF {
				err = nil
			}
			c.done <- err
			return
		}
		switch it.Kind {
		case ssep.KindComment:
			c.msgs <- message{comment: strings.TrimSpace(it.Comment)}
		case ssep.KindRetry:
			c.msgs <- message{retry: strconv.Itoa(it.Retry)}
		case ssep.KindEvent:
			m := message{event: it.Event.Type, data: it.Event.Data, hasID: it.Event.IDSet}
			if it.Event.IDSet {
				m.id = it.Event.ID
			}
			c.msgs <- m
		}
	}
}

// waitLimit only guards against a hung test; no test asserts on timing.
const waitLimit = 20 * time.Second

// next returns the next message that is not a comment, or a retry-only one.
func (c *sseClient) next(t testing.TB) message {
	t.Helper()
	for {
		m := c.raw(t)
		if m.comment == "" && m.event != "" {
			return m
		}
	}
}

// raw returns the next message or comment.
func (c *sseClient) raw(t testing.TB) message {
	t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			t.Fatalf("stream ended: %v", <-c.done)
		}
		return m
	case <-time.After(waitLimit):
		t.Fatal("no message within the wait limit")
	}
	return message{}
}

// nextData returns the next message that is neither a heartbeat nor a
// snapshot (the data events of the log).
func (c *sseClient) nextData(t testing.TB) message {
	t.Helper()
	for {
		m := c.next(t)
		switch m.event {
		case "heartbeat", "system.health", "analytics.update":
			continue
		}
		return m
	}
}

// expectEnd waits for the server to close the stream.
func (c *sseClient) expectEnd(t testing.TB) []message {
	t.Helper()
	var rest []message
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return rest
			}
			rest = append(rest, m)
		case <-time.After(waitLimit):
			t.Fatal("the stream did not end")
		}
	}
}

func (c *sseClient) close() { c.resp.Body.Close() }

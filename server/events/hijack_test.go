package events_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
)

// An HTTP/1.1 stream leaves net/http once open (its connection is
// hijacked, so the server's per-connection state is freed) and still
// behaves as a stream: live events, a freed slot and a disconnect when
// the client closes, the `error` event on shutdown.
func TestHTTP1StreamIsHijacked(t *testing.T) {
	var mu sync.Mutex
	hijacked := 0
	cfg := testenv.Quiet()
	cfg.MaxStreamsPerKey = 1
	e := newEnv(t, cfg, testenv.WithServer(func(h http.Handler) *httptest.Server {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateHijacked {
				mu.Lock()
				hijacked++
				mu.Unlock()
			}
		}
		srv.Start()
		return srv
	}))
	c, _ := e.OpenStream(e.KeyA, "", nil)
	mu.Lock()
	n := hijacked
	mu.Unlock()
	if n != 1 {
		t.Fatalf("%d connections hijacked, want the stream's", n)
	}
	if c.Resp.ProtoMajor != 1 || c.Resp.TransferEncoding[0] != "chunked" || !c.Resp.Close {
		t.Fatalf("response %s %v close=%v", c.Resp.Proto, c.Resp.TransferEncoding, c.Resp.Close)
	}
	checkStream(t, e, c)
}

// Over HTTP/2 the connection cannot be hijacked: the stream goes through
// net/http's writer, with the same behaviour.
func TestHTTP2StreamIsServed(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.MaxStreamsPerKey = 1
	e := newEnv(t, cfg, testenv.WithServer(func(h http.Handler) *httptest.Server {
		srv := httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		return srv
	}))
	c, _ := e.OpenStream(e.KeyA, "", nil)
	if c.Resp.ProtoMajor != 2 {
		t.Fatalf("stream over %s, want HTTP/2", c.Resp.Proto)
	}
	checkStream(t, e, c)
}

// checkStream checks an open stream (c, with the key's only slot) delivers,
// frees its slot once closed, and that another one ends with the `error`
// event on shutdown.
func checkStream(t *testing.T, e *env, c *testenv.SSE) {
	t.Helper()
	created := e.create("a", "mem_1", nil)
	expectEvent(t, c.NextData(t), created, e.epoch())
	testenv.ExpectStatus(t, e.GetStream(e.KeyA, "", nil), http.StatusTooManyRequests, "RATE_LIMITED")
	c.Close()
	waitFor(t, "the closed stream's slot", func() bool { return e.Stream.ActiveStreams() == 0 })
	c2, _ := e.OpenStream(e.KeyA, "", nil)
	e.Stream.Close()
	endsWithUnavailable(t, c2.ExpectEnd(t))
	waitFor(t, "the shut stream's slot", func() bool { return e.Stream.ActiveStreams() == 0 })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(testenv.WaitLimit); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, testenv.WaitLimit)
		}
	}
}

// A client that accepts nothing is dropped after the write timeout, and
// its slot freed.
func TestStalledClientIsDropped(t *testing.T) {
	cfg := testenv.Quiet()
	cfg.WriteTimeout = 300 * time.Millisecond
	e := newEnv(t, cfg)
	// A tiny receive buffer, so the server's writes stall sooner.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	nc, err := d.Dial("tcp", e.Srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := "GET /api/v1/stream HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + e.KeyA + "\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to open", func() bool { return e.Stream.ActiveStreams() == 1 })
	big := strings.Repeat("x", 64<<10)
	for i := 0; e.Stream.ActiveStreams() == 1; i++ {
		if i == 1000 {
			t.Fatal("the stalled stream was never dropped")
		}
		e.createText("a", "mem_"+itoa(int64(i)), big)
		time.Sleep(time.Millisecond)
	}
}

// createText is create with the memory's text.
func (e *env) createText(ws, id, text string) {
	e.T.Helper()
	evt, err := payloadEvent("memory.created", ws, map[string]any{"id": id, "content": text})
	if err != nil {
		e.T.Fatal(err)
	}
	if err := e.Store.AppendEvent(context.Background(), evt); err != nil {
		e.T.Fatal(err)
	}
}

// An HTTP/1.0 request (nginx's default to upstreams) cannot have a
// chunked response: the stream goes through net/http, which ends the body
// by closing the connection.
func TestHTTP10StreamIsServed(t *testing.T) {
	e := newEnv(t, testenv.Quiet())
	nc, err := net.Dial("tcp", e.Srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := "GET /api/v1/stream HTTP/1.0\r\nHost: test\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + e.KeyA + "\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(testenv.WaitLimit))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) != 0 || !resp.Close {
		t.Fatalf("HTTP/1.0 stream: %d %v close=%v", resp.StatusCode, resp.TransferEncoding, resp.Close)
	}
	c := testenv.NewSSE(resp)
	if m := c.Next(t); m.Event != "welcome" {
		t.Fatalf("first event %q", m.Event)
	}
	created := e.create("a", "mem_1", nil)
	expectEvent(t, c.NextData(t), created, e.epoch())
}

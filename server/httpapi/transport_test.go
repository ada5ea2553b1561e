package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/httpapi"
)

// limitsEnv is the shared test environment (body limit 1 MiB) served by
// the http.Server memoryd serves with, with cfg's deadlines.
func limitsEnv(t *testing.T, cfg httpapi.Config) *testenv.Env {
	t.Helper()
	return testenv.New(t, testenv.WithServer(func(h http.Handler) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		hs, err := httpapi.NewHTTPServer(cfg, h, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		s.Config = hs
		s.Start()
		return s
	}))
}

// rawConn is a client connection that writes requests by hand.
type rawConn struct {
	net.Conn
	// answer receives the status line of the first response, or "" when
	// the connection closed without one; closed is closed when the
	// server has closed the connection.
	answer chan string
	closed chan struct{}
	resp   bytes.Buffer // what the server sent (read only after closed)
}

func dialRaw(t *testing.T, e *testenv.Env) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", e.Srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{Conn: c, answer: make(chan string, 1), closed: make(chan struct{})}
	go func() {
		defer close(rc.closed)
		br := bufio.NewReader(io.TeeReader(c, &rc.resp))
		line, _ := br.ReadString('\n')
		rc.answer <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, br)
	}()
	return rc
}

// chunkedHead is the head of a request with a chunked JSON body.
func chunkedHead(method, path, key string) string {
	h := method + " " + path + " HTTP/1.1\r\nHost: memoryd\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
	if key != "" {
		h += "Authorization: Bearer " + key + "\r\n"
	}
	return h + "\r\n"
}

func waitClosed(t *testing.T, rc *rawConn, what string) {
	t.Helper()
	select {
	case <-rc.closed:
	case <-time.After(testenv.WaitLimit):
		t.Fatalf("%s: the server did not close the connection within %v", what, testenv.WaitLimit)
	}
}

// A large body sent to a public path is not read: the server answers and
// closes the connection long before the client has sent it all, on every
// method.
func TestPublicPathBodyIsNotRead(t *testing.T) {
	e := limitsEnv(t, httpapi.Config{})
	const sendAtMost = 64 << 20 // 64 times the body limit
	chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 64<<10, bytes.Repeat([]byte(" "), 64<<10)))
	for _, path := range []string{"/api/v1/health", "/api/v1/ready", "/api/v1/openapi.yaml"} {
		for _, method := range []string{"POST", "GET"} {
			rc := dialRaw(t, e)
			if _, err := io.WriteString(rc, chunkedHead(method, path, "")); err != nil {
				t.Fatal(err)
			}
			sent := 0
			for sent < sendAtMost {
				if _, err := rc.Write(chunk); err != nil {
					break // the server closed the connection
				}
				sent += 64 << 10
			}
			waitClosed(t, rc, method+" "+path)
			if sent >= sendAtMost {
				t.Errorf("%s %s: the server took %d bytes of body without closing the connection", method, path, sent)
			}
			if a := <-rc.answer; a == "" {
				t.Errorf("%s %s: closed without an answer", method, path)
			}
		}
	}
}

// A body declared larger than the limit is refused before it is sent and
// before authentication, on every path.
func TestDeclaredLargeBodyRefusedFirst(t *testing.T) {
	e := limitsEnv(t, httpapi.Config{})
	for _, path := range []string{"/api/v1/health", "/api/v1/memory", "/api/v1/memory/search", "/api/v1/nowhere"} {
		rc := dialRaw(t, e)
		head := "POST " + path + " HTTP/1.1\r\nHost: memoryd\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n"
		if _, err := io.WriteString(rc, head); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, rc, path)
		res, err := http.ReadResponse(bufio.NewReader(&rc.resp), nil)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != http.StatusRequestEntityTooLarge || body["error"] != memoryd.ETOOLARGE {
			t.Errorf("POST %s with 2 MiB declared: %d %v, want 413 %s", path, res.StatusCode, body, memoryd.ETOOLARGE)
		}
	}
}

// trickle sends a chunked body one byte at a time until the connection
// fails or stop is closed.
func trickle(rc *rawConn, stop <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := io.WriteString(rc, "1\r\n \r\n"); err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// A client that sends its body slowly is cut at the read timeout, on a
// public path and an authenticated one, while other clients are served;
// the authenticated one is told which limit ran out, and nothing is
// stored.
func TestSlowBodyIsCutAtTheReadTimeout(t *testing.T) {
	e := limitsEnv(t, httpapi.Config{ReadTimeout: time.Second})
	stop := make(chan struct{})
	defer close(stop)
	public := dialRaw(t, e)
	_, _ = io.WriteString(public, chunkedHead("POST", "/api/v1/health", ""))
	go trickle(public, stop)
	private := dialRaw(t, e)
	_, _ = io.WriteString(private, chunkedHead("POST", "/api/v1/memory", e.KeyA)+"a\r\n{\"text\":\"x\r\n")
	go trickle(private, stop)

	if r := e.Do("GET", "/api/v1/health", "", nil); r.Status != http.StatusOK {
		t.Fatalf("another client's GET /health: %d %s", r.Status, r.Raw)
	}
	waitClosed(t, public, "slow body to /health")
	waitClosed(t, private, "slow body to /memory")
	res, err := http.ReadResponse(bufio.NewReader(&private.resp), nil)
	if err != nil {
		t.Fatalf("slow body to /memory: no response: %v", err)
	}
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	msg, _ := body["message"].(string)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "read timeout (1s)") {
		t.Fatalf("slow body to /memory: %d %v, want 400 naming the read timeout", res.StatusCode, body)
	}
	if ids := e.Client(e.KeyA).ListIDs(t); len(ids) != 0 {
		t.Fatalf("stored %v from a body that never arrived", ids)
	}
}

// A stream lives past the read timeout: the deadline is for receiving
// requests, not for answering them.
func TestStreamOutlivesTheReadTimeout(t *testing.T) {
	const readTimeout = time.Second
	e := limitsEnv(t, httpapi.Config{ReadTimeout: readTimeout})
	s, _ := e.OpenStream(e.KeyA, "", nil)
	time.Sleep(3 * readTimeout) // the deadline would have passed
	e.Client(e.KeyA).Create(t, "after-deadline", "still streaming")
	if m := s.NextData(t); m.Event != memoryd.EventMemoryCreated {
		t.Fatalf("after the read timeout the stream got %q, want %s", m.Event, memoryd.EventMemoryCreated)
	}
}

// Media types are case-insensitive: a JSON body with trailing garbage is
// refused whatever the case of its Content-Type.
func TestStrictJSONWhateverTheMediaTypeCase(t *testing.T) {
	e := testenv.New(t)
	for _, ct := range []string{"application/json", "APPLICATION/JSON", "Application/Json; charset=utf-8"} {
		r := e.Do("POST", "/api/v1/memory", e.KeyA, `{"text":"x"} trailing`, "Content-Type", ct)
		testenv.WantError(t, r, http.StatusBadRequest, memoryd.EINVALID)
	}
	if ids := e.Client(e.KeyA).ListIDs(t); len(ids) != 0 {
		t.Fatalf("stored %v from invalid bodies", ids)
	}
}

// Error messages reach the client as written: JSON needs no HTML escaping.
func TestErrorMessagesAreNotHTMLEscaped(t *testing.T) {
	e := testenv.New(t)
	r := e.Do("GET", "/api/v1/memory", "", nil)
	testenv.WantError(t, r, http.StatusUnauthorized, memoryd.EUNAUTHORIZED)
	if !bytes.Contains(r.Raw, []byte("<key>")) || bytes.Contains(r.Raw, []byte(`\u003c`)) {
		t.Fatalf("error body %s: want <key> unescaped", r.Raw)
	}
}

// Zero limits take the defaults; a negative one is an error, not "none".
func TestHTTPServerDeadlines(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	hs, err := httpapi.NewHTTPServer(httpapi.Config{}, http.NotFoundHandler(), log)
	if err != nil {
		t.Fatal(err)
	}
	if hs.ReadHeaderTimeout != httpapi.DefaultReadHeaderTimeout || hs.ReadTimeout != httpapi.DefaultReadTimeout ||
		hs.IdleTimeout != httpapi.DefaultIdleTimeout {
		t.Fatalf("deadlines %v %v %v, want the defaults", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.IdleTimeout)
	}
	for _, cfg := range []httpapi.Config{{ReadTimeout: -1}, {IdleTimeout: -1}, {ReadHeaderTimeout: -1}, {MaxBodyBytes: -1}} {
		if _, err := httpapi.NewHTTPServer(cfg, http.NotFoundHandler(), log); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
		if _, err := httpapi.New(cfg, nil, nil, nil, nil, log).Handler(); err == nil {
			t.Errorf("Handler with %+v: no error", cfg)
		}
	}
}

package events_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	ev "github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/events"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
)

// env is the real HTTP stack (httpapi with its auth, validation and the
// stream mounted) over a real SQLite store, behind a listening server.
type env struct {
	t      testing.TB
	st     *store.Store
	dsn    string // of st: another store on it is another node
	stream *events.Stream
	srv    *httptest.Server
	client *http.Client // srv.Client(): speaks HTTP/2 to a server that does
	// keyA may use workspaces "a" and "a2"; keyB only "b".
	keyA, keyB string
}

// quiet returns a Config whose timers stay out of the way of a test unless
// it lowers them.
func quiet() events.Config {
	c := events.Default()
	c.DisableActivity = true
	c.PruneInterval = -1
	c.SnapshotInterval = time.Hour
	c.MinHeartbeat = time.Second
	c.DefaultHeartbeat = time.Hour
	c.Keepalive = time.Hour
	return c
}

func newEnv(t testing.TB, cfg events.Config) *env {
	t.Helper()
	return newEnvOn(t, cfg, httptest.NewServer)
}

// newEnvOn is newEnv with the listening server started by start (e.g. one
// speaking HTTP/2).
func newEnvOn(t testing.TB, cfg events.Config, start func(http.Handler) *httptest.Server) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dsn := "sqlite://" + t.TempDir() + "/memoryd.db"
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := events.New(ctx, st, cfg, events.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	// The memory endpoints are not exercised here (writes go to the store
	// directly), so the service runs without index or embedder.
	api := httpapi.New(httpapi.Config{}, service.New(st, nil, nil), st, auth.NewAuthenticator(st),
		ratelimit.New(ratelimit.Limits{}), log, httpapi.WithStream(s))
	h, err := api.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, dsn: dsn, stream: s, srv: start(s.Measure(h))}
	e.client = e.srv.Client()
	t.Cleanup(func() {
		s.Close()
		e.srv.Close()
		cancel()
		<-done
		st.Close()
	})
	e.keyA = e.newKey("user-a", "a", "a2")
	e.keyB = e.newKey("user-b", "b")
	return e
}

func (e *env) newKey(user string, ws ...string) string {
	secret, _, err := auth.NewKey(context.Background(), e.st, ws, memoryd.TierUnlimited, user)
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// get opens GET /api/v1/stream?query with the key (if any) and headers.
func (e *env) get(key, query string, hdr map[string]string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/stream?"+query, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// open connects and checks the response is a stream that starts with
// welcome; it returns the client and the welcome.
func (e *env) open(key, query string, hdr map[string]string) (*sseClient, ev.Welcome) {
	e.t.Helper()
	resp := e.get(key, query, hdr)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.t.Fatalf("GET /stream?%s: %d %s", query, resp.StatusCode, b)
	}
	c := newSSEClient(resp)
	e.t.Cleanup(c.close)
	first := c.raw(e.t)
	if first.retry == "" {
		e.t.Fatalf("first message %+v, want the retry advice", first)
	}
	m := c.next(e.t)
	if m.event != "welcome" {
		e.t.Fatalf("first event %q, want welcome", m.event)
	}
	var w ev.Welcome
	m.decode(e.t, &w)
	if !m.hasID || m.id != w.Position {
		e.t.Fatalf("welcome id %q, position %q", m.id, w.Position)
	}
	return c, w
}

// expectStatus checks a refused stream's status and error code.
func (e *env) expectStatus(resp *http.Response, status int, code string) map[string]any {
	e.t.Helper()
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != status || body["error"] != code {
		e.t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, status, code)
	}
	return body
}

var t0 = time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)

// create stores a memory with its memory.created event, as the service
// does, and returns the event.
func (e *env) create(ws, id string, md map[string]any) *memoryd.Event {
	e.t.Helper()
	m := &memoryd.Memory{ID: id, Workspace: ws, Text: "text of " + id, Metadata: md,
		Embedding: []float32{1, 0, 0}, EmbeddingModel: "client", CreatedAt: t0, UpdatedAt: t0, CreatedBy: "user-" + ws}
	_, evt, err := e.st.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
		return payloadEvent(memoryd.EventMemoryCreated, ws, ev.MemoryCreated{Id: id, Content: m.Text,
			Metadata: md, Tags: []string{}, CreatedAt: t0, CreatedBy: m.CreatedBy})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return evt
}

// remove deletes a memory with its memory.deleted event.
func (e *env) remove(ws, id string) *memoryd.Event {
	e.t.Helper()
	evt, err := e.st.DeleteMemory(context.Background(), ws, id, func(*memoryd.Memory) (*memoryd.Event, error) {
		return payloadEvent(memoryd.EventMemoryDeleted, ws, ev.MemoryDeleted{Id: id, DeletedAt: t0,
			DeletedBy: "user-" + ws, Reason: ev.UserRequest})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return evt
}

func payloadEvent(typ, ws string, v any) (*memoryd.Event, error) {
	b, err := json.Marshal(v)
	return &memoryd.Event{Workspace: ws, Type: typ, Payload: b, CreatedAt: t0}, err
}

// expectEvent checks that m is exactly the log event want.
func expectEvent(t testing.TB, m message, want *memoryd.Event, epoch string) {
	t.Helper()
	if m.event != want.Type || m.data != string(want.Payload) {
		t.Fatalf("got %s %s\nwant %s %s", m.event, m.data, want.Type, want.Payload)
	}
	if got := seqOf(t, m.id, epoch); got != want.Seq {
		t.Fatalf("id %q is seq %d, want %d", m.id, got, want.Seq)
	}
}

// seqOf decodes a position. Positions are opaque to clients; the tests
// know the encoding only to build foreign and future ones.
func seqOf(t testing.TB, pos, epoch string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(pos)
	if err != nil {
		t.Fatalf("position %q: %v", pos, err)
	}
	ep, seq, ok := strings.Cut(string(raw), ".")
	if !ok || ep != epoch {
		t.Fatalf("position %q decodes to %q", pos, raw)
	}
	var n int64
	if err := json.Unmarshal([]byte(seq), &n); err != nil {
		t.Fatalf("position %q: %v", pos, err)
	}
	return n
}

func position(epoch string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(epoch + "." + itoa(seq)))
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (e *env) epoch() string {
	ep, err := e.st.Epoch(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return ep
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func decodeBody(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

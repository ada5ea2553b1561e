package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/app"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/store"
)

// server is memoryd serve, run in process on a loopback port.
type server struct {
	// root is the server's URL, without a path.
	root string
	// keyA may use workspaces "a" and "a2", keyB only "b".
	keyA, keyB string
}

// serve starts memoryd as `memoryd serve` does (app.Run, so /mcp is
// mounted as in production) on a fresh database with two keys.
func serve(t *testing.T, flags ...string) server {
	t.Helper()
	dsn := "sqlite://" + t.TempDir() + "/memoryd.db"
	var s server
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	newKey := func(ws ...string) string {
		secret, _, err := auth.NewKey(context.Background(), st, ws, memoryd.TierUnlimited, "user-"+ws[0])
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	s.keyA, s.keyB = newKey("a", "a2"), newKey("b")
	st.Close()
	cfg, err := app.ParseServe(append([]string{"--addr", "127.0.0.1:0", "--db", dsn, "--embedder", "hash"}, flags...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg, &strings.Builder{}, logger(t), ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("memoryd serve: %v", err)
		}
	})
	select {
	case addr := <-ready:
		s.root = "http://" + addr
	case err := <-done:
		t.Fatalf("memoryd serve: %v", err)
	case <-ctxFor(t).Done():
		t.Fatalf("memoryd serve did not start within %s", waitLimit)
	}
	return s
}

// headers adds fixed headers to every request.
type headers struct {
	h    map[string]string
	next http.RoundTripper
}

func (h headers) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.h {
		r.Header.Set(k, v)
	}
	return h.next.RoundTrip(r)
}

// transport is the streamable HTTP client transport to s's /mcp with the
// key (none when "") and, when not "", X-Workspace-ID.
func (s server) transport(key, workspace string) *sdk.StreamableClientTransport {
	h := map[string]string{}
	if key != "" {
		h["Authorization"] = "Bearer " + key
	}
	if workspace != "" {
		h["X-Workspace-ID"] = workspace
	}
	return &sdk.StreamableClientTransport{Endpoint: s.root + "/mcp",
		HTTPClient: &http.Client{Transport: headers{h, http.DefaultTransport}}}
}

// TestHTTP runs every tool over streamable HTTP and checks that the calls
// show on the workspace's stream as REST calls do.
func TestHTTP(t *testing.T) {
	s := serve(t)
	stream, _ := testenv.OpenStream(t, http.DefaultClient, s.root, s.keyA, "", nil)
	deleted := exercise(t, connect(t, s.transport(s.keyA, "")))

	count := map[string]int{}
	for {
		m := stream.NextData(t)
		count[m.Event]++
		var p struct {
			ID        string `json:"id"`
			CreatedBy string `json:"created_by"`
		}
		if err := json.Unmarshal([]byte(m.Data), &p); err != nil {
			t.Fatal(err)
		}
		if m.Event == memoryd.EventMemoryCreated && p.CreatedBy != "user-a" {
			t.Errorf("memory.created by %q, want the key's user-a", p.CreatedBy)
		}
		if m.Event == memoryd.EventMemoryDeleted && p.ID == deleted {
			break
		}
	}
	if count[memoryd.EventMemoryCreated] != 3 || count[memoryd.EventMemoryUpdated] != 2 ||
		count[memoryd.EventSearchPerformed] != 2 {
		t.Fatalf("events on the stream: %v", count)
	}
}

// TestHTTPAuth checks that /mcp takes the API's keys and workspaces: no
// key is a 401, a workspace the key may not use a 403, both with the
// API's error body, and a key sees only its workspace's memories.
func TestHTTPAuth(t *testing.T) {
	s := serve(t)
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
		`"capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	for _, c := range []struct {
		name, key, workspace string
		status               int
		code                 string
	}{
		{"no key", "", "", http.StatusUnauthorized, memoryd.EUNAUTHORIZED},
		{"unknown key", "mk_nope", "", http.StatusUnauthorized, memoryd.EUNAUTHORIZED},
		{"another's workspace", s.keyB, "a", http.StatusForbidden, memoryd.EFORBIDDEN},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.root+"/mcp", strings.NewReader(initialize))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		if c.workspace != "" {
			req.Header.Set("X-Workspace-ID", c.workspace)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.name, func(t *testing.T) { testenv.ExpectStatus(t, res, c.status, c.code) })
	}
	c := sdk.NewClient(&sdk.Implementation{Name: "memoryd-test", Version: "1"}, nil)
	if cs, err := c.Connect(ctxFor(t), s.transport("", ""), nil); err == nil {
		cs.Close()
		t.Fatal("connected without a key")
	}

	a := connect(t, s.transport(s.keyA, ""))
	var stored struct{ ID string }
	call(t, a, "store", map[string]any{"text": "only in workspace a"}, &stored)
	call(t, a, "get", map[string]any{"id": stored.ID}, nil)
	for name, cs := range map[string]*sdk.ClientSession{
		"key B":               connect(t, s.transport(s.keyB, "")),
		"key A in a2":         connect(t, s.transport(s.keyA, "a2")),
		"key B, explicitly b": connect(t, s.transport(s.keyB, "b")),
	} {
		callErr(t, cs, "get", map[string]any{"id": stored.ID}, memoryd.ENOTFOUND)
		callErr(t, cs, "delete", map[string]any{"id": stored.ID}, memoryd.ENOTFOUND)
		var page struct{ Total int }
		call(t, cs, "list", nil, &page)
		var found struct {
			TotalResults int `json:"total_results"`
		}
		call(t, cs, "search", map[string]any{"query": "only in workspace a", "mode": "keyword"}, &found)
		if page.Total != 0 || found.TotalResults != 0 {
			t.Fatalf("%s sees workspace a: listed %d, found %d", name, page.Total, found.TotalResults)
		}
	}
	call(t, a, "get", map[string]any{"id": stored.ID}, nil)
}

// TestHTTPBodyLimit checks that the API's body limit guards /mcp too.
func TestHTTPBodyLimit(t *testing.T) {
	s := serve(t, "--max-body-bytes", "2048")
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"store","arguments":{"text":"` +
		strings.Repeat("x", 4096) + `"}}}`
	req, _ := http.NewRequest(http.MethodPost, s.root+"/mcp", strings.NewReader(call))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+s.keyA)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	testenv.ExpectStatus(t, res, http.StatusRequestEntityTooLarge, memoryd.ETOOLARGE)
}

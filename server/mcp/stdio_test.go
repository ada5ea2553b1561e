package mcp_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/app"
	"github.com/memoryd/memoryd/server/store"
)

// stdio runs `memoryd mcp` in process (app.RunMCP, as the command runs
// it, on pipes instead of stdin and stdout) on a fresh database, in
// workspace "ws1", and returns a client session on it and the database.
func stdio(t *testing.T) (*sdk.ClientSession, string) {
	t.Helper()
	dsn := "sqlite://" + t.TempDir() + "/memoryd.db"
	cfg, err := app.ParseMCP([]string{"--db", dsn, "--embedder", "hash", "--workspace", "ws1"})
	if err != nil {
		t.Fatal(err)
	}
	toServer, fromClient := io.Pipe()
	toClient, fromServer := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.RunMCP(ctx, cfg, toServer, fromServer, logger(t)) }()
	// Registered first, so it runs last: the session's Close (registered
	// by connect) closes the server's stdin, which ends RunMCP.
	t.Cleanup(func() {
		defer cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunMCP: %v", err)
			}
		case <-ctxFor(t).Done():
			t.Errorf("RunMCP did not return within %s after its stdin closed", waitLimit)
		}
	})
	return connect(t, &sdk.IOTransport{Reader: toClient, Writer: fromClient}), dsn
}

// TestStdio runs every tool over stdio and checks that the calls wrote
// their events, as the REST API's do, by the stdio user.
func TestStdio(t *testing.T) {
	cs, dsn := stdio(t)
	deleted := exercise(t, cs)

	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ReadEvents(context.Background(), "ws1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var gone bool
	for _, e := range evs {
		count[e.Type]++
		var p struct {
			ID        string `json:"id"`
			CreatedBy string `json:"created_by"`
			DeletedBy string `json:"deleted_by"`
		}
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if e.Type == memoryd.EventMemoryCreated && p.CreatedBy != app.MCPUser {
			t.Errorf("%s created_by %q, want %q", e.Type, p.CreatedBy, app.MCPUser)
		}
		if e.Type == memoryd.EventMemoryDeleted && p.ID == deleted && p.DeletedBy == app.MCPUser {
			gone = true
		}
	}
	// 3 stores of new memories, one upsert and one update, 2 searches.
	if count[memoryd.EventMemoryCreated] != 3 || count[memoryd.EventMemoryUpdated] != 2 ||
		count[memoryd.EventSearchPerformed] != 2 || !gone {
		t.Fatalf("events in the log: %v (the delete of %s seen: %v)", count, deleted, gone)
	}
}

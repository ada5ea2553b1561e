// Package mcpcheck runs check.mjs, an MCP client built on the official
// TypeScript SDK, against a memoryd it starts: memoryd's tools checked by
// a client that shares none of its code.
//
//	go test ./tools/mcpcheck
package mcpcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/app"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/store"
)

// Limits on the steps: they only guard against a hung test, with room
// for a cold cache on a slow network and a busy two-core machine.
const (
	npmLimit   = 5 * time.Minute
	startLimit = 30 * time.Second
	nodeLimit  = 2 * time.Minute
)

func TestTypeScriptClient(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Node.js 20 or newer runs this check)", tool)
		}
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	run(t, dir, npmLimit, nil, "npm", "ci", "--no-audit", "--no-fund")

	dsn := "sqlite://" + t.TempDir() + "/memoryd.db"
	key := newKey(t, dsn, "agents", "agent-user")
	root := start(t, dsn)
	out := run(t, dir, nodeLimit, []string{"MEMORYD_URL=" + root, "MEMORYD_API_KEY=" + key, "MEMORYD_WORKSPACE=agents"},
		"node", "check.mjs")
	t.Logf("the session, as check.mjs saw it:\n%s", out)
	if !strings.Contains(out, "ok: listed 6 tools, stored, found, deleted ") {
		t.Fatalf("check.mjs did not finish")
	}

	// The memoryd side: the calls went through the service as the key's
	// user, in its workspace, and wrote their events.
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ReadEvents(context.Background(), "agents", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range evs {
		if !strings.HasPrefix(e.Type, "memory.") && e.Type != memoryd.EventSearchPerformed {
			continue // events that accompany these (embedding.generated)
		}
		var p struct {
			CreatedBy string `json:"created_by"`
			DeletedBy string `json:"deleted_by"`
		}
		_ = json.Unmarshal(e.Payload, &p)
		seen = append(seen, e.Type+" by "+p.CreatedBy+p.DeletedBy)
	}
	want := []string{"memory.created by agent-user", "search.performed by ", "memory.deleted by agent-user"}
	if strings.Join(seen, "; ") != strings.Join(want, "; ") {
		t.Fatalf("events in workspace agents: %q, want %q", seen, want)
	}
}

// run runs a command in dir and returns its output; it fails the test
// when the command fails or outlives limit.
func run(t *testing.T, dir string, limit time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not finish within %s:\n%s", name, strings.Join(args, " "), limit, out.String())
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// newKey creates an unlimited key for workspace and returns its secret.
func newKey(t *testing.T, dsn, workspace, user string) string {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret, _, err := auth.NewKey(context.Background(), st, []string{workspace}, memoryd.TierUnlimited, user)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// start runs memoryd serve on a loopback port until the test ends and
// returns its root URL.
func start(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := app.ParseServe([]string{"--addr", "127.0.0.1:0", "--db", dsn, "--embedder", "hash"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- app.Run(ctx, cfg, io.Discard, log, ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("memoryd serve: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("memoryd serve: %v", err)
	case <-time.After(startLimit):
		t.Fatalf("memoryd serve did not start within %s", startLimit)
	}
	return ""
}

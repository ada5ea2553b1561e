package events_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/app"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/store"
)

// TestIdleStreamSurvives120s keeps a stream idle for over two minutes on
// the real server (app.Run with its default http.Server timeouts and the
// default stream settings: heartbeat 30 s, keepalive 15 s), then checks it
// still delivers. It takes 125 s, so it runs when asked, as `make test`
// (and so CI) does; in parallel with the package's other tests:
//
//	MEMORYD_LONG=1 go test -run TestIdleStreamSurvives120s -v ./server/events
func TestIdleStreamSurvives120s(t *testing.T) {
	if os.Getenv("MEMORYD_LONG") == "" {
		t.Skip("long: set MEMORYD_LONG=1 (make test does)")
	}
	t.Parallel()
	const idle = 125 * time.Second
	addr, key, _ := runApp(t)
	c := openAppStream(t, addr, key)
	defer c.Close()
	start := time.Now()
	heartbeats, keepalives := 0, 0
	deadline := time.After(idle)
	for waiting := true; waiting; {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				t.Fatalf("the stream ended after %s idle: %v", time.Since(start).Round(time.Second), c.Err())
			}
			switch {
			case m.Event == "heartbeat":
				heartbeats++
			case m.IsComment():
				keepalives++
			}
		case <-deadline:
			waiting = false
		}
	}
	t.Logf("%s idle: %d heartbeats, %d keepalive comments", idle, heartbeats, keepalives)
	if heartbeats < 4 {
		t.Fatalf("%d heartbeats in %s, want one every 30 s", heartbeats, idle)
	}
	post(t, addr, key, `{"id":"after-idle","text":"still there"}`)
	m := c.NextData(t)
	for m.Event == memoryd.EventUserActivity { // the stream's own connect
		m = c.NextData(t)
	}
	if m.Event != memoryd.EventMemoryCreated {
		t.Fatalf("after the idle period got %q, want memory.created", m.Event)
	}
}

// runApp serves memoryd as `memoryd serve` does, with defaults, on a fresh
// SQLite database; it returns the address, a key for workspace "a" and
// stop, which shuts the server down as a signal does and returns
// app.Run's error (the test's cleanup stops it otherwise).
func runApp(t *testing.T) (addr, key string, stop func() error) {
	t.Helper()
	dsn := "sqlite://" + t.TempDir() + "/memoryd.db"
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err = auth.NewKey(ctx, st, []string{"a"}, memoryd.TierUnlimited, "user-a")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := app.ParseServe([]string{"--addr", "127.0.0.1:0", "--db", dsn, "--embedder", "hash"})
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)), ready)
	}()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("app.Run: %v", err)
		}
	})
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("app.Run: %v", err)
	}
	return addr, key, stop
}

// Shutting the real server down ends its open streams with the `error`
// event, although http.Server.Shutdown does not track hijacked
// connections, and app.Run returns.
func TestAppShutdownEndsStreams(t *testing.T) {
	addr, key, stop := runApp(t)
	c := openAppStream(t, addr, key)
	defer c.Close()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	endsWithUnavailable(t, c.ExpectEnd(t))
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("app.Run: %v", err)
		}
	case <-time.After(testenv.WaitLimit):
		t.Fatal("app.Run did not return")
	}
}

func post(t *testing.T, addr, key, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/memory", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /memory: %d %s", resp.StatusCode, b)
	}
}

// openAppStream opens a stream on the app at addr and reads its welcome.
func openAppStream(t *testing.T, addr, key string) *testenv.SSE {
	t.Helper()
	c, _ := testenv.OpenStream(t, http.DefaultClient, "http://"+addr, key, "", nil)
	return c
}

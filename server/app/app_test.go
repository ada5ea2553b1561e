package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start runs memoryd on a free port until the test ends and returns its
// base URL and what it printed.
func start(t *testing.T, db string) (string, *bytes.Buffer, func()) {
	t.Helper()
	return startWith(t, "--db", db, "--embedder", "hash")
}

// startWith is start with the given serve flags.
func startWith(t *testing.T, args ...string) (string, *bytes.Buffer, func()) {
	t.Helper()
	cfg, err := ParseServe(append([]string{"--addr", "127.0.0.1:0"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, &out, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("memoryd did not start")
	}
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v after shutdown", err)
		}
	}
	return "http://" + addr + "/api/v1", &out, stop
}

func TestRunServesAndShowsTheFirstKeyOnce(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "data", "memoryd.db")
	base, out, stop := start(t, db)
	key := ""
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "mk_") {
			key = f
		}
	}
	if key == "" {
		t.Fatalf("no key printed on first start: %q", out)
	}
	req, _ := http.NewRequest("POST", base+"/memory", strings.NewReader(`{"text":"hello"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("create with the printed key: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	stop()

	base, out, stop = start(t, db)
	defer stop()
	if strings.Contains(out.String(), "mk_") {
		t.Fatalf("a key was printed again on restart: %q", out)
	}
	res, err = http.Get(base + "/health")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("health after restart: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
}

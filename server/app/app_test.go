package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/server/store"
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

// A first start that cannot serve (its port is taken) creates and shows no
// key: the next start, which can, shows it.
func TestFirstKeyOnlyOnceTheServerCanServe(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "memoryd.db")
	cfg, err := ParseServe([]string{"--addr", taken.Addr().String(), "--db", db, "--embedder", "hash"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = Run(context.Background(), cfg, &out, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "listening on "+taken.Addr().String()) {
		t.Fatalf("Run on a taken port: %v, want an error naming the address", err)
	}
	if strings.Contains(out.String(), "mk_") {
		t.Fatalf("a start that could not serve showed a key: %q", out.String())
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.ListKeys(context.Background())
	st.Close()
	if err != nil || len(keys) != 0 {
		t.Fatalf("keys after the failed start: %d %v, want none", len(keys), err)
	}
	_, out2, stop := start(t, db)
	defer stop()
	if !strings.Contains(out2.String(), "mk_") {
		t.Fatalf("the first start that serves showed no key: %q", out2.String())
	}
}

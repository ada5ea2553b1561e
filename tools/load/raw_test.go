package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The raw client reads what net/http's server writes (length-delimited,
// chunked, empty and closing answers) as net/http's client does, and
// keeps its connection between requests.
func TestRawClientMatchesNetHTTP(t *testing.T) {
	big := strings.Repeat("0123456789", 2000) // chunked: larger than the server's buffer
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(r.Header.Get("Authorization") + " " + r.Header.Get("Content-Type") + " " + string(b)))
	})
	mux.HandleFunc("GET /api/v1/big", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, big[:len(big)/2])
		w.(http.Flusher).Flush()
		io.WriteString(w, big[len(big)/2:])
	})
	mux.HandleFunc("DELETE /api/v1/none", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /api/v1/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		http.Error(w, `{"error":"gone"}`, http.StatusNotFound)
	})
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	raw, err := newClient(srv.URL, "k1", 1, "raw")
	if err != nil {
		t.Fatal(err)
	}
	std, err := newClient(srv.URL, "k1", 1, "std")
	if err != nil {
		t.Fatal(err)
	}
	if raw.raw == nil || std.raw != nil {
		t.Fatal("want one raw and one net/http client")
	}
	ctx := context.Background()
	type answer struct {
		status int
		body   string
	}
	reqs := []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/echo", []byte(`{"text":"hi"}`)}, {"GET", "/big", nil}, {"DELETE", "/none", nil},
		{"GET", "/close", nil}, {"POST", "/echo", []byte(`{}`)}, {"GET", "/big", nil},
	}
	var got []answer
	for _, req := range reqs {
		status, body, err := raw.send(ctx, 0, req.method, req.path, req.body)
		if err != nil {
			t.Fatalf("raw %s %s: %v", req.method, req.path, err)
		}
		got = append(got, answer{status, string(body)})
	}
	// One connection, and one more after the server closed the first.
	if n := conns.Load(); n != 2 {
		t.Fatalf("the raw client opened %d connections, want 2", n)
	}
	for i, req := range reqs {
		status, body, err := std.send(ctx, 0, req.method, req.path, req.body)
		if err != nil {
			t.Fatal(err)
		}
		if want := (answer{status, string(body)}); got[i] != want {
			t.Fatalf("%s %s: raw %d %.80q, net/http %d %.80q", req.method, req.path, got[i].status, got[i].body, status, body)
		}
	}
	if got[1].body != big || got[0].status != http.StatusCreated || got[2].status != http.StatusNoContent {
		t.Fatalf("unexpected answers %.80v", got)
	}
}

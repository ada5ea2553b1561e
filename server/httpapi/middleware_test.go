package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLogRecordsHijackedResponse: a handler that takes the connection over
// (the SSE stream) is logged with the 200 it wrote itself, not status 0.
func TestLogRecordsHijackedResponse(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	logged := make(chan struct{})
	var h http.Handler = withLogging(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer nc.Close()
		_, _ = io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	}))
	// Close does not wait for hijacked connections: wait for the log line.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(logged)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("response %d %q", res.StatusCode, body)
	}
	<-logged
	if !strings.Contains(logs.String(), "status=200") {
		t.Fatalf("request log: %s", logs.String())
	}
}

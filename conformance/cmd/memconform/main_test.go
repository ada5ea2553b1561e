package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--base-url", "http://x"},
		{"--base-url", "http://x", "--api-key", "k", "--profile", "core,bogus"},
		{"--base-url", "http://x", "--api-key", "k", "--run", "("},
		{"--base-url", "http://x", "--api-key", "k", "extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

func TestList(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--list"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "MEM-CREATE-001") || !strings.Contains(out.String(), "STREAM-RESUME-001") {
		t.Fatalf("list output:\n%s", out.String())
	}
}

// Against a server that answers health and nothing else, the health check
// passes, a MUST check fails, the exit status is 1 and both reports are written.
func TestRunWritesReportsAndFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/health" {
			io.WriteString(w, `{"status":"ok"}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"NOT_FOUND","message":"nothing here"}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	junit, js := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.json")
	var out bytes.Buffer
	code := run(context.Background(), []string{"--base-url", srv.URL, "--api-key", "k", "--run", "^(SYS-HEALTH|MEM-GET-003|MEM-CREATE-001)",
		"--junit", junit, "--json", js}, &out, io.Discard)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "SYS-HEALTH-001         MUST   PASS") || !strings.Contains(out.String(), "MEM-CREATE-001         MUST   FAIL") {
		t.Fatalf("output:\n%s", out.String())
	}
	data, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct{ ID, Outcome string }
	}
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Results) != 3 {
		t.Fatalf("json report %v: %s", err, data)
	}
	if x, err := os.ReadFile(junit); err != nil || !strings.Contains(string(x), "<failure") {
		t.Fatalf("junit report %v: %s", err, x)
	}
}

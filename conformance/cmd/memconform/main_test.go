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

// With nothing listening at the base URL, no check runs: it is a setup
// error (exit 2) that says so, not a run of failures.
func TestNothingListeningIsASetupError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--base-url", url, "--api-key", "k"}, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "setup error") || !strings.Contains(errb.String(), "nothing answers at "+url) {
		t.Errorf("stderr does not name the setup error:\n%s", errb.String())
	}
	if strings.Contains(out.String(), "FAIL") {
		t.Errorf("checks ran:\n%s", out.String())
	}
}

// A base URL ending in /api/v1 is the server's root plus the API path the
// suite adds itself: it is accepted, with a note, instead of doubling it.
func TestBaseURLWithAPIPath(t *testing.T) {
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
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--base-url", srv.URL + "/api/v1/", "--api-key", "k", "--run", "^SYS-HEALTH-001$"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "ends in /api/v1") || !strings.Contains(out.String(), "SYS-HEALTH-001         MUST   PASS") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
}

// A key the server rejects is a setup error too.
func TestRejectedKeyIsASetupError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/health" {
			io.WriteString(w, `{"status":"ok"}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"UNAUTHORIZED","message":"Invalid API key"}`)
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--base-url", srv.URL, "--api-key", "k"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "rejects key A") {
		t.Errorf("stderr:\n%s", errb.String())
	}
}

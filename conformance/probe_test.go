package conformance

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		trimmed  bool
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", false},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080", false},
		{"http://127.0.0.1:8080/api/v1", "http://127.0.0.1:8080", true},
		{"http://127.0.0.1:8080/api/v1/", "http://127.0.0.1:8080", true},
		{"https://example.test/memoryd/api/v1", "https://example.test/memoryd", true},
		{"https://example.test/memoryd", "https://example.test/memoryd", false},
	} {
		got, trimmed, err := BaseURL(tc.in)
		if err != nil || got != tc.want || trimmed != tc.trimmed {
			t.Errorf("BaseURL(%q) = %q, %v, %v; want %q, %v", tc.in, got, trimmed, err, tc.want, tc.trimmed)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "localhost:8080", "ftp://x", "http://", "http://x/?a=b", "http://x/#f"} {
		var se *SetupError
		if _, _, err := BaseURL(bad); !errors.As(err, &se) {
			t.Errorf("BaseURL(%q): %v, want a *SetupError", bad, err)
		}
	}
}

// probeAPI answers health, and the memory list for key "good" only.
func probeAPI(healthStatus int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/health":
			w.WriteHeader(healthStatus)
			io.WriteString(w, `{"status":"ok"}`)
		case r.URL.Path == "/api/v1/memory" && r.Header.Get("Authorization") != "Bearer good":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"UNAUTHORIZED","message":"bad key"}`)
		case r.URL.Path == "/api/v1/memory" && r.Header.Get("X-Workspace-ID") == "other":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"error":"FORBIDDEN","message":"not yours"}`)
		case r.URL.Path == "/api/v1/memory":
			io.WriteString(w, `{"memories":[]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"NOT_FOUND","message":"no such route"}`)
		}
	}))
}

func TestProbe(t *testing.T) {
	ok := probeAPI(http.StatusOK)
	defer ok.Close()
	failing := probeAPI(http.StatusServiceUnavailable)
	defer failing.Close()
	// A port nothing listens on: bind one, then close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" = no error; else part of the SetupError
	}{
		{"works", Config{BaseURL: ok.URL, KeyA: "good", KeyB: "good"}, ""},
		{"failing health is the checks' business", Config{BaseURL: failing.URL, KeyA: "good"}, ""},
		{"nothing listening", Config{BaseURL: closed, KeyA: "good"}, "nothing answers at " + closed},
		{"doubled API path", Config{BaseURL: ok.URL + "/api/v1", KeyA: "good"}, "no memoryd API under " + ok.URL + "/api/v1/api/v1"},
		{"key A rejected", Config{BaseURL: ok.URL, KeyA: "bad"}, "rejects key A (--api-key/--workspace-a): GET " + ok.URL + "/api/v1/memory answered 401"},
		{"key B rejected", Config{BaseURL: ok.URL, KeyA: "good", KeyB: "bad"}, "rejects key B"},
		{"workspace refused", Config{BaseURL: ok.URL, KeyA: "good", WorkspaceA: "other"}, "answered 403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Probe(context.Background(), tc.cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Probe: %v", err)
				}
				return
			}
			var se *SetupError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Probe: %v; want a *SetupError containing %q", err, tc.want)
			}
		})
	}
}

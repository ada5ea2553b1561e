package weaviatetest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func ready(s *Server) bool {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(s.URL() + "/v1/.well-known/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestStartHaltResume: a started server answers on its own ports and logs
// to its file; halted it does not answer; resumed it does again.
func TestStartHaltResume(t *testing.T) {
	s := Start(t)
	if !ready(s) {
		t.Fatal("server not ready after Start")
	}
	if !strings.Contains(s.LogTail(1000), "Serving weaviate at http://"+s.Host()) {
		t.Fatalf("log %s does not show the server on %s:\n%s", s.LogPath(), s.Host(), s.LogTail(20))
	}
	s.Halt()
	if ready(s) {
		t.Fatal("halted server still answers")
	}
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	if !ready(s) {
		t.Fatal("server not ready after Resume")
	}
}

// TestMissingBinary: a binary that cannot run is an error naming it, never
// a skip.
func TestMissingBinary(t *testing.T) {
	t.Setenv("WEAVIATE_SERVER", "/nonexistent/weaviate-server")
	_, err := Launch()
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/weaviate-server") {
		t.Fatalf("Launch with a missing binary: %v", err)
	}
}

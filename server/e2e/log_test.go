package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/testenv"
)

// With --log-format json every line memoryd logs is JSON, including those
// of packages that log through slog's default (the openai embedder's
// retries, the store's checkpointer): none may come out as Go's plain
// text log, which a log shipper reading JSON drops or mangles.
func TestLogsAreJSON(t *testing.T) {
	// An embeddings endpoint that refuses connections: a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	db := "sqlite://" + filepath.Join(t.TempDir(), "m.db")
	key := createKey(t, db, "w")
	n := startNode(t, "json", db, "--embedder", "openai", "--openai-base-url", down, "--openai-dims", "8")
	c := testenv.NewClient(n.base, key)
	status, _ := c.Do(http.MethodPost, "/memory", map[string]any{"text": "hello"}, nil)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("create with the embedder down: %d, want 503", status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(n.log.String(), "openai embedder: retrying") {
		if time.Now().After(deadline) {
			t.Fatalf("no retry logged:\n%s", n.log.tail(4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, line := range strings.Split(strings.TrimSpace(n.log.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] == nil {
			t.Fatalf("a log line that is not a JSON record: %q", line)
		}
	}
}

package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

const dims = 512

var actor = service.Actor{Workspace: "w", User: "u"}

// openStore opens a SQLite store in a fresh directory.
func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "memoryd.db")
	}
	st, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// logBuffer is a log destination tests can read while the service writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newService is the service as memoryd runs it (hash embedder, in-process
// index) over st, logging into the returned buffer.
func newService(st service.Store) (*service.Service, *logBuffer) {
	lb := &logBuffer{}
	log := slog.New(slog.NewTextHandler(lb, nil))
	svc, err := service.New(st, memindex.New(), hash.New(dims), service.WithLogger(log), service.WithMaxTextBytes(1000))
	if err != nil {
		panic(err) // the options are constants
	}
	return svc, lb
}

// unit returns a vector of dims with a one at i.
func unit(i int) []float32 {
	v := make([]float32, dims)
	v[i] = 1
	return v
}

// count is the number of memories in workspace ws.
func count(t *testing.T, st memoryd.MemoryStore, ws string) int {
	t.Helper()
	p, err := st.ListMemories(context.Background(), ws, memoryd.ListQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

// nest returns metadata whose value nests depth levels in all (the
// metadata object itself is level 1).
func nest(depth int) map[string]any {
	md := map[string]any{"leaf": true}
	for i := 1; i < depth; i++ {
		md = map[string]any{"a": md}
	}
	return md
}

// eventField returns a string field of an event payload.
func eventField(t *testing.T, payload []byte, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[field].(string)
	return s
}

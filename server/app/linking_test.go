package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryd/memoryd/server/vector/memindex"
)

// After a load with many vectors to link, the operator is told, then
// shown progress, then told it is done; a small load says nothing.
func TestReportLinking(t *testing.T) {
	idx := memindex.New()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 8000 {
		v := make([]float32, 16)
		for j := range v {
			v[j] = rng.Float32() - 0.5
		}
		if err := idx.Upsert("w", fmt.Sprint("m", i), v); err != nil {
			t.Fatal(err)
		}
	}
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	done := make(chan struct{})
	go func() { reportLinking(context.Background(), idx, log, 20*time.Millisecond); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("still reporting after 2 minutes: %s", buf.String())
	}
	out := buf.String()
	first, _, _ := strings.Cut(out, "\n")
	if !strings.Contains(first, "linking in the background") || !strings.Contains(out, "msg=\"vector index: linked\" vectors=8000") {
		t.Fatalf("want a start line and a done line with 8000 vectors, got:\n%s", out)
	}
	if un, _ := idx.Unlinked(); un >= linkReportAbove/5 {
		t.Fatalf("reported done with %d unlinked", un)
	}

	small := memindex.New()
	small.Upsert("w", "one", []float32{1, 0})
	buf.Reset()
	reportLinking(context.Background(), small, log, time.Millisecond)
	if buf.String() != "" {
		t.Fatalf("a small index logged: %s", buf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the reporter's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/server/vector/memindex"
)

// After a load with many vectors to link, the operator is told, and told
// again when it is done; a small load says nothing.
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
	// Run here, not beside the test: it returns once linking has caught
	// up (a linker that never does hangs it until go test's timeout).
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	reportLinking(context.Background(), idx, log, 20*time.Millisecond)
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

package weaviate

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/memoryd/memoryd/internal/weaviatetest"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/vector/vectortest"
)

func TestMain(m *testing.M) { weaviatetest.Main(m) }

var classSeq atomic.Int64

// newIndex opens an index on a collection of the test's own on the shared
// server, dropped when the test ends.
func newIndex(t *testing.T, cfg Config) *Index { return newIndexTB(t, cfg) }

func newIndexTB(t testing.TB, cfg Config) *Index {
	t.Helper()
	srv := weaviatetest.Shared(t)
	cfg.Host, cfg.GRPCHost = srv.Host(), srv.GRPCHost()
	if cfg.Class == "" {
		cfg.Class = fmt.Sprintf("Test%d", classSeq.Add(1))
	}
	x, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("weaviate log (%s):\n%s", srv.LogPath(), srv.LogTail(40))
		}
		_ = x.client.Schema().ClassDeleter().WithClassName(cfg.Class).Do(t.Context())
	})
	return x
}

func TestContract(t *testing.T) {
	vectortest.Run(t, func(t *testing.T) memoryd.VectorIndex { return newIndex(t, Config{}) })
}

func TestContractFixedDims(t *testing.T) {
	vectortest.Run(t, func(t *testing.T) memoryd.VectorIndex { return newIndex(t, Config{Dims: vectortest.Dims}) })
}

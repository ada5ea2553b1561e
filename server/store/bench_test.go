package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/store"
)

// BenchmarkPutMemory measures creates through the store alone (one
// transaction each: row, tags, full-text, event), 16 writers at once.
func BenchmarkPutMemory(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			dsn := "sqlite://" + filepath.Join(b.TempDir(), "bench.db")
			if db == "postgres" {
				dsn = pgtest.DSN(b)
			}
			s, err := store.Open(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			vec := make([]float32, 512)
			for i := range vec {
				vec[i] = float32(i%7) / 7
			}
			b.SetParallelism(8) // 16 goroutines on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := memoryd.NewMemoryID()
					m := &memoryd.Memory{ID: id, Workspace: "w", Text: "the quick brown fox jumps over the lazy dog again and again",
						Metadata: map[string]any{"type": "note", "tags": []any{"a", "b"}}, Embedding: vec,
						CreatedAt: time.Now(), UpdatedAt: time.Now()}
					_, _, err := s.PutMemory(context.Background(), m, func(*memoryd.Memory) (*memoryd.Event, error) {
						return &memoryd.Event{Workspace: "w", Type: memoryd.EventMemoryCreated, Payload: []byte(`{"id":"` + id + `"}`)}, nil
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
		})
	}
}

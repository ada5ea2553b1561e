package store_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
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
			s := openBench(b, db)
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

// BenchmarkGetMemoriesMeta measures a search's read of its hits: 10
// memories by id out of 2,000, without their embeddings, from 2
// goroutines at once (a search's wall time includes it; on PostgreSQL
// the server's parsing and planning of it too).
func BenchmarkGetMemoriesMeta(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			ctx := context.Background()
			s := openBench(b, db)
			ids := make([]string, 2000)
			for i := range ids {
				ids[i] = memoryd.NewMemoryID()
				m := &memoryd.Memory{ID: ids[i], Workspace: "w", Text: "the quick brown fox jumps over the lazy dog",
					Metadata: map[string]any{"type": "note"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
				if _, _, err := s.PutMemory(ctx, m, func(*memoryd.Memory) (*memoryd.Event, error) {
					return &memoryd.Event{Workspace: "w", Type: memoryd.EventMemoryCreated, Payload: []byte(`{}`)}, nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					from := int(next.Add(10)) % (len(ids) - 10)
					got, err := s.GetMemoriesMeta(ctx, "w", ids[from:from+10])
					if err != nil || len(got) != 10 {
						b.Errorf("%d memories, %v; want 10", len(got), err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}

// openBench opens a store on a fresh database of engine db ("sqlite" or
// "postgres"), closed when b ends.
func openBench(b *testing.B, db string) *store.Store {
	dsn := "sqlite://" + filepath.Join(b.TempDir(), "bench.db")
	if db == "postgres" {
		dsn = pgtest.DSN(b)
	}
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

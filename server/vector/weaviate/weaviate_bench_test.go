package weaviate

import (
	"testing"

	"github.com/memoryd/memoryd/server/vector/vectortest"
)

// Per-call costs against a local Weaviate (go test -run '^$' -bench .
// ./server/vector/weaviate): a k=10 search over 5000 vectors of 256
// dimensions, unfiltered, by an id list of 500, and upserts one at a time
// and in batches.
const benchN, benchDims = 5000, 256

func benchIndex(b *testing.B) (*Index, [][]float32) {
	x := newIndexTB(b, Config{})
	vecs := vectortest.Vectors(51, benchN, benchDims)
	if err := x.UpsertBatch("ws-a", ids(benchN), vecs); err != nil {
		b.Fatal(err)
	}
	return x, vecs
}

func BenchmarkSearch(b *testing.B) {
	x, vecs := benchIndex(b)
	b.ResetTimer()
	for i := range b.N {
		if _, err := x.Search("ws-a", vecs[i%benchN], 10, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearchIDs500(b *testing.B) {
	x, vecs := benchIndex(b)
	list := ids(benchN)[:500]
	b.ResetTimer()
	for i := range b.N {
		if _, err := x.SearchIDs("ws-a", vecs[i%benchN], 10, list); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpsertOne(b *testing.B) {
	x := newIndexTB(b, Config{})
	vecs := vectortest.Vectors(52, 1000, benchDims)
	b.ResetTimer()
	for i := range b.N {
		if err := x.Upsert("ws-a", vectortest.ID(i%1000), vecs[i%1000]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpsertBatch200(b *testing.B) {
	x := newIndexTB(b, Config{})
	vecs := vectortest.Vectors(53, 200, benchDims)
	list := ids(200)
	b.ResetTimer()
	for range b.N {
		if err := x.UpsertBatch("ws-a", list, vecs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*200), "µs/vector")
}

package memindex

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

const (
	benchDim      = 512
	benchClusters = 1000
	benchSpread   = 0.6
	benchLatencyQ = 1000 // queries timed for p50/p99
	benchRecallQ  = 200  // of which checked against the exact ranking
)

// BenchmarkIndex builds an index of n clustered 512-d vectors (concurrent
// upserts from GOMAXPROCS goroutines) and times single queries, k=10,
// reporting build time, p50/p99 latency and recall@10 against the exact
// scan. Run with -benchtime 1x: one iteration is a full build.
func BenchmarkIndex(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchIndex(b, n, nil) })
	}
}

// BenchmarkFiltered is the same at 100k with an allow filter keeping 10%
// and 0.5% of the ids (the graph path and the exact fallback).
func BenchmarkFiltered(b *testing.B) {
	for _, every := range []int{10, 200} {
		allow := func(id string) bool { return mustAtoi(id)%every == 0 }
		b.Run(fmt.Sprintf("n=100000/keep=1in%d", every), func(b *testing.B) { benchIndex(b, 100_000, allow) })
	}
}

// BenchmarkExactScan times the exact scan at the default threshold, the
// size where the graph takes over.
func BenchmarkExactScan(b *testing.B) {
	all := clustered(31, DefaultExactBelow+100, benchDim, benchClusters/50, benchSpread)
	x := New()
	load(b, x, "w", all[:DefaultExactBelow-1])
	queries := all[DefaultExactBelow:]
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		mustSearch(b, x, "w", queries[i%len(queries)], 10, nil)
	}
}

func benchIndex(b *testing.B, n int, allow func(string) bool) {
	all := clustered(30, n+benchLatencyQ, benchDim, benchClusters, benchSpread)
	vecs, queries := all[:n], all[n:]
	var x *Index
	var build time.Duration
	for b.Loop() {
		x = New()
		start := time.Now()
		parallelLoad(b, x, vecs)
		build = time.Since(start)
	}
	b.StopTimer()
	lat := make([]time.Duration, len(queries))
	var recall float64
	for i, q := range queries {
		start := time.Now()
		hits := mustSearch(b, x, "w", q, 10, allow)
		lat[i] = time.Since(start)
		if i < benchRecallQ {
			recall += recallAt(hits, exactOf(x, q, allow))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(recall/benchRecallQ, "recall@10")
	b.ReportMetric(0, "ns/op") // one op is a whole build; the metrics above say more
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// parallelLoad upserts vecs as itoa(i) from GOMAXPROCS goroutines, the way
// concurrent writers fill the index.
func parallelLoad(b testing.TB, x *Index, vecs [][]float32) {
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(vecs); i += workers {
				if err := x.Upsert("w", itoa(i), vecs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// exactOf is the exact ranking from the index's own scan (its agreement
// with a brute-force reference is what TestExactIsExact checks).
func exactOf(x *Index, q []float32, allow func(string) bool) []memoryd.Scored {
	s := x.space("w", false)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.exact(unit(q), 10, allow)
}

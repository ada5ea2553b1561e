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
// upserts from GOMAXPROCS goroutines) and times single queries, k=10.
// Reported: build wall and CPU seconds, query latency p50/p99 in wall
// time and in the querying thread's CPU time (immune to the machine being
// shared), recall@10 against the exact scan. Run with -benchtime 1x: one
// iteration is a full build.
func BenchmarkIndex(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchIndex(b, n, nil) })
	}
}

// BenchmarkFiltered is the same at 100k with an allow filter keeping 10%
// and 0.5% of the ids (the filtered graph search and the exact fallback).
func BenchmarkFiltered(b *testing.B) {
	for _, every := range []int{10, 200} {
		allow := func(id string) bool { return mustAtoi(id)%every == 0 }
		b.Run(fmt.Sprintf("n=100000/keep=1in%d", every), func(b *testing.B) { benchIndex(b, 100_000, allow) })
	}
}

// BenchmarkExactScan times the exact scan just below the default
// threshold, the size where the graph takes over.
func BenchmarkExactScan(b *testing.B) {
	n := DefaultExactBelow - 1
	all := clustered(31, n+benchLatencyQ, benchDim, benchClusters, benchSpread)
	x := New()
	load(b, x, "w", all[:n])
	for b.Loop() {
		reportLatency(b, x, all[n:], nil, 0)
	}
}

func benchIndex(b *testing.B, n int, allow func(string) bool) {
	all := clustered(30, n+benchLatencyQ, benchDim, benchClusters, benchSpread)
	vecs, queries := all[:n], all[n:]
	var x *Index
	for b.Loop() {
		x = New()
		start, cpu := time.Now(), processCPU()
		parallelLoad(b, x, vecs)
		b.ReportMetric(time.Since(start).Seconds(), "build-s")
		b.ReportMetric((processCPU() - cpu).Seconds(), "build-cpu-s")
	}
	b.StopTimer()
	reportLatency(b, x, queries, allow, benchRecallQ)
	b.ReportMetric(0, "ns/op") // one op is a whole build; the metrics say more
}

// reportLatency runs queries one at a time on one locked OS thread and
// reports latency percentiles and, over the first recallQ, recall@10.
func reportLatency(b *testing.B, x *Index, queries [][]float32, allow func(string) bool, recallQ int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wall := make([]time.Duration, len(queries))
	cpu := make([]time.Duration, len(queries))
	var recall float64
	for i, q := range queries {
		start, c := time.Now(), threadCPU()
		hits := mustSearch(b, x, "w", q, 10, allow)
		cpu[i], wall[i] = threadCPU()-c, time.Since(start)
		if i < recallQ {
			recall += recallAt(hits, exactOf(x, q, allow))
		}
	}
	slices.Sort(wall)
	slices.Sort(cpu)
	b.ReportMetric(ms(wall[len(wall)/2]), "p50-ms")
	b.ReportMetric(ms(wall[len(wall)*99/100]), "p99-ms")
	b.ReportMetric(ms(cpu[len(cpu)/2]), "p50-cpu-ms")
	b.ReportMetric(ms(cpu[len(cpu)*99/100]), "p99-cpu-ms")
	if recallQ > 0 {
		b.ReportMetric(recall/float64(recallQ), "recall@10")
	}
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

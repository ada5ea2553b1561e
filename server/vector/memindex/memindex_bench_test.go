package memindex

import (
	"fmt"
	"os"
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

// built caches indexes by data set and size, so the filtered benchmarks
// reuse the 100k build.
var built = map[string]*benchSet{}

type benchSet struct {
	x       *Index
	queries [][]float32
}

// BenchmarkIndex builds an index of n clustered 512-d vectors (1000
// gaussian clusters, concurrent upserts from GOMAXPROCS goroutines) and
// times single queries, k=10. Reported: build wall and CPU seconds, query
// latency p50/p99 in wall time and in the querying thread's CPU time
// (immune to the machine being shared), recall@10 against the exact scan.
// Run with -benchtime 1x: one iteration is a full build.
func BenchmarkIndex(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			benchBuild(b, "clustered", n, func(n int) [][]float32 {
				return clustered(30, n, benchDim, benchClusters, benchSpread)
			})
		})
	}
}

// BenchmarkIndexHard is BenchmarkIndex on harder data: overlapping
// clusters in a 48-d latent space (latentClusters), where neighbours cross
// cluster borders and recall is not a given.
func BenchmarkIndexHard(b *testing.B) {
	b.Run("n=100000", func(b *testing.B) {
		benchBuild(b, "hard", 100_000, func(n int) [][]float32 {
			return latentClusters(30, n, benchDim, 1, 2)
		})
	})
}

// BenchmarkFiltered queries the 100k clustered index with an allow filter
// (map-backed, like a caller's id set) keeping 1 in 4, 10 and 200 ids:
// the filtered graph search and, below f~0.13, the exact scan.
func BenchmarkFiltered(b *testing.B) {
	set := built["clustered/100000"]
	if set == nil {
		b.Skip("needs BenchmarkIndex/n=100000 in the same run")
	}
	for _, every := range []int{4, 10, 200} {
		keep := map[string]bool{}
		for i := 0; i < 100_000; i += every {
			keep[itoa(i)] = true
		}
		allow := func(id string) bool { return keep[id] }
		b.Run(fmt.Sprintf("n=100000/keep=1in%d", every), func(b *testing.B) {
			for b.Loop() {
				reportLatency(b, set.x, set.queries, allow, benchRecallQ)
			}
		})
	}
}

// BenchmarkEfSearch sweeps the search breadth on the hard 100k index:
// the recall/latency trade behind DefaultEfSearch.
func BenchmarkEfSearch(b *testing.B) {
	set := built["hard/100000"]
	if set == nil {
		b.Skip("needs BenchmarkIndexHard in the same run")
	}
	cfg := set.x.cfg
	defer func(ef int) { cfg.efSearch = ef }(cfg.efSearch)
	for _, ef := range []int{64, 96, 128, 200, 256} {
		b.Run(fmt.Sprintf("hard/ef=%d", ef), func(b *testing.B) {
			cfg.efSearch = ef
			for b.Loop() {
				reportLatency(b, set.x, set.queries, nil, benchRecallQ)
			}
		})
	}
}

// BenchmarkEfConstruction builds the hard 100k set with several
// construction breadths and reports build CPU (what the linker spends)
// and query latency/recall at the default efSearch: the trade behind
// DefaultEfConstruction. Slow (one full build per breadth, ~5 min on 2
// cores), so it only runs with MEMINDEX_EFC=1 in the environment.
func BenchmarkEfConstruction(b *testing.B) {
	if os.Getenv("MEMINDEX_EFC") == "" {
		b.Skip("set MEMINDEX_EFC=1 to run")
	}
	all := latentClusters(30, 100_000+benchLatencyQ, benchDim, 1, 2)
	vecs, queries := all[:100_000], all[100_000:]
	for _, efc := range []int{64, 96, 128} {
		b.Run(fmt.Sprintf("hard/n=100000/efc=%d", efc), func(b *testing.B) {
			var x *Index
			for b.Loop() {
				x = New(WithHNSW(0, efc, 0))
				cpu := processCPU()
				parallelLoad(b, x, vecs)
				b.ReportMetric((processCPU() - cpu).Seconds(), "build-cpu-s")
			}
			b.StopTimer()
			reportLatency(b, x, queries, nil, benchRecallQ)
		})
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

func benchBuild(b *testing.B, name string, n int, gen func(n int) [][]float32) {
	all := gen(n + benchLatencyQ)
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
	built[fmt.Sprintf("%s/%d", name, n)] = &benchSet{x, queries}
	reportLatency(b, x, queries, nil, benchRecallQ)
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
	b.ReportMetric(0, "ns/op") // one op is a whole run; the metrics say more
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// parallelLoad upserts vecs as itoa(i) from GOMAXPROCS goroutines, the way
// concurrent writers fill the index, and waits for background rebuilds.
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
	x.wait()
}

// exactOf is the exact ranking from the index's own scan (its agreement
// with a brute-force reference is what TestExactIsExact checks).
func exactOf(x *Index, q []float32, allow func(string) bool) []memoryd.Scored {
	s := x.space("w", false)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.exact(unit(q), 10, allow)
}

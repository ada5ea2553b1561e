package memindex

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// upsertPrefill is the workspace size BenchmarkUpsert writes into: ten
// times the default threshold, so every upsert takes the graph-mode path.
const upsertPrefill = 20_000

var (
	upsertIndex *Index      // built once, shared by BenchmarkUpsert's runs
	upsertPool  [][]float32 // vectors the upserts copy from
	upsertNext  atomic.Int64
)

// BenchmarkUpsert times concurrent upserts of new 512-d vectors into a
// workspace already in graph mode, the index's share of an HTTP create.
// One op is one upsert; 8 goroutines write at once, as concurrent
// requests do. cpu-ns/op is the whole process's CPU over the timed
// window per upsert, so with linker=on it includes the background
// linking done meanwhile; linker=off holds the linker back to show the
// write path alone. Run with a fixed count, e.g. -bench Upsert
// -benchtime 20000x: every op adds a vector, so the default 1s target
// would grow the index without bound.
func BenchmarkUpsert(b *testing.B) {
	if upsertIndex == nil {
		all := clustered(32, upsertPrefill+4096, benchDim, benchClusters, benchSpread)
		upsertIndex = New()
		parallelLoad(b, upsertIndex, all[:upsertPrefill])
		upsertPool = all[upsertPrefill:]
	}
	x := upsertIndex
	for _, on := range []bool{true, false} {
		b.Run(fmt.Sprintf("n=%d/linker=%s", upsertPrefill, map[bool]string{true: "on", false: "off"}[on]), func(b *testing.B) {
			x.cfg.linkOff.Store(!on)
			defer resumeLinking(x)
			benchUpserts(b, x)
		})
	}
}

func benchUpserts(b *testing.B, x *Index) {
	b.SetParallelism(4)
	cpu := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		v := make([]float32, benchDim)
		for pb.Next() {
			i := upsertNext.Add(1)
			// A distinct vector per op: a pool vector, nudged.
			copy(v, upsertPool[int(i)%len(upsertPool)])
			v[int(i)%benchDim] += 0.05
			if err := x.Upsert("w", "u"+strconv.FormatInt(i, 10), v); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkLinker measures the background linker's CPU use and pace on a
// 20k 512-d workspace: with a 3000-vector tail (duty-cycled, default
// 1/4 core) and a 30000-vector tail (flat out). Reported: cores used by
// the process over 2 s while nothing else runs, and vectors linked per
// second.
func BenchmarkLinker(b *testing.B) {
	all := clustered(33, upsertPrefill+30_000, benchDim, benchClusters, benchSpread)
	for _, tail := range []int{3000, 30_000} {
		for _, writing := range []bool{true, false} {
			b.Run(fmt.Sprintf("n=%d/tail=%d/writing=%v", upsertPrefill, tail, writing), func(b *testing.B) {
				for b.Loop() {
					x := New()
					parallelLoad(b, x, all[:upsertPrefill])
					x.cfg.linkOff.Store(true)
					for i := upsertPrefill; i < upsertPrefill+tail; i++ {
						if err := x.Upsert("w", itoa(i), all[i]); err != nil {
							b.Fatal(err)
						}
					}
					resumeLinking(x)
					cpu, wall := processCPU(), time.Now()
					// While writes keep coming the linker holds to its
					// budget; once they pause it links flat out.
					for i := range 20 {
						time.Sleep(100 * time.Millisecond)
						if writing {
							if err := x.Upsert("w", itoa(i), all[i]); err != nil {
								b.Fatal(err)
							}
						}
					}
					left := tailOf(x, "w")
					secs := time.Since(wall).Seconds()
					b.ReportMetric((processCPU()-cpu).Seconds()/secs, "cores")
					b.ReportMetric(float64(tail-left)/secs, "linked/s")
					x.cfg.linkOff.Store(true) // let the linker stop
					x.wait()
				}
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

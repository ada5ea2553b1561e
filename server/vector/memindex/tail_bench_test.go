package memindex

import (
	"fmt"
	"testing"
)

// BenchmarkTailSearch times searches of the 100k clustered index while
// 5k and then 20k further vectors wait unlinked (the linker held off),
// so each search also scans that tail exactly: the cost behind
// DefaultLinkSlowTail and DefaultLinkFastTail. Recall is against the
// exact ranking of all 105k/120k vectors. The tail is deleted afterwards.
func BenchmarkTailSearch(b *testing.B) {
	set := built["clustered/100000"]
	if set == nil {
		b.Skip("needs BenchmarkIndex/n=100000 in the same run")
	}
	x := set.x
	const base = 100_000 + benchLatencyQ // the vectors benchBuild generated
	// Same seed, longer run: the extra vectors come from the same clusters.
	extra := clustered(30, base+20_000, benchDim, benchClusters, benchSpread)[base:]
	x.cfg.linkOff.Store(true)
	defer func() {
		for i := range extra {
			_ = x.Delete("w", fmt.Sprintf("t%d", i))
		}
		resumeLinking(x)
		x.wait()
	}()
	done := 0
	for _, tail := range []int{5_000, 20_000} {
		for ; done < tail; done++ {
			if err := x.Upsert("w", fmt.Sprintf("t%d", done), extra[done]); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("n=100000/tail=%d", tail), func(b *testing.B) {
			if got := tailOf(x, "w"); got != tail {
				b.Fatalf("tail %d, want %d", got, tail)
			}
			for b.Loop() {
				reportLatency(b, x, set.queries, nil, benchRecallQ)
			}
		})
	}
}

// BenchmarkScan compares scanning 50k 512-d vectors (more than the CPU
// caches hold, like a long tail) by their 8-bit codes, as scans do, with
// scoring every full vector. Reported per vector scanned.
func BenchmarkScan(b *testing.B) {
	const n = 50_000
	all := clustered(34, n+100, benchDim, benchClusters, benchSpread)
	x := New(WithExactBelow(n + 1))
	load(b, x, "w", all[:n])
	s := x.space("w", false)
	queries := all[n:]
	b.Run("codes", func(b *testing.B) {
		i := 0
		for b.Loop() {
			t := topK{k: 10}
			s.scan(unit(queries[i%len(queries)]), 0, n, nil, &t)
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/vector")
	})
	b.Run("floats", func(b *testing.B) {
		i := 0
		for b.Loop() {
			t := topK{k: 10}
			q := unit(queries[i%len(queries)])
			for slot := range int32(n) {
				t.offer(dot(q, s.vec(slot)), slot)
			}
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/vector")
	})
}

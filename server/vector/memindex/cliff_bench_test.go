package memindex

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCliff is a bulk load followed by searches while the graph
// links: 100k overlapping-cluster vectors written by 2 writers as fast as
// they go (the linker holds back meanwhile, so most arrive unlinked), then
// 2 clients searching back to back until the linker has caught up and for
// 10 s after. Reported: search p50/p99 over the linking window and over
// the settled window, their ratio, and the linking window's length.
//
//	go test -run '^$' -bench Cliff -benchtime 1x -timeout 30m ./server/vector/memindex/
func BenchmarkCliff(b *testing.B) {
	all := clustered(41, overlapN+overlapQueries, benchDim, overlapClusters, overlapSpread)
	vecs, queries := all[:overlapN], all[overlapN:]
	for b.Loop() {
		x := New()
		start := time.Now()
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for i := w; i < len(vecs); i += 2 {
					if err := x.Upsert("w", itoa(i), vecs[i]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(time.Since(start).Seconds(), "load-s")
		tail, _ := x.Unlinked()
		b.ReportMetric(float64(tail), "tail-at-end")
		linking, settled, took := searchUntilLinked(b, x, queries, 10*time.Second)
		b.ReportMetric(took.Seconds(), "linking-s")
		report := func(name string, lat []time.Duration) {
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), name+"-p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), name+"-p99-ms")
		}
		report("linking", linking)
		report("settled", settled)
		b.ReportMetric(float64(linking[len(linking)*99/100])/float64(settled[len(settled)*99/100]), "p99-ratio")
		fmt.Printf("searches while linking %d, settled %d\n", len(linking), len(settled))
	}
	b.ReportMetric(0, "ns/op")
}

// searchUntilLinked searches from 2 clients until x has no unlinked
// vectors, then for settle more, and returns the latencies of each part.
func searchUntilLinked(b *testing.B, x *Index, queries [][]float32, settle time.Duration) (linking, settled []time.Duration, took time.Duration) {
	start := time.Now()
	var linkedAt atomic.Int64 // unix nanos, 0 while linking
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range 2 {
		wg.Go(func() {
			for i := c; ; i += 2 {
				done := linkedAt.Load()
				if done != 0 && time.Since(time.Unix(0, done)) > settle {
					return
				}
				t := time.Now()
				if _, err := x.Search("w", queries[i%len(queries)], 10, nil); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t)
				mu.Lock()
				if done == 0 {
					linking = append(linking, d)
				} else {
					settled = append(settled, d)
				}
				mu.Unlock()
			}
		})
	}
	for {
		if tail, _ := x.Unlinked(); tail == 0 {
			linkedAt.Store(time.Now().UnixNano())
			took = time.Since(start)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	return linking, settled, took
}

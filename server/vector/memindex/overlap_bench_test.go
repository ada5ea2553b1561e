package memindex

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Overlapping clusters: 10,000 unit centres in 512-d with noise 1.6 times
// the centre's norm, about 10 vectors a cluster. A point's cosine to its
// centre is ~0.5 and to a cluster mate ~0.3, while unrelated points sit
// near 0 +- 0.05: the neighbourhoods are real but shallow, so the top-10
// mixes cluster mates with near-misses from everywhere, which is what
// defeats a narrow graph search. This is the shape of the data the
// through-the-API recall measurement used.
const (
	overlapN        = 100_000
	overlapClusters = 10_000
	overlapSpread   = 1.6
	overlapQueries  = 1000
	overlapClients  = 2
)

// BenchmarkOverlap builds the overlapping-clusters set (100k x 512) and,
// side by side in one run, searches its 1,000 queries at 2 concurrent
// clients with the exact scan and with the graph at several search
// breadths (ef), reporting QPS, latency and recall@10 against the exact
// ranking. The build uses the default M and efConstruction unless
// MEMINDEX_HNSW="M,efConstruction" says otherwise; MEMINDEX_EF lists the
// breadths ("64,128,..."), MEMINDEX_N the size (clusters stay at ten
// vectors each); the last row searches at the index's setting, as the
// server does. Run with -benchtime 1x:
//
//	go test -run '^$' -bench Overlap -benchtime 1x -timeout 30m ./server/vector/memindex/
func BenchmarkOverlap(b *testing.B) {
	n := envList(b, "MEMINDEX_N", []int{overlapN})[0]
	all := clustered(41, n+overlapQueries, benchDim, n/10, overlapSpread)
	vecs, queries := all[:n], all[n:]
	m, efc := envPair(b, "MEMINDEX_HNSW")
	efs := envList(b, "MEMINDEX_EF", []int{64, 128, 256, 384, 512, 768})
	var x *Index
	b.Run(fmt.Sprintf("build/M=%d/efc=%d", or(m, DefaultM), or(efc, DefaultEfConstruction)), func(b *testing.B) {
		for b.Loop() {
			x = New(WithHNSW(m, efc, 0))
			start, cpu := time.Now(), processCPU()
			parallelLoad(b, x, vecs)
			b.ReportMetric(time.Since(start).Seconds(), "build-s")
			b.ReportMetric((processCPU() - cpu).Seconds(), "build-cpu-s")
		}
		b.ReportMetric(0, "ns/op")
	})
	truth := make([][]memoryd.Scored, len(queries))
	b.Run("exact", func(b *testing.B) {
		for b.Loop() {
			reportClients(b, x, queries, ExactEf, truth)
		}
	})
	for _, ef := range efs {
		b.Run(fmt.Sprintf("ef=%d", ef), func(b *testing.B) {
			for b.Loop() {
				reportClients(b, x, queries, ef, truth)
			}
		})
	}
	// The index's setting, as the server searches: under efAtSize vectors
	// its breadth shrinks with the size (sizedEf).
	b.Run(fmt.Sprintf("setting=%d/sized=%d", DefaultEfSearch, sizedEf(DefaultEfSearch, 10, int64(n))), func(b *testing.B) {
		for b.Loop() {
			reportClients(b, x, queries, 0, truth)
		}
	})
}

// reportClients runs queries (k=10) spread over overlapClients goroutines
// and reports queries a second, wall latency p50/p99 and, against truth,
// recall@10. With ef == ExactEf it fills truth instead.
func reportClients(b *testing.B, x *Index, queries [][]float32, ef int, truth [][]memoryd.Scored) {
	got := make([][]memoryd.Scored, len(queries))
	lat := make([]time.Duration, len(queries))
	var wg sync.WaitGroup
	start := time.Now()
	for c := range overlapClients {
		wg.Go(func() {
			for i := c; i < len(queries); i += overlapClients {
				t := time.Now()
				hits, err := x.SearchEf("w", queries[i], 10, ef, nil)
				lat[i] = time.Since(t)
				if err != nil {
					b.Error(err)
					return
				}
				got[i] = hits
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if ef == ExactEf {
		copy(truth, got)
	}
	var recall float64
	for i := range got {
		recall += recallAt(got[i], truth[i])
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(queries))/elapsed.Seconds(), "qps")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(recall/float64(len(got)), "recall@10")
	b.ReportMetric(0, "ns/op")
}

func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// envList reads a comma-separated list of integers from the environment.
// MEMINDEX_PATIENCE=off runs the searches without their early stop
// (graph.go's earlyStop), to measure what it saves.
func init() { noPatience = os.Getenv("MEMINDEX_PATIENCE") == "off" }

func envList(b *testing.B, name string, def []int) []int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

// envPair reads "a,b" from the environment (0, 0 when unset).
func envPair(b *testing.B, name string) (int, int) {
	v := envList(b, name, []int{0, 0})
	if len(v) != 2 {
		b.Fatalf("%s: want two integers", name)
	}
	return v[0], v[1]
}

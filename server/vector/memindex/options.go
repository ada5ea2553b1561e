package memindex

import (
	"runtime"
	"sync/atomic"
)

// Defaults, chosen with the probes behind memindex_bench_test.go and
// overlap_bench_test.go on 100k 512-d vectors. On tidy clustered data
// every setting reaches recall 1.0, and on overlapping clusters in a
// low-dimensional latent space M=24 and efConstruction=128 reach 0.96 at
// a search breadth of 128. Embeddings can be much harder: with thousands
// of small overlapping clusters in the full 512 dimensions
// (BenchmarkOverlap) a query's true top-10 mixes its few cluster mates
// with near-misses from anywhere, which no graph reaches cheaply, and
// ef=128 finds only ~0.86 of them. The default breadth is set for that
// data at 100,000 vectors (recall@10 >= 0.95; the exact scan is the
// ceiling; smaller workspaces reach it with fewer, sizedEf), and
// WithHNSW's efSearch or Index.SearchEf trade it back for speed where the
// data is easier. A larger M (32, efConstruction 200) reaches 0.95 at
// half the breadth, but doubles the linker's CPU per vector, which every
// write pays for in the background.
const (
	DefaultExactBelow     = 2000
	DefaultM              = 24
	DefaultEfConstruction = 128
	DefaultEfSearch       = 768

	// Background linking (link.go). Upserts store vectors unlinked and a
	// per-workspace goroutine links them into the graph; searches scan the
	// unlinked tail exactly meanwhile. Linking costs 0.5-2 ms of CPU per
	// vector at 100k (most of it dot products), so linking as fast as
	// writes arrive would take the CPU request handling needs: at 16
	// concurrent HTTP creates on 2 cores, synchronous inserts held
	// throughput near 800/s. A short tail is cheap to scan (a 512-d
	// vector scores in well under a microsecond; see BenchmarkTailSearch),
	// so up to DefaultLinkSlowTail unlinked vectors the linker takes only
	// DefaultLinkDuty of one core, leaving the rest to requests during a
	// burst and draining the tail after it ends (16k at ~1 ms each: about
	// a minute). As the tail grows its scan cost grows with it (measured
	// at 100k 512-d: a 5k tail added 0.3 ms to the 0.5 ms median search, a
	// 20k tail 1.5 ms, ~75 ns a vector, with full vectors; the scan now
	// reads 8-bit codes, a quarter of the bytes), so the duty rises linearly to a
	// full core at DefaultLinkFastTail, where a search scans ~4 ms of tail;
	// from there on the linker runs flat out, on all cores but one (on 2
	// cores, one). The tails are that long because linking competes with
	// the writes themselves: at 16 HTTP clients creating on 2 cores, a
	// 4k/20k ramp gave the linker 39% of the CPU and 2,635 creates/s,
	// 16k/50k 17% and 2,742/s. Under a steady write rate the tail settles
	// where the duty matches it: 500 writes/s at ~1 ms a link needs half
	// a core, which the ramp reaches at a ~28k tail. BenchmarkLinker
	// measures the budget.
	DefaultLinkDuty     = 0.25
	DefaultLinkSlowTail = 16_384
	DefaultLinkFastTail = 50_000

	// tombstoneFrac is the share of dead graph nodes above which a
	// workspace's graph is rebuilt from its live vectors.
	tombstoneFrac = 0.3
	// minTombstones keeps tiny graphs from rebuilding on every delete.
	minTombstones = 64
)

// ExactEf, as a search's breadth (Index.SearchEf, WithHNSW), ranks every
// vector exactly instead of searching the graph: recall 1 at the cost of
// a full scan.
const ExactEf = -1

type config struct {
	exactBelow     int
	m              int
	efConstruction int
	efSearch       int

	linkDuty           float64
	slowTail, fastTail int

	// hurry, while positive, has linkers run flat out on every core
	// (Index.wait: tests and benchmarks want the tail linked now).
	hurry atomic.Int32
	// linkOff keeps linkers from starting (tests that need a tail).
	linkOff atomic.Bool
}

// Option configures an Index.
type Option func(*config)

// WithExactBelow sets the workspace size below which searches scan every
// vector exactly; at n vectors and above a workspace keeps an HNSW graph.
// n <= 0 means always use the graph.
func WithExactBelow(n int) Option {
	return func(c *config) {
		if n < 0 {
			n = 0
		}
		c.exactBelow = n
	}
}

// WithHNSW sets the graph's degree M (level 0 keeps 2*M links), the
// construction breadth and the default search breadth (a search explores
// max(k, efSearch) candidates, an unfiltered one in a workspace under
// 100,000 vectors proportionally fewer, sizedEf; ExactEf makes every
// search exact). Values <= 0 keep the defaults.
func WithHNSW(m, efConstruction, efSearch int) Option {
	return func(c *config) {
		if m > 1 {
			c.m = m
		}
		if efConstruction > 0 {
			c.efConstruction = efConstruction
		}
		if efSearch > 0 || efSearch == ExactEf {
			c.efSearch = efSearch
		}
	}
}

// WithLinking sets the background linker's CPU budget: while at most
// slowTail vectors wait to be linked, it uses a duty fraction (0, 1] of
// one core; the fraction rises linearly to 1 at fastTail vectors, and
// from there it links on all cores but one. Out-of-range values keep the
// defaults; fastTail is raised to slowTail if below it.
func WithLinking(duty float64, slowTail, fastTail int) Option {
	return func(c *config) {
		if duty > 0 && duty <= 1 {
			c.linkDuty = duty
		}
		if slowTail >= 0 {
			c.slowTail = slowTail
		}
		if fastTail >= 0 {
			c.fastTail = fastTail
		}
	}
}

// duty is the share of one core the linker may use with tail unlinked
// vectors waiting; 1 means flat out.
func (c *config) duty(tail int) float64 {
	switch {
	case c.hurry.Load() > 0 || tail >= c.fastTail:
		return 1
	case tail <= c.slowTail:
		return c.linkDuty
	}
	f := float64(tail-c.slowTail) / float64(c.fastTail-c.slowTail)
	return c.linkDuty + f*(1-c.linkDuty)
}

// linkWorkers is how many goroutines link when running flat out: all
// cores but one, so requests keep a core, or all of them in a hurry.
func (c *config) linkWorkers() int {
	if c.hurry.Load() > 0 {
		return runtime.GOMAXPROCS(0)
	}
	return max(runtime.GOMAXPROCS(0)-1, 1)
}

func newConfig(opts []Option) *config {
	c := &config{
		exactBelow:     DefaultExactBelow,
		m:              DefaultM,
		efConstruction: DefaultEfConstruction,
		efSearch:       DefaultEfSearch,
		linkDuty:       DefaultLinkDuty,
		slowTail:       DefaultLinkSlowTail,
		fastTail:       DefaultLinkFastTail,
	}
	for _, o := range opts {
		o(c)
	}
	if c.efConstruction < c.m {
		c.efConstruction = c.m
	}
	c.fastTail = max(c.fastTail, c.slowTail)
	return c
}

package memindex

// Defaults. M=16/efConstruction=200 is the usual HNSW operating point; the
// search breadth is the knob that trades latency for recall (see the
// benchmarks in memindex_bench_test.go for the figures behind it).
const (
	DefaultExactBelow     = 2000
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 96

	// tombstoneFrac is the share of dead graph nodes above which a
	// workspace's graph is rebuilt from its live vectors.
	tombstoneFrac = 0.3
	// minTombstones keeps tiny graphs from rebuilding on every delete.
	minTombstones = 64
)

type config struct {
	exactBelow     int
	m              int
	efConstruction int
	efSearch       int
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
// max(k, efSearch) candidates). Values <= 0 keep the defaults.
func WithHNSW(m, efConstruction, efSearch int) Option {
	return func(c *config) {
		if m > 1 {
			c.m = m
		}
		if efConstruction > 0 {
			c.efConstruction = efConstruction
		}
		if efSearch > 0 {
			c.efSearch = efSearch
		}
	}
}

func newConfig(opts []Option) *config {
	c := &config{
		exactBelow:     DefaultExactBelow,
		m:              DefaultM,
		efConstruction: DefaultEfConstruction,
		efSearch:       DefaultEfSearch,
	}
	for _, o := range opts {
		o(c)
	}
	if c.efConstruction < c.m {
		c.efConstruction = c.m
	}
	return c
}

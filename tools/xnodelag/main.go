// Command xnodelag measures cross-node visibility lag: how long after node A
// has answered a create (201) node B's semantic search finds the memory.
// It creates memories on A at a fixed rate, each with a random vector of
// its own, and for a sample of them searches B by that vector (threshold
// 0.999, so only the memory itself matches) until it appears:
//
//	go run ./tools/xnodelag                         # starts PostgreSQL and two nodes itself
//	go run ./tools/xnodelag -rate 500 -duration 30s
//	go run ./tools/xnodelag -a http://h1:8080 -b http://h2:8080 -key $KEY -dims 512
//
// Started by the tool, the nodes run the memoryd built from this tree
// (or -memoryd) with the hash embedder on a throwaway PostgreSQL cluster
// (internal/pgtest, fsync on, synchronous_commit off, as tools/pgserver)
// or on -db. Probes search B too, so keep them sparse (-sample) next to
// the writes they measure; -probe-every is the lag's resolution.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

type options struct {
	a, b, key  string
	db, bin    string
	dims       int
	rate       float64
	duration   time.Duration
	warmup     time.Duration
	clients    int
	sample     int
	probeEvery time.Duration
	giveUp     time.Duration
	fast       bool
}

func main() {
	var o options
	flag.StringVar(&o.a, "a", "", "node A's base URL, without /api/v1 (empty: start both nodes)")
	flag.StringVar(&o.b, "b", "", "node B's base URL (with -a)")
	flag.StringVar(&o.key, "key", os.Getenv("MEMORYD_API_KEY"), "API key for -a and -b ($MEMORYD_API_KEY)")
	flag.StringVar(&o.db, "db", "", "PostgreSQL DSN for the started nodes (empty: a throwaway cluster)")
	flag.StringVar(&o.bin, "memoryd", "", "memoryd binary for the started nodes (empty: built from this tree)")
	flag.IntVar(&o.dims, "dims", 64, "vector dimension (the nodes' embedder's; started nodes use the hash embedder with it)")
	flag.Float64Var(&o.rate, "rate", 500, "creates a second on A")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long the measured creates run")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "creates at the same rate before, unmeasured")
	flag.IntVar(&o.clients, "clients", 64, "concurrent create requests at most (the rate falls short when they are all busy)")
	flag.IntVar(&o.sample, "sample", 20, "probe one create in this many")
	flag.DurationVar(&o.probeEvery, "probe-every", 5*time.Millisecond, "pause between a probe's searches on B")
	flag.DurationVar(&o.giveUp, "give-up", 30*time.Second, "a memory B has not found by then counts as never seen")
	flag.BoolVar(&o.fast, "fast", false, "throwaway cluster with fsync off, as the tests run it")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "xnodelag:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	if o.a == "" {
		c, err := startCluster(ctx, o)
		if err != nil {
			return err
		}
		defer c.stop()
		o.a, o.b, o.key = c.a, c.b, c.key
	}
	if o.b == "" || o.key == "" {
		return fmt.Errorf("-a needs -b and -key")
	}
	fmt.Printf("xnodelag: %.0f creates/s on A (%s) for %v after %v of warm-up, probing B (%s) for one in %d every %v\n",
		o.rate, o.a, o.duration, o.warmup, o.b, o.sample, o.probeEvery)
	r := measure(ctx, o)
	r.print(os.Stdout)
	if r.failed > 0 || r.unseen > 0 {
		return fmt.Errorf("%d creates failed, %d probed memories never seen on B", r.failed, r.unseen)
	}
	return nil
}

// Command xnodelag measures cross-node visibility lag: how long after node A
// has answered a create (201) node B's semantic search finds the memory.
// It creates memories on A at a fixed rate, each with a random vector of
// its own, and for a sample of them searches B by that vector (threshold
// 0.999, so only the memory itself matches) until it appears:
//
//	go run ./tools/xnodelag                         # starts PostgreSQL and two nodes itself
//	go run ./tools/xnodelag -rate 500 -duration 30s
//	go run ./tools/xnodelag -a http://h1:8080 -b http://h2:8080 -key $KEY -dims 512
//	go run ./tools/xnodelag -vectors weaviate -dims 512   # both nodes on a Weaviate it starts
//
// With -vectors the started nodes share a Weaviate: "weaviate" starts a
// throwaway one (internal/weaviatetest, the cached weaviate-server build),
// a weaviate:// URL names a running one. Two more modes need a Weaviate
// the tool started:
//
//	go run ./tools/xnodelag -vectors weaviate -mode drill
//	go run ./tools/xnodelag -vectors weaviate -mode reindex -n 100000 -dims 512
//
// drill: creates on A at -rate (100/s by default there) while Weaviate is
// stopped for -outage (60 s); it counts failed creates, the answers of a
// semantic search on A each second of the outage (want 503 with
// Retry-After), and, after Weaviate restarts, how long until its count
// for the workspace equals PostgreSQL's. reindex: fills -n memories
// through the API, deletes Weaviate's collection under the running
// nodes and times their automatic re-index, then stops the nodes,
// deletes it again and times `memoryd reindex`.
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
	"os/signal"
	"syscall"
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
	vectors    string
	mode       string
	outage     time.Duration
	n          int
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
	flag.StringVar(&o.vectors, "vectors", "", "started nodes' vector index: empty (in-process), weaviate (a throwaway one) or a weaviate:// URL")
	flag.StringVar(&o.mode, "mode", "lag", "lag, drill (Weaviate stopped under creates) or reindex (a wiped Weaviate re-indexed)")
	flag.DurationVar(&o.outage, "outage", 60*time.Second, "drill: how long Weaviate stays stopped")
	flag.IntVar(&o.n, "n", 100_000, "reindex: memories to fill before the wipe")
	flag.Parse()
	if o.mode == "drill" && !isSet("rate") {
		o.rate = 100
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "xnodelag:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	var c *cluster
	if o.a == "" {
		var err error
		if c, err = startCluster(ctx, o); err != nil {
			return err
		}
		defer c.stop()
		stopOnSignal(c.stop)
		o.a, o.b, o.key = c.a, c.b, c.key
	}
	if o.mode != "lag" && (c == nil || c.wv == nil) {
		return fmt.Errorf("-mode %s needs the nodes and Weaviate started by the tool (-vectors weaviate, no -a)", o.mode)
	}
	if o.b == "" || o.key == "" {
		return fmt.Errorf("-a needs -b and -key")
	}
	switch o.mode {
	case "drill":
		return drill(ctx, o, c)
	case "reindex":
		return reindexDrill(ctx, o, c)
	case "lag":
	default:
		return fmt.Errorf("-mode %q: want lag, drill or reindex", o.mode)
	}
	fmt.Printf("xnodelag (vectors %q): %.0f creates/s on A (%s) for %v after %v of warm-up, probing B (%s) for one in %d every %v\n",
		o.vectors, o.rate, o.a, o.duration, o.warmup, o.b, o.sample, o.probeEvery)
	r := measure(ctx, o)
	r.print(os.Stdout)
	if r.failed > 0 || r.unseen > 0 {
		return fmt.Errorf("%d creates failed, %d probed memories never seen on B", r.failed, r.unseen)
	}
	return nil
}

// isSet reports whether the flag was given on the command line.
func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// stopOnSignal runs stop and exits on Ctrl-C or SIGTERM, so what the tool
// started does not outlive it.
func stopOnSignal(stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stop()
		os.Exit(130)
	}()
}

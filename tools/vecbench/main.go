// Command vecbench compares, side by side in one run on one data set,
// semantic search through memoryd's API on its in-process index, through
// memoryd's API on Weaviate, and on that same Weaviate queried directly,
// with its Go client (GraphQL) and with the gRPC Search memoryd itself
// sends: queries a second at -clients concurrent clients,
// latency p50/p99 and recall@10 against an exact scan.
//
//	go run ./tools/vecbench                      # 100k x 512, 1,000 queries, 2 clients
//	go run ./tools/vecbench -n 20000 -queries 200 # smaller, quicker
//
// The data set is hard on purpose: -clusters overlapping clusters (unit
// centres, Gaussian noise -spread times the centre's norm), so the true
// top 10 mixes cluster mates with near-misses and recall is not
// trivially 1. The tool starts a throwaway PostgreSQL, a throwaway
// Weaviate (the cached weaviate-server build) and two memoryd nodes on
// one database: node W on Weaviate, node I on the in-process index. The
// vectors go in as client embeddings through node W's API; node I learns
// them from the shared log, so both answer from the same memories.
// -inproc-ef runs one node I per search ef (recall against speed); as
// --search-ef, each is the breadth at 100,000 vectors, and with -n below
// that the node searches proportionally fewer candidates (at least 64).
//
// "HTTP floor in front of Weaviate" is the least any service answering
// over HTTP in front of Weaviate costs on this machine: a server in the
// tool that decodes the same request body, sends Weaviate memoryd's query
// (weaviate.Index.SearchFilter) and encodes the ids. memoryd on Weaviate
// is judged against it as well as against Weaviate itself.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weaviate/weaviate-go-client/v4/weaviate/graphql"

	"github.com/memoryd/memoryd/internal/apiclient"
	"github.com/memoryd/memoryd/internal/vecdata"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

type options struct {
	n, queries, clients, dims, clusters, writers, batch int
	spread                                              float64
	bin                                                 string
	seed                                                uint64
	inprocEF                                            []int
	pgStatements                                        bool
	rounds                                              int
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 100_000, "memories")
	flag.IntVar(&o.queries, "queries", 1000, "search queries (drawn from the same clusters)")
	flag.IntVar(&o.clients, "clients", 2, "concurrent search clients")
	flag.IntVar(&o.dims, "dims", 512, "vector dimension")
	flag.IntVar(&o.clusters, "clusters", 10_000, "cluster centres")
	flag.Float64Var(&o.spread, "spread", 1.6, "noise norm relative to a centre's")
	flag.IntVar(&o.writers, "writers", 4, "concurrent create requests while loading")
	flag.IntVar(&o.batch, "batch", 500, "memories per POST /memory/batch while loading (0: one POST /memory each)")
	flag.StringVar(&o.bin, "memoryd", "", "memoryd binary (empty: built from this tree)")
	flag.Uint64Var(&o.seed, "seed", 41, "data set seed")
	flag.BoolVar(&o.pgStatements, "pg-statements", false, "load pg_stat_statements and show PostgreSQL's busiest statements per row")
	flag.IntVar(&o.rounds, "rounds", 1, "times every row is measured, in alternating order (later rows profit from what earlier ones warmed, or suffer from work the load left behind)")
	efs := flag.String("inproc-ef", "768", "comma-separated --search-ef values (the breadth at 100,000 vectors; fewer below), one in-process node each")
	flag.Parse()
	for _, f := range strings.Split(*efs, ",") {
		ef, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fmt.Fprintln(os.Stderr, "vecbench: -inproc-ef:", err)
			os.Exit(2)
		}
		o.inprocEF = append(o.inprocEF, ef)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "vecbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	all := vecdata.Clustered(o.seed, o.n+o.queries, o.dims, o.clusters, o.spread)
	vecs, queries := all[:o.n], all[o.n:]
	env, err := start(ctx, o)
	if err != nil {
		return err
	}
	defer env.stop()
	stopOnSignal(env.stop)
	if err := load(ctx, o, env, vecs); err != nil {
		return err
	}
	t0 := time.Now()
	truth := exact(vecs, queries, 10)
	fmt.Printf("exact top 10 of %d queries in %v\n", len(queries), time.Since(t0).Round(time.Millisecond))

	idx, err := weaviate.Open(weaviate.Config{Host: env.wv.Host(), GRPCHost: env.wv.GRPCHost()})
	if err != nil {
		return err
	}
	floor := httptest.NewServer(floorHandler(idx))
	defer floor.Close()
	api := &apiclient.Client{HTTP: httpClient(), Key: env.key}
	var runs []row
	for i, base := range env.inproc {
		runs = append(runs, row{fmt.Sprintf("memoryd API, in-process ef %d", o.inprocEF[i]),
			func(q []float32) ([]string, error) { return search(ctx, api, base, q) }})
	}
	runs = append(runs,
		row{"memoryd API, Weaviate", func(q []float32) ([]string, error) { return search(ctx, api, env.weav, q) }},
		row{"HTTP floor in front of Weaviate", func(q []float32) ([]string, error) { return search(ctx, api, floor.URL, q) }},
		row{"Weaviate direct (gRPC)", func(q []float32) ([]string, error) { return directGRPC(idx, q) }},
		row{"Weaviate direct (Go client)", func(q []float32) ([]string, error) { return direct(ctx, idx, q) }})
	runs = schedule(runs, o.rounds)
	fmt.Printf("\n%d x %d, %d clusters, spread %.1f; %d queries, k=10, %d clients\n", o.n, o.dims, o.clusters, o.spread, o.queries, o.clients)
	fmt.Printf("%-34s %8s %9s %9s %10s\n", "", "QPS", "p50", "p99", "recall@10")
	var stats *pgStats
	if o.pgStatements {
		if stats, err = openPGStats(ctx, env.db); err != nil {
			return err
		}
		defer stats.close()
	}
	return measureRows(ctx, o, runs, env.procs(), stats, queries, truth)
}

// measureRows runs and prints each row, then each process's CPU time per
// search in each; with stats, PostgreSQL's busiest statements after each.
func measureRows(ctx context.Context, o options, runs []row, procs []proc, stats *pgStats, queries [][]float32, truth [][]string) error {
	cpu := make([][]time.Duration, len(runs))
	for i, r := range runs {
		if stats != nil {
			if err := stats.reset(ctx); err != nil {
				return err
			}
		}
		meter := newCPUMeter(procs)
		res, err := measure(queries, truth, o.clients, r.search)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		cpu[i] = meter.perOp(len(queries))
		fmt.Printf("%-34s %8.1f %9v %9v %10.4f\n", r.name, res.qps, res.p50, res.p99, res.recall)
		if stats != nil {
			if err := stats.print(ctx, len(queries)); err != nil {
				return err
			}
		}
	}
	printCPU(procs, runs, cpu)
	return nil
}

// printCPU shows each process's CPU time per search in each row: where
// a row's time goes besides waiting, since the processes share the
// machine's cores.
func printCPU(procs []proc, runs []row, cpu [][]time.Duration) {
	fmt.Printf("\nCPU time per search (ms)          ")
	for _, p := range procs {
		fmt.Printf(" %9s", p.name)
	}
	fmt.Println()
	for i, r := range runs {
		fmt.Printf("%-34s", r.name)
		for _, d := range cpu[i] {
			fmt.Printf(" %9.2f", float64(d.Microseconds())/1000)
		}
		fmt.Println()
	}
}

// schedule repeats runs rounds times, every other round in reverse, so
// that no row always runs first or last; with more than one round each
// name ends in its round.
func schedule(runs []row, rounds int) []row {
	if rounds <= 1 {
		return runs
	}
	var out []row
	for r := 1; r <= rounds; r++ {
		for i := range runs {
			j := i
			if r%2 == 0 {
				j = len(runs) - 1 - i
			}
			out = append(out, row{fmt.Sprintf("%s #%d", runs[j].name, r), runs[j].search})
		}
	}
	return out
}

// row is one row of the table: a way to search.
type row struct {
	name   string
	search func(q []float32) ([]string, error)
}

// floorHandler answers POST /api/v1/memory/search as a minimal service in
// front of Weaviate would: decode the body, send memoryd's query, encode
// the ids in memoryd's response shape. No key, no validation, no event,
// no store.
func floorHandler(idx *weaviate.Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Embedding []float32 `json:"embedding"`
			Limit     int       `json:"limit"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hits, err := idx.SearchFilter(workspace, req.Embedding, req.Limit, memoryd.Filter{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		type memory struct {
			ID string `json:"id"`
		}
		type result struct {
			Memory memory  `json:"memory"`
			Score  float32 `json:"score"`
		}
		out := struct {
			Results []result `json:"results"`
		}{Results: make([]result, len(hits))}
		for i, h := range hits {
			out.Results[i] = result{memory{h.ID}, h.Score}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
}

// directGRPC is the query memoryd sends Weaviate (a gRPC Search),
// sent by the tool itself through memoryd's Weaviate adapter.
func directGRPC(idx *weaviate.Index, q []float32) ([]string, error) {
	hits, err := idx.Search(workspace, q, 10, nil)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids, nil
}

// direct is the query as the Weaviate Go client sends it (GraphQL: the
// client has no gRPC search), sent by the tool itself.
func direct(ctx context.Context, idx *weaviate.Index, q []float32) ([]string, error) {
	c := idx.Client()
	resp, err := c.GraphQL().Get().WithClassName(weaviate.DefaultClass).WithTenant(workspace).
		WithNearVector(c.GraphQL().NearVectorArgBuilder().WithVector(q)).WithLimit(10).
		WithFields(graphql.Field{Name: "memoryId"}, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "distance"}}}).
		Do(ctx)
	if err != nil {
		return nil, err
	}
	if len(resp.Errors) > 0 {
		return nil, fmt.Errorf("weaviate: %s", resp.Errors[0].Message)
	}
	var rows []struct {
		ID string `json:"memoryId"`
	}
	b, _ := json.Marshal(resp.Data["Get"].(map[string]any)[weaviate.DefaultClass])
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

type result struct {
	qps      float64
	p50, p99 time.Duration
	recall   float64
}

// measure runs the queries over clients goroutines.
func measure(queries [][]float32, truth [][]string, clients int, search func([]float32) ([]string, error)) (result, error) {
	got := make([][]string, len(queries))
	lat := make([]time.Duration, len(queries))
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(queries); i = int(next.Add(1) - 1) {
				t := time.Now()
				ids, err := search(queries[i])
				lat[i] = time.Since(t)
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				got[i] = ids
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return result{}, firstErr
	}
	var recall float64
	for i := range got {
		recall += overlap(got[i], truth[i])
	}
	slices.Sort(lat)
	return result{
		qps: float64(len(queries)) / elapsed.Seconds(),
		p50: lat[len(lat)/2].Round(10 * time.Microsecond), p99: lat[len(lat)*99/100].Round(10 * time.Microsecond),
		recall: recall / float64(len(got)),
	}, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// overlap is |got ∩ want| / |want|.
func overlap(got, want []string) float64 {
	n := 0
	for _, id := range want {
		if slices.Contains(got, id) {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

func search(ctx context.Context, c *apiclient.Client, base string, q []float32) ([]string, error) {
	var res struct {
		Results []struct {
			Memory struct {
				ID string `json:"id"`
			} `json:"memory"`
		} `json:"results"`
	}
	if err := c.Post(ctx, base, "/memory/search", map[string]any{"embedding": q, "limit": 10, "mode": "semantic"}, &res); err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Results))
	for i, r := range res.Results {
		ids[i] = r.Memory.ID
	}
	return ids, nil
}

// exact is each query's true top k ids by cosine, over every vector.
func exact(vecs, queries [][]float32, k int) [][]string {
	units := make([][]float32, len(vecs))
	for i, v := range vecs {
		units[i] = unit(v)
	}
	out := make([][]string, len(queries))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			type hit struct {
				i int
				s float32
			}
			for qi := int(next.Add(1) - 1); qi < len(queries); qi = int(next.Add(1) - 1) {
				q := unit(queries[qi])
				top := make([]hit, 0, k+1)
				for i, v := range units {
					s := dot(q, v)
					if len(top) == k && s <= top[k-1].s {
						continue
					}
					at, _ := slices.BinarySearchFunc(top, s, func(h hit, s float32) int {
						if h.s > s {
							return -1
						}
						return 1
					})
					top = slices.Insert(top, at, hit{i, s})
					if len(top) > k {
						top = top[:k]
					}
				}
				ids := make([]string, len(top))
				for j, h := range top {
					ids[j] = memID(h.i)
				}
				out[qi] = ids
			}
		})
	}
	wg.Wait()
	return out
}

func unit(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	n = math.Sqrt(n)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func memID(i int) string { return fmt.Sprintf("v-%d", i) }

func httpClient() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
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

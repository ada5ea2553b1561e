// Command cliff measures search latency on the in-process index while a
// bulk load lands and while its graph links afterwards: it starts a
// memoryd binary on a throwaway SQLite file (hash embedder), creates -n
// hard clustered vectors (vecdata.Clustered, 512 dimensions, 10,000
// clusters, noise 1.6) as client embeddings from -writers clients, and
// meanwhile searches at -search-rate from 2 clients; after the load it
// keeps searching for -settle. It prints p50/p99 per -window with the
// number of memories stored, then the worst window's p99 after the load
// against the settled p99 (the last -settled-span).
//
//	go build -o /tmp/memoryd ./server/cmd/memoryd
//	go run ./tools/cliff -memoryd /tmp/memoryd
//
// Compare two builds by running it once with each binary; the load and
// the queries are the same in both (fixed seeds).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryd/memoryd/internal/apiclient"
	"github.com/memoryd/memoryd/internal/memproc"
	"github.com/memoryd/memoryd/internal/vecdata"
)

type options struct {
	memoryd       string
	n, writers    int
	batch         int
	searchRate    float64
	window        time.Duration
	settle        time.Duration
	settledSpan   time.Duration
	startLimit    time.Duration
	extraServeArg string
}

func main() {
	var o options
	flag.StringVar(&o.memoryd, "memoryd", "bin/memoryd", "memoryd binary")
	flag.IntVar(&o.n, "n", 100_000, "memories loaded")
	flag.IntVar(&o.writers, "writers", 16, "concurrent create clients")
	flag.IntVar(&o.batch, "batch", 0, "memories per POST /memory/batch (0: one POST /memory each, which every build has)")
	flag.Float64Var(&o.searchRate, "search-rate", 20, "searches a second (2 clients)")
	flag.DurationVar(&o.window, "window", 5*time.Second, "latency window")
	flag.DurationVar(&o.settle, "settle", 90*time.Second, "how long searches go on after the load")
	flag.DurationVar(&o.settledSpan, "settled-span", 20*time.Second, "the end of -settle whose p99 counts as settled")
	flag.DurationVar(&o.startLimit, "start-limit", time.Minute, "how long memoryd may take to start")
	flag.StringVar(&o.extraServeArg, "serve-arg", "", "one extra argument for memoryd serve (e.g. --search-ef=128)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "cliff:", err)
		os.Exit(1)
	}
}

const (
	dims, clusters, spread = 512, 10_000, 1.6
	workspace              = "cliff"
)

func run(o options) error {
	args := []string{"--embedder", "hash", "--max-body-bytes", fmt.Sprint(64 << 20)}
	if o.extraServeArg != "" {
		args = append(args, o.extraServeArg)
	}
	srv, err := memproc.Start(o.memoryd, []string{workspace}, args, o.startLimit)
	if err != nil {
		return err
	}
	defer srv.Stop()
	all := vecdata.Clustered(41, o.n+1000, dims, clusters, spread)
	vecs, queries := all[:o.n], all[o.n:]
	c := &node{base: srv.Base, api: &apiclient.Client{HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, Key: srv.Key, Workspace: workspace}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var stored atomic.Int64
	lat := &windows{start: time.Now(), size: o.window, stored: &stored}
	var wg sync.WaitGroup
	searchErr := make(chan error, 2)
	for w := range 2 {
		wg.Go(func() { searchErr <- search(ctx, c, queries[w*500:(w+1)*500], o.searchRate/2, lat) })
	}
	t0 := time.Now()
	if err := load(ctx, c, vecs, o, &stored); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	loaded := time.Since(lat.start)
	fmt.Printf("loaded %d memories in %v (%.0f/s), %d writers, batch %d\n", o.n, time.Since(t0).Round(time.Millisecond),
		float64(o.n)/time.Since(t0).Seconds(), o.writers, o.batch)
	time.Sleep(o.settle)
	lat.end = time.Since(lat.start)
	cancel()
	wg.Wait()
	close(searchErr)
	for err := range searchErr {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	lat.report(os.Stdout, loaded, o.settledSpan)
	return nil
}

// load creates vecs with o.writers clients, counting what is stored.
func load(ctx context.Context, c *node, vecs [][]float32, o options, stored *atomic.Int64) error {
	size := max(o.batch, 1)
	v := apiclient.Slice(vecs, func(i int) string { return fmt.Sprintf("v-%d", i) })
	var next atomic.Int64
	errs := make([]error, o.writers)
	var wg sync.WaitGroup
	for w := range o.writers {
		wg.Go(func() {
			for {
				from := int(next.Add(int64(size))) - size
				if from >= len(vecs) {
					return
				}
				to := min(from+size, len(vecs))
				if _, errs[w] = c.api.Create(ctx, c.base, v, from, to, o.batch > 0); errs[w] != nil {
					return
				}
				stored.Add(int64(to - from))
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// search sends queries round and round, paced at rate a second, and
// records each answer's latency from its slot (a slow answer delays the
// next, and that wait counts).
func search(ctx context.Context, c *node, queries [][]float32, rate float64, lat *windows) error {
	every := time.Duration(float64(time.Second) / rate)
	slot := time.Now()
	for i := 0; ; i++ {
		if d := time.Until(slot); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		err := c.api.Post(ctx, c.base, "/memory/search", map[string]any{"embedding": queries[i%len(queries)], "limit": 10, "mode": "semantic"}, nil)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		lat.add(slot, time.Since(slot))
		slot = slot.Add(every)
	}
}

// windows collects latencies per fixed window since start.
type windows struct {
	start  time.Time
	size   time.Duration
	stored *atomic.Int64
	end    time.Duration // when searching stopped: later windows are partial
	mu     sync.Mutex
	lat    [][]time.Duration
	count  []int64 // memories stored when the window's last answer came
}

func (w *windows) add(at time.Time, d time.Duration) {
	i := int(at.Sub(w.start) / w.size)
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.lat) <= i {
		w.lat = append(w.lat, nil)
		w.count = append(w.count, 0)
	}
	w.lat[i] = append(w.lat[i], d)
	w.count[i] = w.stored.Load()
}

// report prints every window, then the worst p99 of the windows after
// the load against the settled p99.
func (w *windows) report(out io.Writer, loaded, settledSpan time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(out, "%8s %9s %8s %9s %9s\n", "window", "memories", "searches", "p50", "p99")
	var after, settled []time.Duration
	worstAfter, worstDuring := time.Duration(0), time.Duration(0)
	for i, l := range w.lat {
		from := time.Duration(i) * w.size
		if len(l) == 0 || from+w.size > w.end {
			continue
		}
		slices.Sort(l)
		p99 := pct(l, 0.99)
		fmt.Fprintf(out, "%7ds %9d %8d %9v %9v\n", int(from.Seconds()), w.count[i], len(l), pct(l, 0.5).Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
		switch {
		case from+w.size <= loaded:
			worstDuring = max(worstDuring, p99)
		case from >= w.end-settledSpan:
			settled = append(settled, l...)
		case from >= loaded:
			after = append(after, l...)
			worstAfter = max(worstAfter, p99)
		}
	}
	slices.Sort(settled)
	slices.Sort(after)
	s := pct(settled, 0.99)
	fmt.Fprintf(out, "settled p99 (last %v) %v; worst window p99 while loading %v (%.1fx settled), after the load before settling %v (%.1fx)\n",
		settledSpan, s.Round(10*time.Microsecond), worstDuring.Round(10*time.Microsecond), ratio(worstDuring, s),
		worstAfter.Round(10*time.Microsecond), ratio(worstAfter, s))
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// node is the memoryd the tool runs and a client of it.
type node struct {
	base string
	api  *apiclient.Client
}

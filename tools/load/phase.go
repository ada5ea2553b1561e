package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is one phase's outcome.
type result struct {
	name     string
	elapsed  time.Duration
	lat      []time.Duration // successful requests only, sorted
	errors   int
	firstErr string
}

// phase runs op on o.clients workers for d.
func phase(ctx context.Context, o options, name string, d time.Duration, f op) result {
	if d <= 0 {
		return result{name: name}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	r := runWorkers(ctx, o.clients, func() bool { return ctx.Err() == nil }, f)
	r.name = name
	return r
}

// phaseN runs op n times in total on clients workers.
func phaseN(ctx context.Context, clients, n int, f op) result {
	var left atomic.Int64
	left.Store(int64(n))
	return runWorkers(ctx, clients, func() bool { return left.Add(-1) >= 0 }, f)
}

func runWorkers(ctx context.Context, clients int, more func() bool, f op) result {
	lats := make([][]time.Duration, clients)
	errs := make([]int, clients)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for more() {
				t := time.Now()
				err := f(ctx, w, rng)
				if err != nil {
					if ctx.Err() != nil {
						return // cut off by the phase's end, not a failure
					}
					errs[w]++
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lats[w] = append(lats[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	r := result{elapsed: time.Since(start)}
	for w := range clients {
		r.lat = append(r.lat, lats[w]...)
		r.errors += errs[w]
	}
	if v, ok := firstErr.Load().(string); ok {
		r.firstErr = v
	}
	slices.Sort(r.lat)
	return r
}

// pct returns the p-th percentile (0 < p <= 100) of sorted latencies.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

func (r result) print() {
	fmt.Printf("%-8s %8d ok %6d errors %9.0f req/s   p50 %7s  p95 %7s  p99 %7s  max %7s\n",
		r.name, len(r.lat), r.errors, r.rate(), ms(pct(r.lat, 50)), ms(pct(r.lat, 95)),
		ms(pct(r.lat, 99)), ms(pct(r.lat, 100)))
	if r.firstErr != "" {
		fmt.Printf("         first error: %.300s\n", r.firstErr)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

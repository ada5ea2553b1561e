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

// phase runs op on o.clients workers for d, at o.rate requests a second
// in all when it is set, else as fast as they go.
func phase(ctx context.Context, o options, name string, d time.Duration, f op) result {
	if d <= 0 {
		return result{name: name}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	more := func() (time.Time, bool) { return time.Now(), ctx.Err() == nil }
	if o.rate > 0 {
		more = pacer(ctx, o.rate)
	}
	r := runWorkers(ctx, o.clients, more, f)
	r.name = name
	return r
}

// phaseN runs op n times in total on clients workers.
func phaseN(ctx context.Context, clients, n int, f op) result {
	var left atomic.Int64
	left.Store(int64(n))
	return runWorkers(ctx, clients, func() (time.Time, bool) { return time.Now(), left.Add(-1) >= 0 }, f)
}

// pacer schedules rate requests a second: each call waits for the next
// slot and returns its time. Latencies count from the slot, not from when
// a worker got to send, so a server that falls behind is charged for the
// wait it caused (no coordinated omission).
func pacer(ctx context.Context, rate float64) func() (time.Time, bool) {
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	var slots atomic.Int64
	return func() (time.Time, bool) {
		at := start.Add(time.Duration(slots.Add(1)-1) * interval)
		select {
		case <-ctx.Done():
			return at, false
		case <-time.After(time.Until(at)):
			return at, ctx.Err() == nil
		}
	}
}

// runWorkers runs f on clients workers while more says so; more returns
// the time each request's latency counts from.
func runWorkers(ctx context.Context, clients int, more func() (time.Time, bool), f op) result {
	lats := make([][]time.Duration, clients)
	errs := make([]int, clients)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for {
				t, ok := more()
				if !ok {
					return
				}
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

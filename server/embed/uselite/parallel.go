package uselite

import (
	"sync"
	"sync/atomic"
)

// split runs fn over [0, n) cut into up to workers contiguous ranges of
// about equal size, one goroutine per range; the caller's goroutine runs
// the last range. Ranges start at even indices, so the two-row kernel
// pairs rows the same way whatever the split.
func split(n, workers int, fn func(lo, hi int)) {
	workers = max(1, min(workers, (n+1)/2))
	cut := func(w int) int { return min(n, w*n/workers+(w*n/workers)%2) }
	var wg sync.WaitGroup
	for w := range workers - 1 {
		lo, hi := cut(w), cut(w+1)
		wg.Go(func() { fn(lo, hi) })
	}
	fn(cut(workers-1), n)
	wg.Wait()
}

// each runs fn(i) for i in [0, n) on up to workers goroutines, which take
// indices in turn (for tasks of uneven size).
func each(n, workers int, fn func(i int)) {
	workers = max(1, min(workers, n))
	var next atomic.Int64
	run := func() {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			fn(i)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(run)
	}
	run()
	wg.Wait()
}

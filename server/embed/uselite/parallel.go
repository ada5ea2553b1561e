package uselite

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// maxProcs is the number of goroutines that can run at once.
func maxProcs() int { return runtime.GOMAXPROCS(0) }

// split runs fn over [0, n) cut into up to workers contiguous ranges of
// about equal size, one goroutine per range; the caller's goroutine runs
// the last range. (How rows are cut does not change results: a row's
// arithmetic is the same whichever rows it is computed with.)
func split(n, workers int, fn func(lo, hi int)) {
	workers = max(1, min(workers, n))
	cut := func(w int) int { return w * n / workers }
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

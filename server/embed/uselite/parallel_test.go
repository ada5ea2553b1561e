package uselite

import (
	"sync/atomic"
	"testing"
)

// TestSplitCovers: every index is visited once.
func TestSplitCovers(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 26, 101} {
		for _, workers := range []int{1, 2, 3, 8} {
			seen := make([]atomic.Int32, n)
			split(n, workers, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Fatalf("n=%d workers=%d: index %d visited %d times", n, workers, i, c)
				}
			}
		}
	}
}

func TestEachCovers(t *testing.T) {
	for _, n := range []int{0, 1, 5, 64} {
		seen := make([]atomic.Int32, n)
		each(n, 3, func(i int) { seen[i].Add(1) })
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, c)
			}
		}
	}
}

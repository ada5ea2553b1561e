//go:build !linux

package events_test

// collectArrivals calls got(s, i, at) when stream s has read its i-th
// memory.created event (i < n), at the wall-clock time at (Unix ns).
func collectArrivals(streams []rawStream, n int, got func(s, i int, at int64)) {
	collectArrivalsEach(streams, n, got)
}

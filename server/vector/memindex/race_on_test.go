//go:build race

package memindex

// raceEnabled lets quality tests that only measure (not exercise
// concurrency) skip the race detector's 10x slowdown.
const raceEnabled = true

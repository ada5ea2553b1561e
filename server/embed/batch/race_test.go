//go:build race

package batch_test

// raceEnabled: the race detector slows use-lite's float loops about
// 100-fold, so tests that need use-lite's speed use only the hash
// embedder under it (the wrapper's synchronisation is the same).
const raceEnabled = true

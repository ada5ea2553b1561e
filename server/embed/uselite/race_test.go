//go:build race

package uselite

// raceEnabled: the race detector slows the float loops about 100-fold, so
// the slowest tests check fewer texts under it.
const raceEnabled = true

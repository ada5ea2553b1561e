//go:build !linux

package main

import "os"

// writeback does nothing where sync_file_range is missing, as in memoryd
// (server/store/sqlite/writeback_other.go).
func writeback(_, _ *os.File) {}

//go:build !linux

package sqlite

// runWriteback does nothing where sync_file_range is missing: the
// checkpoints' syncs write everything out (writeback_linux.go).
func (s *Store) runWriteback() { close(s.wbDone) }

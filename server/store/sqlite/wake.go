package sqlite

import (
	"context"

	memoryd "github.com/memoryd/memoryd/server"
)

// Listen returns a channel that receives the position of newly appended
// events (a wake-up hint; readers still read by position) until ctx ends.
// It hears this process's commits; the event hub's poll finds what
// another process writes to the same file.
func (s *Store) Listen(ctx context.Context) (<-chan int64, error) {
	return s.wake.Subscribe(ctx), nil
}

// RecentEvents returns up to limit events after seq that this process
// committed last, without reading the database. ok is false when they
// are not all in memory (a position older than the window, or one this
// process did not write; a store that has committed nothing yet); the
// caller then reads them with ReadEvents.
func (s *Store) RecentEvents(after int64, limit int) ([]*memoryd.Event, bool) {
	return s.recent.After(after, limit)
}

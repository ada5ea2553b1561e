package indexer

import (
	"context"
	"sync"
)

// Position is a place in one log: its epoch and a sequence number.
type Position struct {
	Epoch string
	Seq   int64
}

// Cursor keeps a Consumer's position between batches (and, for an index
// that outlives the process, between runs).
type Cursor interface {
	// Load returns the saved position; ok is false when none was saved.
	Load(ctx context.Context) (p Position, ok bool, err error)
	// Save records p as applied.
	Save(ctx context.Context, p Position) error
}

// MemCursor keeps the position in memory, for an index rebuilt at every
// start (the in-process one). The zero value is an empty cursor.
type MemCursor struct {
	mu sync.Mutex
	p  Position
	ok bool
}

// Load returns the position saved by this process, if any.
func (m *MemCursor) Load(context.Context) (Position, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p, m.ok, nil
}

// Save keeps p.
func (m *MemCursor) Save(_ context.Context, p Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p, m.ok = p, true
	return nil
}

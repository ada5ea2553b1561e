package postgres

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// analyzer keeps the planner's statistics of memories current through
// bulk writes. A table filled faster than autovacuum comes round (a
// minute and more) is planned as the small table it was, and a search's
// read of its hits by (workspace, id) then walks the whole workspace
// instead of taking the key. So batches ANALYZE the table themselves, in the background, each time
// the rows they put since the last one reach a quarter of all they put
// (at least analyzeMin): a handful of ANALYZEs for a large import.
type analyzer struct {
	mu      sync.Mutex
	pending int64 // rows put by batches since the last ANALYZE began
	total   int64 // rows put by batches
	running bool
	wg      sync.WaitGroup
}

const (
	analyzeMin = 1000
	// analyzeLimit bounds one ANALYZE (it samples at most 30,000 rows);
	// room for a cold, busy machine.
	analyzeLimit = 2 * time.Minute
)

// batchPut notes n rows put by a batch and starts an ANALYZE when due.
func (s *Store) batchPut(n int) {
	a := &s.analyze
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending += int64(n)
	a.total += int64(n)
	if a.running || a.pending < max(analyzeMin, a.total/4) {
		return
	}
	a.pending, a.running = 0, true
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), analyzeLimit)
		defer cancel()
		if _, err := s.W.ExecContext(ctx, "ANALYZE memories"); err != nil {
			slog.Warn("store: ANALYZE memories after bulk writes failed; autovacuum will do it", "err", err, "limit", analyzeLimit)
		}
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
	}()
}

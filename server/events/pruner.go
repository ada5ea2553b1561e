package events

import (
	"context"
	"time"
)

// runPruner bounds the log by age and count. Every node may run it: a prune
// is idempotent. Positions older than what it keeps get `restart`
// (reason pruned).
func (s *Stream) runPruner(ctx context.Context) {
	t := time.NewTicker(s.cfg.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.store.PruneEvents(ctx, time.Now().Add(-s.cfg.RetentionAge), s.cfg.RetentionCount)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("pruning the event log", "err", err)
		case n > 0:
			s.log.Info("pruned the event log", "deleted", n,
				"max_age", s.cfg.RetentionAge, "max_count", s.cfg.RetentionCount)
		}
	}
}

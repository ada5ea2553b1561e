package app

import (
	"context"
	"log/slog"
	"time"
)

// A large index loads far faster at start than it links into its graphs,
// and searches cost more until then: they scan the unlinked vectors
// exactly. The operator is told, with progress, rather than left to wonder.
const (
	// linkReportAbove: fewer unlinked vectors than this link in seconds.
	linkReportAbove = 5000
	linkReportEvery = 10 * time.Second
)

// unlinker is the vector index's linking progress (memindex.Index).
type unlinker interface {
	Unlinked() (unlinked, total int)
}

// reportLinking logs the linker's progress every period until it has
// caught up (or ctx ends); it says nothing when there is little to link.
func reportLinking(ctx context.Context, idx unlinker, log *slog.Logger, every time.Duration) {
	un, total := idx.Unlinked()
	if un < linkReportAbove {
		return
	}
	log.Info("vector index: linking in the background; searches are slower until it is done", "unlinked", un, "vectors", total)
	start := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if un, total = idx.Unlinked(); un < linkReportAbove/5 {
			log.Info("vector index: linked", "vectors", total, "unlinked", un, "duration", time.Since(start).Round(time.Second))
			return
		}
		log.Info("vector index: linking", "unlinked", un, "vectors", total)
	}
}

package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	memoryd "github.com/memoryd/memoryd/server"
)

// maxSkipLogs is how many skipped rows LoadIndex logs one by one; beyond
// it (every row of another embedder's dimension, say) one line counts the
// rest, so the log stays readable.
const maxSkipLogs = 100

// LoadIndex fills the vector index from the store; run once at start,
// before anything else writes the index. It logs its progress every few
// seconds and returns the number of vectors loaded.
//
// A stored vector the index cannot rank (wrong dimension for the
// embedder, non-finite, all zeros: left by another embedder, or written
// past the service's checks) is logged with its workspace and id, skipped
// and counted (SkippedVectors): one bad row must not keep the whole
// service down. The memory stays readable and listable; only semantic search
// cannot find it until it is rewritten. Errors of the store or of the
// index itself are returned.
//
// A remote index (Weaviate) kept its vectors while this process was away:
// it is compared with the table and only the differences are written
// (syncRemote). That is safe while the service serves, so the log
// follower may retry it when the index was away at start.
func (s *Service) LoadIndex(ctx context.Context) (int, error) {
	if r, ok := s.index.(remote); ok {
		return s.syncRemote(ctx, r)
	}
	n, skipped := 0, 0
	p := newProgress(s.log, "loading the vector index")
	err := s.store.EachVector(ctx, func(ws, id string, vec []float32) error {
		p.add(ctx, 1)
		err := s.checkVector("embedding", vec)
		if err == nil {
			err = s.index.Upsert(ws, id, vec)
		}
		switch {
		case err == nil:
			n++
			return nil
		case memoryd.ErrorCode(err) != memoryd.EINVALID:
			return err
		}
		skipped++
		if skipped <= maxSkipLogs {
			s.log.WarnContext(ctx, "skipping a stored vector the index cannot hold",
				slog.String("workspace", ws), slog.String("id", id), slog.String("reason", reason(err)))
		}
		return nil
	})
	if skipped > maxSkipLogs {
		s.log.WarnContext(ctx, "skipped more stored vectors than logged one by one",
			slog.Int("skipped", skipped), slog.Int("logged", maxSkipLogs))
	}
	s.skipped.Store(int64(skipped))
	return n, err
}

// SkippedVectors is the number of stored vectors the last LoadIndex
// skipped; GET /ready reports it.
func (s *Service) SkippedVectors() int64 { return s.skipped.Load() }

// reason is err's message with the dimensions when they are the cause.
func reason(err error) string {
	var e *memoryd.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	if got, ok := e.Details["got_dimensions"]; ok {
		return fmt.Sprintf("%s: %v, the embedder's is %v", e.Message, got, e.Details["expected_dimensions"])
	}
	return e.Message
}

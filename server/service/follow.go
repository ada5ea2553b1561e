package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// ApplyCurrent makes the index hold the stored state of the memories ids
// of workspace: the stored vector of each one that exists, none for the
// others. The log follower (server/indexer) calls it for the memories its
// events name, whichever node wrote them; it applies state, not the
// events' contents, so applying twice, late or out of turn never leaves
// an older vector.
//
// The memories are read in one batch without locks, then applied one by
// one under their write lock. A write of this node that took the lock in
// between (its own index update already done, and perhaps newer than the
// batch read) shows in gens: that memory is read again under the lock,
// so the follower can never undo a write this node has answered.
func (s *Service) ApplyCurrent(ctx context.Context, workspace string, ids []string) error {
	if r, ok := s.index.(remote); ok {
		return s.applyBatch(ctx, workspace, ids, r)
	}
	before := make([]uint64, len(ids))
	for i, id := range ids {
		before[i] = s.gens[stripe(workspace, id)].Load()
	}
	mems, err := s.store.GetMemories(ctx, workspace, ids)
	if err != nil {
		return err
	}
	for i, id := range ids {
		if err := s.applyOne(ctx, workspace, id, mems[id], before[i]); err != nil {
			return err
		}
	}
	return nil
}

// applyOne applies m (nil: absent), read when id's lock had counted gen
// writes, under that lock.
func (s *Service) applyOne(ctx context.Context, ws, id string, m *memoryd.Memory, gen uint64) error {
	i := stripe(ws, id)
	s.locks[i].Lock()
	defer s.locks[i].Unlock()
	if s.gens[i].Load() != gen {
		cur, err := s.store.GetMemory(ctx, ws, id)
		switch {
		case errors.Is(err, memoryd.ErrNotFound):
			m = nil
		case err != nil:
			return err
		default:
			m = cur
		}
	}
	return s.applyState(ctx, ws, id, m)
}

// applyState puts m's vector in the index, or removes id's when m is nil
// or its vector is one the index cannot rank (logged, as LoadIndex does).
func (s *Service) applyState(ctx context.Context, ws, id string, m *memoryd.Memory) error {
	if m != nil {
		err := s.checkVector("embedding", m.Embedding)
		if err == nil {
			err = s.upsert(ws, m)
		}
		if memoryd.ErrorCode(err) != memoryd.EINVALID {
			return err
		}
		s.log.WarnContext(ctx, "stored vector left out of the index",
			slog.String("workspace", ws), slog.String("id", id), slog.String("reason", reason(err)))
	}
	if err := s.index.Delete(ws, id); err != nil && !errors.Is(err, memoryd.ErrNotFound) {
		return err
	}
	return nil
}

// rebuildBatch is how many memories RebuildIndex reads again at once.
const rebuildBatch = 500

// RebuildIndex brings every stored memory's vector in the index to its
// stored state while the service runs: the log follower calls it when it
// has fallen behind the log's retention and the events it missed are
// gone. Each memory goes through ApplyCurrent, so writes served meanwhile
// are never undone. It returns the number of memories applied.
//
// Memories deleted during the lost stretch of the log may keep a vector;
// searches never return them (hits are read from the store) and remove
// such vectors as they meet them (dropOrphans).
func (s *Service) RebuildIndex(ctx context.Context) (int, error) {
	p := newProgress(s.log, "rebuilding the vector index from the memories table")
	batch := map[string][]string{}
	pending := 0
	flush := func() error {
		for ws, ids := range batch {
			if err := s.ApplyCurrent(ctx, ws, ids); err != nil {
				return err
			}
			p.add(ctx, len(ids))
		}
		clear(batch)
		pending = 0
		return nil
	}
	err := s.store.EachVector(ctx, func(ws, id string, _ []float32) error {
		batch[ws] = append(batch[ws], id)
		if pending++; pending < rebuildBatch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	p.done(ctx)
	return p.n, err
}

// dropOrphans removes the vectors of ids that a search found in the index
// but not in the store: each is read again under its write lock, since a
// write may have created it since the search read the store.
func (s *Service) dropOrphans(ctx context.Context, ws string, ids []string) {
	for _, id := range ids {
		if err := s.dropOrphan(ctx, ws, id); err != nil {
			s.log.WarnContext(ctx, "removing a deleted memory's vector", "workspace", ws, "id", id, "err", err)
		}
	}
}

func (s *Service) dropOrphan(ctx context.Context, ws, id string) error {
	i := stripe(ws, id)
	s.locks[i].Lock()
	defer s.locks[i].Unlock()
	_, err := s.store.GetMemory(ctx, ws, id)
	if !errors.Is(err, memoryd.ErrNotFound) {
		return err
	}
	if err := s.index.Delete(ws, id); err != nil && !errors.Is(err, memoryd.ErrNotFound) {
		return err
	}
	return nil
}

// progressEvery is how often a long load or rebuild logs its progress.
const progressEvery = 5 * time.Second

// progress logs a long pass over the memories table now and then, and
// once at the end.
type progress struct {
	log   *slog.Logger
	what  string
	start time.Time
	next  time.Time
	n     int
}

func newProgress(log *slog.Logger, what string) *progress {
	now := time.Now()
	return &progress{log: log, what: what, start: now, next: now.Add(progressEvery)}
}

func (p *progress) add(ctx context.Context, n int) {
	p.n += n
	if now := time.Now(); now.After(p.next) {
		p.next = now.Add(progressEvery)
		p.log.InfoContext(ctx, p.what, slog.Int("memories", p.n), slog.Duration("elapsed", now.Sub(p.start).Round(time.Millisecond)))
	}
}

func (p *progress) done(ctx context.Context) {
	p.log.InfoContext(ctx, p.what+": done", slog.Int("memories", p.n), slog.Duration("elapsed", time.Since(p.start).Round(time.Millisecond)))
}

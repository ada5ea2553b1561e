package service

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"

	memoryd "github.com/memoryd/memoryd/server"
)

// remote is a vector index that lives outside the process (Weaviate): it
// keeps its vectors across restarts, is shared by every node, ranks under
// a Filter itself, writes in batches, and can be away.
type remote interface {
	memoryd.FilterSearcher
	Count(workspace string) (int, error)
	IDs(workspace string) ([]string, error)
	DeleteBatch(workspace string, ids []string) error
}

// upsert puts m's vector in the index, with the filter attributes for an
// index that ranks under filters itself.
func (s *Service) upsert(ws string, m *memoryd.Memory) error {
	if fs, ok := s.index.(memoryd.FilterSearcher); ok {
		return fs.UpsertMemories(ws, []*memoryd.Memory{m})
	}
	return s.index.Upsert(ws, m.ID, m.Embedding)
}

// indexed ends a committed write's own index update. A failure (the
// vector engine is away) is logged, not returned: the change is stored
// and in the log, and since its position is not marked as applied, the
// log follower applies it once the index answers again.
func (s *Service) indexed(ctx context.Context, ws, id string, seq int64, err error) {
	if err != nil {
		s.log.WarnContext(ctx, "vector index update failed; the log follower retries it",
			slog.String("workspace", ws), slog.String("id", id), slog.Int64("seq", seq), slog.Any("err", err))
		return
	}
	s.direct.add(seq)
}

// VectorHealth reports whether the vector index answers (nil for the
// in-process index): GET /ready's vector_index check.
func (s *Service) VectorHealth(ctx context.Context) error {
	if p, ok := s.index.(memoryd.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// SearchHealth is EmbedderHealth, then VectorHealth: semantic search
// needs both. It is system.health's services.search.
func (s *Service) SearchHealth(ctx context.Context) error {
	if err := s.EmbedderHealth(ctx); err != nil {
		return err
	}
	return s.VectorHealth(ctx)
}

// applyBatch is ApplyCurrent for a remote index: the memories' current
// state is written in batches (one request, not one per memory), without
// locks. Then each memory's lock is taken in turn: a write of this node
// that completed meanwhile (its count in gens moved) may have been
// overwritten by the older state of the batch, so that memory's state is
// read and applied again under the lock. A write still in progress holds
// the lock, so the check waits for it and sees it.
func (s *Service) applyBatch(ctx context.Context, ws string, ids []string, r remote) error {
	before := make([]uint64, len(ids))
	for i, id := range ids {
		before[i] = s.gens[stripe(ws, id)].Load()
	}
	mems, err := s.store.GetMemories(ctx, ws, ids)
	if err != nil {
		return err
	}
	if err := s.putBatch(ctx, ws, ids, mems, r); err != nil {
		return err
	}
	for i, id := range ids {
		if err := s.recheck(ctx, ws, id, before[i]); err != nil {
			return err
		}
	}
	return nil
}

// ReapplyCurrent is ApplyCurrent that first removes the memories'
// vectors from a remote index: Weaviate killed while it took a write can
// keep the object without its vector in the vector index, and skips an
// upsert that does not change the object. The in-process index has no
// such state; there it is ApplyCurrent.
func (s *Service) ReapplyCurrent(ctx context.Context, ws string, ids []string) error {
	if r, ok := s.index.(remote); ok {
		if err := r.DeleteBatch(ws, ids); err != nil {
			return err
		}
	}
	return s.ApplyCurrent(ctx, ws, ids)
}

// putBatch writes the stored state of ids: the vectors of mems, and no
// vector for the ids absent from mems or whose vector the index cannot
// rank (logged, as LoadIndex does).
func (s *Service) putBatch(ctx context.Context, ws string, ids []string, mems map[string]*memoryd.Memory, r remote) error {
	var ups []*memoryd.Memory
	var gone []string
	for _, id := range ids {
		m := mems[id]
		if m == nil {
			gone = append(gone, id)
			continue
		}
		if err := s.checkVector("embedding", m.Embedding); err != nil {
			s.log.WarnContext(ctx, "stored vector left out of the index",
				slog.String("workspace", ws), slog.String("id", id), slog.String("reason", reason(err)))
			gone = append(gone, id)
			continue
		}
		ups = append(ups, m)
	}
	if len(ups) > 0 {
		if err := r.UpsertMemories(ws, ups); err != nil {
			return err
		}
	}
	if len(gone) > 0 {
		return r.DeleteBatch(ws, gone)
	}
	return nil
}

// recheck applies id's current state again, under its lock, when a write
// of this node completed since gen.
func (s *Service) recheck(ctx context.Context, ws, id string, gen uint64) error {
	i := stripe(ws, id)
	s.locks[i].Lock()
	defer s.locks[i].Unlock()
	if s.gens[i].Load() == gen {
		return nil
	}
	cur, err := s.store.GetMemory(ctx, ws, id)
	switch {
	case errors.Is(err, memoryd.ErrNotFound):
		cur = nil
	case err != nil:
		return err
	}
	return s.applyState(ctx, ws, id, cur)
}

// syncRemote brings a remote index in line with the memories table at
// start without rewriting it: the index kept its vectors while this
// process was away, and other nodes kept it current. Each workspace's
// vector count is compared with its stored memories; where they differ
// (the index was wiped or replaced, or missed changes while it was away)
// the ids are compared and the missing and extra ones applied in
// batches, with progress logs. It returns the number of memories
// applied.
//
// Counts can agree while contents differ (an update the index missed, or
// a missing vector and an orphan in one workspace); RebuildIndex brings
// every vector back to the table's state.
func (s *Service) syncRemote(ctx context.Context, r remote) (int, error) {
	stored := map[string][]string{}
	if err := s.store.EachVector(ctx, func(ws, id string, _ []float32) error {
		stored[ws] = append(stored[ws], id)
		return nil
	}); err != nil {
		return 0, err
	}
	applied := 0
	for _, ws := range slices.Sorted(maps.Keys(stored)) {
		n, err := s.syncWorkspace(ctx, ws, stored[ws], r)
		applied += n
		if err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// syncWorkspace applies the ids of ws that the index lacks or holds in
// excess of the stored ids, when the counts differ.
func (s *Service) syncWorkspace(ctx context.Context, ws string, stored []string, r remote) (int, error) {
	have, err := r.Count(ws)
	if err != nil || have == len(stored) {
		return 0, err
	}
	indexed, err := r.IDs(ws)
	if err != nil {
		return 0, err
	}
	fix := differ(stored, indexed)
	s.log.InfoContext(ctx, "vector index: a workspace differs from the database; re-indexing it",
		slog.String("workspace", ws), slog.Int("stored", len(stored)), slog.Int("indexed", have), slog.Int("to_apply", len(fix)))
	p := newProgress(s.log, "re-indexing workspace "+ws)
	for start := 0; start < len(fix); start += rebuildBatch {
		chunk := fix[start:min(start+rebuildBatch, len(fix))]
		if err := s.applyBatch(ctx, ws, chunk, r); err != nil {
			return p.n, err
		}
		p.add(ctx, len(chunk))
	}
	p.done(ctx)
	return p.n, nil
}

// differ returns the ids in exactly one of a and b.
func differ(a, b []string) []string {
	inA := make(map[string]bool, len(a))
	for _, id := range a {
		inA[id] = true
	}
	var out []string
	for _, id := range b {
		if !inA[id] {
			out = append(out, id)
		}
		delete(inA, id)
	}
	for _, id := range a {
		if inA[id] {
			out = append(out, id)
			delete(inA, id)
		}
	}
	return out
}

package service

import (
	"context"
	"fmt"
	"slices"

	memoryd "github.com/memoryd/memoryd/server"
)

// MaxBatch is the most memories one PutBatch takes.
const MaxBatch = 1000

// embedChunk is how many texts go to the embedder at once: enough for
// one forward pass to pay off, few enough that a remote embedder's
// request stays small.
const embedChunk = 64

// BatchItem is one item's outcome: Result when it was stored, Err (a
// *memoryd.Error for the client) when it was refused.
type BatchItem struct {
	Result *PutResult
	Err    error
}

// PutBatch puts each of items as Put does. Every item is checked before
// anything is written; the refused ones get their error and the others
// are embedded in chunks and stored in one transaction, each with its
// own event. The error is for the whole batch: an empty or oversized
// batch, or a store failure (then nothing was written).
func (s *Service) PutBatch(ctx context.Context, a Actor, items []PutInput) ([]BatchItem, error) {
	in := make([]batchInput, len(items))
	for i, it := range items {
		in[i].PutInput = it
	}
	return s.putItems(ctx, a, in)
}

// batchInput is a put whose vector, when Model is set, was made by this
// server's embedder model (an import): stored as the model's, not as a
// client's.
type batchInput struct {
	PutInput
	Model string
}

func (s *Service) putItems(ctx context.Context, a Actor, items []batchInput) ([]BatchItem, error) {
	if len(items) == 0 || len(items) > MaxBatch {
		return nil, &memoryd.Error{Code: memoryd.EINVALID, Message: fmt.Sprintf("A batch holds 1 to %d memories", MaxBatch),
			Details: map[string]any{"max_batch": MaxBatch, "items": len(items)}}
	}
	out := make([]BatchItem, len(items))
	ms := s.checkBatch(a, items, out)
	s.embedBatch(ctx, items, ms, out)
	var ok []int
	for i, m := range ms {
		if m != nil && out[i].Err == nil {
			ok = append(ok, i)
		}
	}
	if len(ok) == 0 {
		return out, nil
	}
	return out, s.storeBatch(ctx, a, ok, items, ms, out)
}

// checkBatch checks every item as Put does and refuses an id that an
// earlier item of the batch has; it returns the memories to store (nil
// for refused items).
func (s *Service) checkBatch(a Actor, items []batchInput, out []BatchItem) []*memoryd.Memory {
	ms := make([]*memoryd.Memory, len(items))
	seen := make(map[string]int, len(items))
	for i, in := range items {
		if err := s.checkPut(in.PutInput); err != nil {
			out[i].Err = err
			continue
		}
		if j, dup := seen[in.ID]; dup && in.ID != "" {
			out[i].Err = &memoryd.Error{Code: memoryd.EINVALID, Message: fmt.Sprintf("Id %q is also item %d of this batch", in.ID, j),
				Details: map[string]any{"fields": map[string]any{"id": "duplicate in batch"}}}
			continue
		}
		seen[in.ID] = i
		m := &memoryd.Memory{ID: in.ID, Workspace: a.Workspace, Text: in.Text, Metadata: in.Metadata,
			CreatedBy: a.User, UpdatedBy: a.User}
		if m.ID == "" {
			m.ID = memoryd.NewMemoryID()
		}
		if in.Embedding != nil {
			m.Embedding, m.EmbeddingModel = in.Embedding, "client"
			if in.Model != "" {
				m.EmbeddingModel = in.Model
			}
		}
		ms[i] = m
	}
	return ms
}

// embedBatch embeds the texts of the accepted items without a vector,
// embedChunk at a time. A chunk the embedder fails fails its items.
func (s *Service) embedBatch(ctx context.Context, items []batchInput, ms []*memoryd.Memory, out []BatchItem) {
	var todo []int
	for i, m := range ms {
		if m != nil && items[i].Embedding == nil {
			todo = append(todo, i)
		}
	}
	for chunk := range slices.Chunk(todo, embedChunk) {
		texts := make([]string, len(chunk))
		for k, i := range chunk {
			texts[k] = ms[i].Text
		}
		es, err := s.embedTexts(ctx, texts)
		for k, i := range chunk {
			if err != nil {
				out[i].Err = err
				continue
			}
			ms[i].Embedding, ms[i].EmbeddingModel, ms[i].Tokens = es[k].Vector, s.embedder.Model(), es[k].Tokens
		}
	}
}

// embedTexts embeds several texts and checks each vector as embedText
// does one.
func (s *Service) embedTexts(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	out, err := s.embedder.Embed(ctx, texts)
	if err == nil && len(out) != len(texts) {
		err = fmt.Errorf("embedder %s returned %d vectors for %d texts", s.embedder.Model(), len(out), len(texts))
	}
	if err != nil {
		if memoryd.ErrorCode(err) != memoryd.EINTERNAL {
			return nil, err
		}
		s.embedErr.Store(&err)
		s.log.ErrorContext(ctx, "embedding failed", "err", err, "model", s.embedder.Model())
		return nil, &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The embedder is unavailable"}
	}
	s.embedErr.Store(nil)
	for _, e := range out {
		if err := s.checkVector("embedding", e.Vector); err != nil {
			return nil, fmt.Errorf("embedder %s returned an unusable vector: %v", s.embedder.Model(), err)
		}
	}
	return out, nil
}

// storeBatch writes the memories ms[ok] in one transaction under their
// locks, then puts them in the index as Put does.
func (s *Service) storeBatch(ctx context.Context, a Actor, ok []int, items []batchInput, ms []*memoryd.Memory, out []BatchItem) error {
	batch := make([]*memoryd.Memory, len(ok))
	ids := make([]string, len(ok))
	generated := make([]bool, len(ok))
	for k, i := range ok {
		batch[k], ids[k], generated[k] = ms[i], ms[i].ID, items[i].Embedding == nil
	}
	unlock := s.lockAll(a.Workspace, ids)
	defer unlock()
	now := s.now().UTC()
	for _, m := range batch {
		m.CreatedAt, m.UpdatedAt = now, now
	}
	created, evs, err := s.putMemories(ctx, batch, func(k int, prev *memoryd.Memory) (*memoryd.Event, error) {
		m := batch[k]
		if prev == nil {
			m.CreatedAt, m.CreatedBy = now, a.User
			return withEmbedding(generated[k], m)(createdEvent(m))
		}
		m.CreatedAt, m.CreatedBy = prev.CreatedAt, prev.CreatedBy
		return withEmbedding(generated[k], m)(updatedEvent(prev, m))
	})
	if err != nil {
		return err
	}
	s.indexBatch(ctx, a.Workspace, batch, evs)
	for k, i := range ok {
		out[i].Result = &PutResult{Memory: batch[k], Created: created[k],
			EmbeddingGenerated: generated[k], Event: evs[k]}
	}
	return nil
}

// putMemories stores the batch in one transaction, or one memory at a
// time on a store that cannot.
func (s *Service) putMemories(ctx context.Context, ms []*memoryd.Memory, mk func(int, *memoryd.Memory) (*memoryd.Event, error)) ([]bool, []*memoryd.Event, error) {
	s.flushSearchLog(ctx)
	if bp, ok := s.store.(memoryd.BatchPutter); ok {
		return bp.PutMemories(ctx, ms, mk)
	}
	created := make([]bool, len(ms))
	evs := make([]*memoryd.Event, len(ms))
	for k, m := range ms {
		c, ev, err := s.store.PutMemory(ctx, m, func(prev *memoryd.Memory) (*memoryd.Event, error) { return mk(k, prev) })
		if err != nil {
			return nil, nil, err
		}
		created[k], evs[k] = c, ev
	}
	return created, evs, nil
}

// indexBatch puts a stored batch in the vector index: a remote index in
// one request, the in-process one memory by memory.
func (s *Service) indexBatch(ctx context.Context, ws string, ms []*memoryd.Memory, evs []*memoryd.Event) {
	if fs, ok := s.index.(memoryd.FilterSearcher); ok {
		err := fs.UpsertMemories(ws, ms)
		for k, m := range ms {
			s.indexed(ctx, ws, m.ID, evs[k].Seq, err)
		}
		return
	}
	for k, m := range ms {
		s.indexed(ctx, ws, m.ID, evs[k].Seq, s.index.Upsert(ws, m.ID, m.Embedding))
	}
}

// lockAll takes the locks of several ids of one workspace, each stripe
// once and in order (so two batches cannot deadlock), as lock does one.
func (s *Service) lockAll(ws string, ids []string) func() {
	var idx []int
	for _, id := range ids {
		idx = append(idx, stripe(ws, id))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s.locks[i].Lock()
	}
	return func() {
		for _, i := range idx {
			s.gens[i].Add(1)
			s.locks[i].Unlock()
		}
	}
}

package service

import (
	"context"
	"errors"

	"github.com/memoryd/memoryd/gen/events"
	memoryd "github.com/memoryd/memoryd/server"
)

// PutInput is a create-or-replace request.
type PutInput struct {
	ID        string // "" for a new id
	Text      string
	Metadata  map[string]any
	Embedding []float32 // nil: embed Text
}

// PutResult reports what PutMemory did.
type PutResult struct {
	Memory             *memoryd.Memory
	Created            bool
	EmbeddingGenerated bool
	Event              *memoryd.Event
}

// Put stores a memory, replacing the one with the same id if it exists
// (the SDKs' upsert).
func (s *Service) Put(ctx context.Context, a Actor, in PutInput) (*PutResult, error) {
	if err := s.checkPut(in); err != nil {
		return nil, err
	}
	m := &memoryd.Memory{ID: in.ID, Workspace: a.Workspace, Text: in.Text, Metadata: in.Metadata,
		CreatedBy: a.User, UpdatedBy: a.User}
	if m.ID == "" {
		m.ID = memoryd.NewMemoryID()
	}
	generated, err := s.vectorFor(ctx, m, in.Embedding)
	if err != nil {
		return nil, err
	}
	unlock := s.lock(a.Workspace, m.ID)
	defer unlock()
	s.flushSearchLog(ctx)
	now := s.now().UTC()
	m.CreatedAt, m.UpdatedAt = now, now
	created, ev, err := s.store.PutMemory(ctx, m, func(prev *memoryd.Memory) (*memoryd.Event, error) {
		if prev == nil {
			return withEmbedding(generated, m)(createdEvent(m))
		}
		m.CreatedAt, m.CreatedBy = prev.CreatedAt, prev.CreatedBy
		return withEmbedding(generated, m)(updatedEvent(prev, m))
	})
	if err != nil {
		return nil, err
	}
	s.indexed(ctx, a.Workspace, m.ID, ev.Seq, s.upsert(a.Workspace, m))
	return &PutResult{Memory: m, Created: created, EmbeddingGenerated: generated, Event: ev}, nil
}

// withEmbedding adds embedding.generated to a change's event when the
// server computed m's vector, so it is appended in the change's
// transaction (webhooks deliver it; the stream does not send it).
func withEmbedding(generated bool, m *memoryd.Memory) func(*memoryd.Event, error) (*memoryd.Event, error) {
	return func(ev *memoryd.Event, err error) (*memoryd.Event, error) {
		if err != nil || !generated {
			return ev, err
		}
		at := m.UpdatedAt
		eg, err := memoryEvent(memoryd.EventEmbeddingGenerated, m.Workspace, events.EmbeddingGenerated{
			Id: m.ID, Model: m.EmbeddingModel, Dimensions: len(m.Embedding), Tokens: m.Tokens, GeneratedAt: at,
		}, at)
		if err != nil {
			return nil, err
		}
		ev.With = []*memoryd.Event{eg}
		return ev, nil
	}
}

// checkPut checks every field of a put before anything is embedded or
// written.
func (s *Service) checkPut(in PutInput) error {
	if in.ID != "" {
		if err := checkID(in.ID); err != nil {
			return err
		}
	}
	if err := s.checkText(in.Text); err != nil {
		return err
	}
	if err := checkMetadata(in.Metadata); err != nil {
		return err
	}
	if in.Embedding != nil {
		return s.checkVector("embedding", in.Embedding)
	}
	return nil
}

// vectorFor sets m's embedding from the client's vector (checked by
// checkPut) or the embedder.
func (s *Service) vectorFor(ctx context.Context, m *memoryd.Memory, client []float32) (generated bool, err error) {
	if client != nil {
		m.Embedding, m.EmbeddingModel, m.Tokens = client, "client", 0
		return false, nil
	}
	e, err := s.embedText(ctx, m.Text)
	if err != nil {
		return false, err
	}
	m.Embedding, m.EmbeddingModel, m.Tokens = e.Vector, s.embedder.Model(), e.Tokens
	return true, nil
}

// UpdateInput changes the fields that are non-nil.
type UpdateInput struct {
	Text      *string
	Metadata  map[string]any // nil: unchanged
	Embedding []float32      // nil: unchanged, or re-embedded when Text changes
}

// UpdateResult reports what Update did.
type UpdateResult struct {
	Memory               *memoryd.Memory
	EmbeddingRegenerated bool
	Event                *memoryd.Event
}

// Update changes an existing memory; ErrNotFound if it does not exist.
func (s *Service) Update(ctx context.Context, a Actor, id string, in UpdateInput) (*UpdateResult, error) {
	if err := s.checkUpdate(in); err != nil {
		return nil, err
	}
	// Embed before the transaction: it is slow and must not hold the writer.
	var fresh *memoryd.Embedding
	if in.Text != nil && in.Embedding == nil {
		e, err := s.embedText(ctx, *in.Text)
		if err != nil {
			return nil, err
		}
		fresh = &e
	}
	unlock := s.lock(a.Workspace, id)
	defer unlock()
	s.flushSearchLog(ctx)
	res := &UpdateResult{}
	m, ev, err := s.store.UpdateMemory(ctx, a.Workspace, id, func(cur *memoryd.Memory) (*memoryd.Event, error) {
		prev := *cur
		res.EmbeddingRegenerated = s.apply(cur, in, fresh, a)
		return withEmbedding(res.EmbeddingRegenerated, cur)(updatedEvent(&prev, cur))
	})
	if err != nil {
		return nil, err
	}
	s.indexed(ctx, a.Workspace, id, ev.Seq, s.reindex(ctx, a.Workspace, m))
	res.Memory, res.Event = m, ev
	return res, nil
}

// reindex puts m's vector in the index after an update. A vector the
// update kept can be one LoadIndex skipped (every new one was checked):
// the memory then stays out of the index as it was, rather than the
// stored update being answered with an error.
func (s *Service) reindex(ctx context.Context, ws string, m *memoryd.Memory) error {
	if err := s.checkVector("embedding", m.Embedding); err != nil {
		s.log.WarnContext(ctx, "updated memory keeps a vector the index cannot hold",
			"workspace", ws, "id", m.ID, "reason", reason(err))
		return nil
	}
	return s.upsert(ws, m)
}

// checkUpdate checks the fields an update gives before anything is
// embedded or written.
func (s *Service) checkUpdate(in UpdateInput) error {
	if in.Text != nil {
		if err := s.checkText(*in.Text); err != nil {
			return err
		}
	}
	if err := checkMetadata(in.Metadata); err != nil {
		return err
	}
	if in.Embedding != nil {
		return s.checkVector("embedding", in.Embedding)
	}
	return nil
}

// apply writes the update into cur and reports whether the server embedded.
func (s *Service) apply(cur *memoryd.Memory, in UpdateInput, fresh *memoryd.Embedding, a Actor) bool {
	if in.Text != nil {
		cur.Text = *in.Text
	}
	if in.Metadata != nil {
		cur.Metadata = in.Metadata
	}
	regenerated := false
	switch {
	case in.Embedding != nil:
		cur.Embedding, cur.EmbeddingModel, cur.Tokens = in.Embedding, "client", 0
	case fresh != nil:
		cur.Embedding, cur.EmbeddingModel, cur.Tokens = fresh.Vector, s.embedder.Model(), fresh.Tokens
		regenerated = true
	}
	cur.UpdatedAt, cur.UpdatedBy = s.now().UTC(), a.User
	return regenerated
}

// Delete removes a memory; ErrNotFound if it does not exist.
func (s *Service) Delete(ctx context.Context, a Actor, id string) (*memoryd.Event, error) {
	unlock := s.lock(a.Workspace, id)
	defer unlock()
	s.flushSearchLog(ctx)
	ev, err := s.store.DeleteMemory(ctx, a.Workspace, id, func(prev *memoryd.Memory) (*memoryd.Event, error) {
		return deletedEvent(a.Workspace, id, a.User, s.now().UTC())
	})
	if err != nil {
		return nil, err
	}
	err = s.index.Delete(a.Workspace, id)
	if errors.Is(err, memoryd.ErrNotFound) {
		err = nil
	}
	s.indexed(ctx, a.Workspace, id, ev.Seq, err)
	return ev, nil
}

// Get reads one memory.
func (s *Service) Get(ctx context.Context, a Actor, id string) (*memoryd.Memory, error) {
	return s.store.GetMemory(ctx, a.Workspace, id)
}

// List reads one page.
func (s *Service) List(ctx context.Context, a Actor, q memoryd.ListQuery) (*memoryd.ListPage, error) {
	if err := checkFilter(q.Filter); err != nil {
		return nil, err
	}
	return s.store.ListMemories(ctx, a.Workspace, q)
}

package service

import (
	"context"
	"errors"

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
	if err := s.checkText(in.Text); err != nil {
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
	now := s.now().UTC()
	m.CreatedAt, m.UpdatedAt = now, now
	created, ev, err := s.store.PutMemory(ctx, m, func(prev *memoryd.Memory) (*memoryd.Event, error) {
		if prev == nil {
			return createdEvent(m)
		}
		m.CreatedAt, m.CreatedBy = prev.CreatedAt, prev.CreatedBy
		return updatedEvent(prev, m)
	})
	if err != nil {
		return nil, err
	}
	if err := s.index.Upsert(a.Workspace, m.ID, m.Embedding); err != nil {
		return nil, err
	}
	return &PutResult{Memory: m, Created: created, EmbeddingGenerated: generated, Event: ev}, nil
}

// vectorFor sets m's embedding from the client's vector or the embedder.
func (s *Service) vectorFor(ctx context.Context, m *memoryd.Memory, client []float32) (generated bool, err error) {
	if client != nil {
		if err := s.checkVector("embedding", client); err != nil {
			return false, err
		}
		m.Embedding, m.EmbeddingModel, m.Tokens = client, "client", 0
		return false, nil
	}
	e, err := s.embed(ctx, m.Text)
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
	if in.Text != nil {
		if err := s.checkText(*in.Text); err != nil {
			return nil, err
		}
	}
	if in.Embedding != nil {
		if err := s.checkVector("embedding", in.Embedding); err != nil {
			return nil, err
		}
	}
	// Embed before the transaction: it is slow and must not hold the writer.
	var fresh *memoryd.Embedding
	if in.Text != nil && in.Embedding == nil {
		e, err := s.embed(ctx, *in.Text)
		if err != nil {
			return nil, err
		}
		fresh = &e
	}
	unlock := s.lock(a.Workspace, id)
	defer unlock()
	res := &UpdateResult{}
	m, ev, err := s.store.UpdateMemory(ctx, a.Workspace, id, func(cur *memoryd.Memory) (*memoryd.Event, error) {
		prev := *cur
		res.EmbeddingRegenerated = s.apply(cur, in, fresh, a)
		return updatedEvent(&prev, cur)
	})
	if err != nil {
		return nil, err
	}
	if err := s.index.Upsert(a.Workspace, id, m.Embedding); err != nil {
		return nil, err
	}
	res.Memory, res.Event = m, ev
	return res, nil
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
	ev, err := s.store.DeleteMemory(ctx, a.Workspace, id, func(prev *memoryd.Memory) (*memoryd.Event, error) {
		return deletedEvent(a.Workspace, id, a.User, s.now().UTC())
	})
	if err != nil {
		return nil, err
	}
	if err := s.index.Delete(a.Workspace, id); err != nil && !errors.Is(err, memoryd.ErrNotFound) {
		return nil, err
	}
	return ev, nil
}

// Get reads one memory.
func (s *Service) Get(ctx context.Context, a Actor, id string) (*memoryd.Memory, error) {
	return s.store.GetMemory(ctx, a.Workspace, id)
}

// List reads one page.
func (s *Service) List(ctx context.Context, a Actor, q memoryd.ListQuery) (*memoryd.ListPage, error) {
	return s.store.ListMemories(ctx, a.Workspace, q)
}

package httpapi

import (
	"context"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/service"
)

// actor is the authenticated caller, set by withAuth.
func actor(ctx context.Context) service.Actor {
	p := auth.FromContext(ctx)
	return service.Actor{Workspace: p.Workspace, User: p.Key.User, KeyID: p.Key.ID}
}

func toAPIMemory(m *memoryd.Memory, withEmbedding bool) api.Memory {
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	out := api.Memory{
		Id: m.ID, Text: m.Text, Metadata: md, EmbeddingModel: m.EmbeddingModel,
		VectorDimensions: m.Dimensions(), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		CreatedBy: nonEmpty(m.CreatedBy), UpdatedBy: nonEmpty(m.UpdatedBy),
	}
	if withEmbedding {
		e := api.Embedding(m.Embedding)
		out.Embedding = &e
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func derefMap(p *map[string]any) map[string]any {
	if p == nil {
		return nil
	}
	return *p
}

func storeResult(r *service.PutResult) api.StoreResult {
	status := api.StoreResultStatusStored
	if !r.Created {
		status = api.StoreResultStatusUpdated
	}
	return api.StoreResult{
		Id: r.Memory.ID, Status: status, EmbeddingGenerated: r.EmbeddingGenerated,
		VectorDimensions: len(r.Memory.Embedding), TokensUsed: r.Memory.Tokens,
		EmbeddingModel: r.Memory.EmbeddingModel, CreatedAt: r.Memory.CreatedAt, UpdatedAt: r.Memory.UpdatedAt,
	}
}

func listFilter(p api.ListMemoriesParams) memoryd.Filter {
	f := memoryd.Filter{Type: deref(p.Type, ""), Source: deref(p.Source, ""), Tags: deref(p.Tags, nil),
		CreatedAfter: p.CreatedAfter, CreatedBefore: p.CreatedBefore}
	if p.Metadata != nil {
		f.Metadata = map[string]any{}
		for k, v := range *p.Metadata {
			f.Metadata[k] = v
		}
	}
	return f
}

func searchFilter(f *api.SearchFilters) (memoryd.Filter, map[string]any) {
	if f == nil {
		return memoryd.Filter{}, map[string]any{}
	}
	echo := map[string]any{}
	out := memoryd.Filter{Type: deref(f.Type, ""), Source: deref(f.Source, ""), Tags: deref(f.Tags, nil),
		Metadata: derefMap(f.Metadata)}
	if out.Type != "" {
		echo["type"] = out.Type
	}
	if out.Source != "" {
		echo["source"] = out.Source
	}
	if len(out.Tags) > 0 {
		echo["tags"] = out.Tags
	}
	for k, v := range out.Metadata {
		echo[k] = v
	}
	return out, echo
}

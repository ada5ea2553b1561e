package mcp

import (
	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// The structured results are the REST API's response bodies, built as
// httpapi builds them, except that memories never carry their embedding:
// a model has no use for hundreds of numbers.

func toAPIMemory(m *memoryd.Memory) api.Memory {
	md := m.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return api.Memory{Id: m.ID, Text: m.Text, Metadata: md, EmbeddingModel: m.EmbeddingModel,
		VectorDimensions: m.Dimensions(), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		CreatedBy: nonEmpty(m.CreatedBy), UpdatedBy: nonEmpty(m.UpdatedBy)}
}

func storeResult(r *service.PutResult) api.StoreResult {
	status := api.StoreResultStatusStored
	if !r.Created {
		status = api.StoreResultStatusUpdated
	}
	return api.StoreResult{Id: r.Memory.ID, Status: status, EmbeddingGenerated: r.EmbeddingGenerated,
		VectorDimensions: len(r.Memory.Embedding), TokensUsed: r.Memory.Tokens,
		EmbeddingModel: r.Memory.EmbeddingModel, CreatedAt: r.Memory.CreatedAt, UpdatedAt: r.Memory.UpdatedAt}
}

// searchFilter returns the filter and the filters object as
// search.performed echoes it.
func searchFilter(f *api.SearchFilters) (memoryd.Filter, map[string]any) {
	echo := map[string]any{}
	if f == nil {
		return memoryd.Filter{}, echo
	}
	out := memoryd.Filter{Type: deref(f.Type), Source: deref(f.Source), Metadata: deref(f.Metadata)}
	if f.Tags != nil {
		out.Tags = *f.Tags
	}
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

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

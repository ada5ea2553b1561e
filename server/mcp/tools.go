package mcp

import (
	"context"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// The tools, described for a model. Each mirrors one REST endpoint and
// returns its response body as structured content.

var storeTool = sdk.Tool{Name: "store", Title: "Store a memory",
	Description: "Save a memory: one self-contained fact, preference, decision or note, in plain text, " +
		"with optional JSON metadata (type, tags, source and timestamp are indexed for filtering). " +
		"The server embeds the text so that search finds it by meaning. Without an id a new memory is " +
		"created and its id returned; with the id of an existing memory it is replaced (upsert).",
	Annotations: &sdk.ToolAnnotations{DestructiveHint: ptr(false), IdempotentHint: false, OpenWorldHint: ptr(false)}}

var searchTool = sdk.Tool{Name: "search", Title: "Search memories",
	Description: "Find stored memories relevant to a query, best first, each with a score. " +
		"mode semantic (default) matches by meaning, keyword by words, hybrid combines both. " +
		"Use it before answering anything that may depend on what was remembered earlier. " +
		"Filters (type, tags, source, metadata) narrow the memories searched; threshold drops weak matches.",
	Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)}}

var getTool = sdk.Tool{Name: "get", Title: "Get a memory",
	Description: "Read one memory by its id: its text, metadata and timestamps.",
	Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)}}

var listTool = sdk.Tool{Name: "list", Title: "List memories",
	Description: "List memories newest first, one page at a time, optionally filtered by type, source, tags, " +
		"metadata or creation time. total counts every match; when next_cursor is returned, call list " +
		"again with it (and the same filters) for the next page.",
	Annotations: &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)}}

var updateTool = sdk.Tool{Name: "update", Title: "Update a memory",
	Description: "Change an existing memory by id: give a new text (it is embedded again), new metadata " +
		"(it replaces the old metadata as a whole), or both. Fails with NOT_FOUND when there is no such memory.",
	Annotations: &sdk.ToolAnnotations{DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)}}

var deleteTool = sdk.Tool{Name: "delete", Title: "Delete a memory",
	Description: "Delete a memory by id, for good. Use it for memories that are wrong or no longer true. " +
		"Fails with NOT_FOUND when there is no such memory.",
	Annotations: &sdk.ToolAnnotations{DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)}}

func ptr[T any](v T) *T { return &v }

// tools implements the tools on the service.
type tools struct {
	svc *service.Service
}

type storeArgs struct {
	ID       string         `json:"id"`
	Text     string         `json:"text"`
	Metadata map[string]any `json:"metadata"`
}

func (t *tools) store(ctx context.Context, a service.Actor, in storeArgs) (result, error) {
	res, err := t.svc.Put(ctx, a, service.PutInput{ID: in.ID, Text: in.Text, Metadata: in.Metadata})
	if err != nil {
		return result{}, err
	}
	out := storeResult(res)
	return result{out, storeText(out)}, nil
}

type searchArgs struct {
	Query     string             `json:"query"`
	Limit     int                `json:"limit"`
	Threshold float32            `json:"threshold"`
	Mode      string             `json:"mode"`
	Filters   *api.SearchFilters `json:"filters"`
	Alpha     *float32           `json:"alpha"`
}

func (t *tools) search(ctx context.Context, a service.Actor, in searchArgs) (result, error) {
	q := service.SearchQuery{Query: in.Query, Mode: in.Mode, Limit: in.Limit, Threshold: in.Threshold, Alpha: in.Alpha}
	q.Filter, q.FilterJSON = searchFilter(in.Filters)
	res, err := t.svc.Search(ctx, a, q)
	if err != nil {
		return result{}, err
	}
	out := api.SearchResponse{Query: q.Query, Mode: api.SearchResponseMode(q.Mode),
		Results: make([]api.SearchResult, 0, len(res.Hits)), TotalResults: len(res.Hits),
		SearchTimeMs: float64(res.Elapsed.Microseconds()) / 1000}
	for _, h := range res.Hits {
		out.Results = append(out.Results, api.SearchResult{Memory: toAPIMemory(h.Memory), Score: h.Score})
	}
	return result{out, searchText(out)}, nil
}

type idArgs struct {
	ID string `json:"id"`
}

func (t *tools) get(ctx context.Context, a service.Actor, in idArgs) (result, error) {
	m, err := t.svc.Get(ctx, a, in.ID)
	if err != nil {
		return result{}, err
	}
	out := toAPIMemory(m)
	return result{out, memoryText(out)}, nil
}

type listArgs struct {
	Limit         int               `json:"limit"`
	Cursor        string            `json:"cursor"`
	Type          string            `json:"type"`
	Source        string            `json:"source"`
	Tags          []string          `json:"tags"`
	Metadata      map[string]string `json:"metadata"`
	CreatedAfter  *time.Time        `json:"created_after"`
	CreatedBefore *time.Time        `json:"created_before"`
}

func (t *tools) list(ctx context.Context, a service.Actor, in listArgs) (result, error) {
	f := memoryd.Filter{Type: in.Type, Source: in.Source, Tags: in.Tags,
		CreatedAfter: in.CreatedAfter, CreatedBefore: in.CreatedBefore}
	if len(in.Metadata) > 0 {
		f.Metadata = map[string]any{}
		for k, v := range in.Metadata {
			f.Metadata[k] = v
		}
	}
	page, err := t.svc.List(ctx, a, memoryd.ListQuery{Filter: f, Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return result{}, err
	}
	out := api.MemoryList{Memories: make([]api.Memory, 0, len(page.Memories)), Total: page.Total,
		HasMore: page.NextCursor != "", NextCursor: nonEmpty(page.NextCursor)}
	for _, m := range page.Memories {
		out.Memories = append(out.Memories, toAPIMemory(m))
	}
	return result{out, listText(out)}, nil
}

type updateArgs struct {
	ID       string         `json:"id"`
	Text     *string        `json:"text"`
	Metadata map[string]any `json:"metadata"`
}

func (t *tools) update(ctx context.Context, a service.Actor, in updateArgs) (result, error) {
	if in.Text == nil && in.Metadata == nil {
		return result{}, &memoryd.Error{Code: memoryd.EINVALID, Message: "Give text or metadata (or both) to change",
			Details: map[string]any{"missing_fields": []string{"text", "metadata"}}}
	}
	res, err := t.svc.Update(ctx, a, in.ID, service.UpdateInput{Text: in.Text, Metadata: in.Metadata})
	if err != nil {
		return result{}, err
	}
	m := res.Memory
	tokens := 0
	if res.EmbeddingRegenerated {
		tokens = m.Tokens
	}
	out := api.UpdateResult{Id: m.ID, Status: api.UpdateResultStatusUpdated,
		EmbeddingRegenerated: res.EmbeddingRegenerated, VectorDimensions: len(m.Embedding),
		TokensUsed: tokens, UpdatedAt: m.UpdatedAt}
	return result{out, updateText(out)}, nil
}

func (t *tools) delete(ctx context.Context, a service.Actor, in idArgs) (result, error) {
	if _, err := t.svc.Delete(ctx, a, in.ID); err != nil {
		return result{}, err
	}
	out := api.DeleteResult{Success: true, DeletedId: in.ID}
	return result{out, "Deleted memory " + in.ID + "."}, nil
}

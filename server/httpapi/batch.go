package httpapi

import (
	"context"
	"errors"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/service"
)

// CreateMemories stores up to service.MaxBatch memories, each with its own
// outcome.
func (s *Server) CreateMemories(ctx context.Context, req api.CreateMemoriesRequestObject) (api.CreateMemoriesResponseObject, error) {
	items := make([]service.PutInput, len(req.Body.Memories))
	for i, b := range req.Body.Memories {
		items[i] = service.PutInput{ID: deref(b.Id, ""), Text: b.Text, Metadata: deref(b.Metadata, nil), Embedding: deref(b.Embedding, nil)}
	}
	res, err := s.svc.PutBatch(ctx, actor(ctx), items)
	if err != nil {
		return nil, err
	}
	out := api.CreateMemories200JSONResponse{Results: make([]api.BatchItemResult, len(res))}
	for i, r := range res {
		item := api.BatchItemResult{Index: i}
		switch {
		case r.Err != nil:
			item.Status, item.Error = api.BatchItemResultStatusFailed, s.itemError(ctx, i, r.Err)
			out.Failed++
		case r.Result.Created:
			sr := storeResult(r.Result)
			item.Status, item.Result = api.BatchItemResultStatusStored, &sr
			out.Stored++
		default:
			sr := storeResult(r.Result)
			item.Status, item.Result = api.BatchItemResultStatusUpdated, &sr
			out.Updated++
		}
		out.Results[i] = item
	}
	return out, nil
}

// itemError is an item's error envelope; internal errors are logged and
// shown as a generic message, as writeError does for a request.
func (s *Server) itemError(ctx context.Context, i int, err error) *api.Error {
	var e *memoryd.Error
	if !errors.As(err, &e) || statusOf[e.Code] == 0 {
		s.log.ErrorContext(ctx, "internal error in a batch item", "item", i, "err", err, "request_id", requestID(ctx))
		e = &memoryd.Error{Code: memoryd.EINTERNAL, Message: "Internal server error"}
	}
	out := &api.Error{Error: api.ErrorError(e.Code), Message: e.Message}
	if e.Details != nil {
		out.Details = &e.Details
	}
	return out
}

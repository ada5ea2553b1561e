package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/memoryd/memoryd/gen/api"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/spec"
)

// GetHealth reports that the process is up.
func (s *Server) GetHealth(ctx context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: api.HealthStatusOk, Version: nonEmpty(s.cfg.Version)}, nil
}

// readyLimit bounds each of GetReadiness's checks: one that has not
// answered by then reports its dependency unavailable. A database or
// Weaviate that stops answering without refusing (its host went away)
// leaves a connection hanging until the driver gives up (pgdriver: 5 s a
// dial, 10 s a read, and database/sql retries), and a probe must answer
// sooner than its caller gives up.
const readyLimit = 2 * time.Second

// withinReadyLimit runs check with readyLimit; past it, the error says
// which limit ran out.
func withinReadyLimit(ctx context.Context, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, readyLimit,
		fmt.Errorf("the readiness check took longer than its %v limit", readyLimit))
	defer cancel()
	err := check(ctx)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	return err
}

// GetReadiness checks the database and the vector engine (Weaviate; the
// in-process index always answers), and reports the stored vectors that
// start-up skipped: the server serves without them, and the operator
// should know.
func (s *Server) GetReadiness(ctx context.Context, _ api.GetReadinessRequestObject) (api.GetReadinessResponseObject, error) {
	checks := map[string]string{"database": "ok", "embedder": s.svc.Embedder().Model(), "vector_index": "ok"}
	if n := s.svc.SkippedVectors(); n > 0 {
		checks["vector_index"] = fmt.Sprintf("skipped %d", n)
	}
	ready := true
	if err := withinReadyLimit(ctx, s.svc.VectorHealth); err != nil {
		s.log.ErrorContext(ctx, "readiness: vector index", "err", err)
		checks["vector_index"] = "unavailable"
		ready = false
	}
	if err := withinReadyLimit(ctx, s.db.Ping); err != nil {
		s.log.ErrorContext(ctx, "readiness: database", "err", err)
		checks["database"] = "unavailable"
		ready = false
	}
	if !ready {
		return api.GetReadiness503JSONResponse{Status: api.HealthStatusUnavailable, Checks: &checks}, nil
	}
	return api.GetReadiness200JSONResponse{Status: api.HealthStatusOk, Checks: &checks}, nil
}

// GetOpenAPI serves spec/openapi.yaml as written.
func (s *Server) GetOpenAPI(ctx context.Context, _ api.GetOpenAPIRequestObject) (api.GetOpenAPIResponseObject, error) {
	b, err := spec.Files.ReadFile("openapi.yaml")
	if err != nil {
		return nil, err
	}
	return api.GetOpenAPI200ApplicationyamlResponse{Body: bytes.NewReader(b), ContentLength: int64(len(b))}, nil
}

// GetAsyncAPI serves spec/asyncapi.yaml as written.
func (s *Server) GetAsyncAPI(ctx context.Context, _ api.GetAsyncAPIRequestObject) (api.GetAsyncAPIResponseObject, error) {
	b, err := spec.Files.ReadFile("asyncapi.yaml")
	if err != nil {
		return nil, err
	}
	return api.GetAsyncAPI200ApplicationyamlResponse{Body: bytes.NewReader(b), ContentLength: int64(len(b))}, nil
}

// StreamEvents is served by the stream handler mounted with WithStream;
// without one the endpoint is unavailable.
func (s *Server) StreamEvents(ctx context.Context, _ api.StreamEventsRequestObject) (api.StreamEventsResponseObject, error) {
	return nil, errors.New("stream endpoint not mounted")
}

// CreateStreamTicket issues a browser stream ticket for the caller's workspace.
func (s *Server) CreateStreamTicket(ctx context.Context, _ api.CreateStreamTicketRequestObject) (api.CreateStreamTicketResponseObject, error) {
	if s.stream == nil {
		return nil, &memoryd.Error{Code: memoryd.EUNAVAILABLE, Message: "The stream is not enabled on this server"}
	}
	p := auth.FromContext(ctx)
	t, exp, err := s.stream.IssueTicket(p)
	if err != nil {
		return nil, err
	}
	return api.CreateStreamTicket201JSONResponse{Ticket: t, Workspace: p.Workspace, ExpiresAt: exp}, nil
}

// Package weaviate is the memoryd.VectorIndex on Weaviate, for deployments
// whose vectors outgrow one process or are shared by several nodes.
//
// One collection (Config.Class, "Memory" by default) holds every
// workspace's vectors, with Weaviate's native multi-tenancy: one tenant
// per workspace (schema.go), so isolation holds inside the engine and not
// only in our queries. Vectors are ours (vectorizer none) and compared by
// cosine distance; scores are cosine similarity, 1 - distance, as the
// in-process index reports them.
//
// Each object's UUID is derived from (workspace, memory id), so an upsert
// replaces the previous vector and replaying a write is harmless: several
// nodes, or a consumer replaying the log, may write the same memory
// without duplicating it. The memory id itself is a filterable property.
//
// Filters never fetch k and drop: SearchIDs ranks an explicit id list (a
// where-filter on the id property, split into batches whose top-k are
// merged), and SearchFilter ranks under memoryd.Filter conditions pushed
// into Weaviate as properties that UpsertDocs stores. Search's allow func
// cannot be sent to Weaviate; it is applied to the workspace's id list,
// which costs a scan of the ids, so callers with a filter should use
// SearchIDs or SearchFilter instead.
//
// Writes go through Weaviate's batch API: gRPC for batches of several
// objects when Config.GRPCHost is set, REST otherwise. Single writes (an
// API create or update waits for its own) are gathered per workspace into
// shared requests (coalesce.go) and go over REST: they must fail fast
// when Weaviate's host vanished, which only the REST connections notice
// (see deadPeerTimeout). Every request runs
// under Config.Timeout; when Weaviate is down or slow, methods return
// memoryd.EUNAVAILABLE.
package weaviate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weaviate/weaviate-go-client/v4/weaviate"
	"github.com/weaviate/weaviate-go-client/v4/weaviate/grpc"

	memoryd "github.com/memoryd/memoryd/server"
)

// Config locates Weaviate and names the collection.
type Config struct {
	// Host is the REST address, host:port.
	Host string
	// Scheme is "http" (default) or "https".
	Scheme string
	// GRPCHost is the gRPC address, host:port; writes use gRPC batches when
	// it is set and REST batches otherwise.
	GRPCHost string
	// APIKey, when set, authenticates every request.
	APIKey string
	// Class is the collection, "Memory" by default.
	Class string
	// Dims, when positive, is the one dimension vectors and queries must
	// have (the embedder's); 0 leaves the check to Weaviate, which fixes a
	// workspace's dimension with its first vector.
	Dims int
	// Timeout bounds each request, 30 s by default.
	Timeout time.Duration
}

// Defaults.
const (
	DefaultClass   = "Memory"
	defaultTimeout = 30 * time.Second
	// maxResults is Weaviate's default QUERY_MAXIMUM_RESULTS: a query's
	// limit may not exceed it.
	maxResults = 10000
)

// Index is a memoryd.VectorIndex on one Weaviate collection. Safe for
// concurrent use.
type Index struct {
	cfg    Config
	client *weaviate.Client
	rest   *weaviate.Client // REST only: writes while gRPC reconnects; nil without gRPC
	grpc   *grpcSearcher    // unfiltered searches; nil without gRPC

	// unready: Weaviate has not said it is ready since it last failed to
	// answer (or since Open); see do.
	unready atomic.Bool

	// single gathers one-memory writes into shared requests (coalesce.go);
	// joinedRequests counts the batches it sent.
	single         *coalescer
	joinedRequests atomic.Int64

	createMu sync.Mutex // serialises creating the collection
	mu       sync.Mutex
	schema   bool                // the collection is known to exist
	tenants  map[string]struct{} // tenants known to exist
}

var (
	_ memoryd.VectorIndex = (*Index)(nil)
	_ memoryd.Pinger      = (*Index)(nil)
)

// Open connects to Weaviate. It does not need Weaviate to be up: the
// collection and tenants are created on first use, so a node can start
// (and keep its writes in the log) while Weaviate is away.
func Open(cfg Config) (*Index, error) {
	if cfg.Host == "" {
		return nil, errors.New("weaviate: no host")
	}
	if cfg.Scheme == "" {
		cfg.Scheme = "http"
	}
	if cfg.Class == "" {
		cfg.Class = DefaultClass
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	wc := weaviate.Config{Host: cfg.Host, Scheme: cfg.Scheme, Timeout: cfg.Timeout,
		ConnectionClient: httpClient(cfg.Timeout)}
	if cfg.APIKey != "" {
		// What the client's auth.ApiKey sends, as a static header: its auth
		// setup would call Weaviate now, and Open must not need Weaviate up.
		wc.Headers = map[string]string{"Authorization": "Bearer " + cfg.APIKey}
	}
	x := &Index{cfg: cfg, tenants: map[string]struct{}{}, single: newCoalescer()}
	x.unready.Store(true)
	var err error
	if cfg.GRPCHost != "" {
		if x.rest, err = weaviate.NewClient(wc); err != nil {
			return nil, fmt.Errorf("weaviate: %w", err)
		}
		wc.GrpcConfig = &grpc.Config{Host: cfg.GRPCHost, Secured: cfg.Scheme == "https"}
		if x.grpc, err = newGRPCSearcher(cfg); err != nil {
			return nil, err
		}
	}
	if x.client, err = weaviate.NewClient(wc); err != nil {
		return nil, fmt.Errorf("weaviate: %w", err)
	}
	return x, nil
}

// Class is the collection the index uses.
func (x *Index) Class() string { return x.cfg.Class }

// Client is the underlying client (benchmarks query Weaviate directly).
func (x *Index) Client() *weaviate.Client { return x.client }

// Ping reports whether Weaviate answers its readiness check.
func (x *Index) Ping(ctx context.Context) error {
	ctx, cancel := x.limit(ctx, "ping")
	defer cancel()
	ready, err := x.client.Misc().ReadyChecker().Do(ctx)
	if err != nil {
		return classify(ctx, "ping", err)
	}
	if !ready {
		return errNotReady
	}
	return nil
}

// limit bounds one request by Config.Timeout; running out names the limit.
func (x *Index) limit(ctx context.Context, op string) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, x.cfg.Timeout,
		fmt.Errorf("weaviate %s: request limit (Config.Timeout, %v) exceeded", op, x.cfg.Timeout))
}

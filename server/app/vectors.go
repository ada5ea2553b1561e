package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/indexer"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/store/indexpos"
	"github.com/memoryd/memoryd/server/vector/memindex"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

// VectorsConfig chooses the vector index: the in-process one (URL empty)
// or Weaviate.
type VectorsConfig struct {
	// URL is weaviate://HOST:PORT (weaviates:// for https), optionally with
	// ?grpc=HOST:PORT (batched writes over gRPC), &class=NAME (the
	// collection, "Memory" by default) and &timeout=DURATION (each request's
	// limit, 30s by default).
	URL string
	// APIKey authenticates to Weaviate.
	APIKey string
	// SearchEf is the in-process index's accuracy: how many candidates a
	// semantic search explores (more finds more of the true nearest
	// neighbours, for more time), "exact" to rank every vector, empty for
	// the index's default.
	SearchEf string
}

const vectorsUsage = "vector index: empty for the in-process index, or weaviate://HOST:PORT[?grpc=HOST:PORT&class=NAME&timeout=30s] " +
	"(weaviates:// for https) to share one Weaviate between nodes"

// vectorFlags registers the vector index's settings (serve and mcp: both
// must use the index the other nodes use).
func vectorFlags(fs *envFlags, c *VectorsConfig) {
	fs.str(&c.URL, "vectors", "", vectorsUsage)
	fs.str(&c.APIKey, "weaviate-api-key", "", "API key for Weaviate")
	fs.str(&c.SearchEf, "search-ef", "", fmt.Sprintf("in-process index: candidates each semantic search explores in a workspace of "+
		"100,000 vectors or more (smaller ones explore proportionally fewer, at least 64), %d-%d "+
		"(more: higher recall, slower), or exact to rank every vector; empty for %d", minSearchEf, maxSearchEf, memindex.DefaultEfSearch))
}

// Bounds of --search-ef: below 10 a top-10 is guesswork, and past a few
// thousand candidates the exact scan is as fast.
const minSearchEf, maxSearchEf = 10, 5000

// validate checks the URL and the search breadth; the index is not
// contacted.
func (c VectorsConfig) validate() error {
	if _, err := c.searchEf(); err != nil {
		return err
	}
	_, err := c.weaviate(0)
	return err
}

// searchEf is --search-ef as memindex takes it (0: its default).
func (c VectorsConfig) searchEf() (int, error) {
	switch {
	case c.SearchEf == "":
		return 0, nil
	case c.URL != "":
		return 0, fmt.Errorf("--search-ef %q: applies to the in-process index only, not to --vectors", c.SearchEf)
	case c.SearchEf == "exact":
		return memindex.ExactEf, nil
	}
	ef, err := strconv.Atoi(c.SearchEf)
	if err != nil || ef < minSearchEf || ef > maxSearchEf {
		return 0, fmt.Errorf("--search-ef %q: want a number from %d to %d, or exact", c.SearchEf, minSearchEf, maxSearchEf)
	}
	return ef, nil
}

// weaviate is the Weaviate configuration of c; nil for the in-process
// index.
func (c VectorsConfig) weaviate(dims int) (*weaviate.Config, error) {
	if c.URL == "" {
		return nil, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("--vectors %q: %s (want weaviate://HOST:PORT[?grpc=HOST:PORT&class=NAME&timeout=DURATION])", c.URL, why)
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, bad("not a URL")
	}
	wc := &weaviate.Config{Host: u.Host, APIKey: c.APIKey, Dims: dims}
	switch u.Scheme {
	case "weaviate":
		wc.Scheme = "http"
	case "weaviates":
		wc.Scheme = "https"
	default:
		return nil, bad("unknown scheme " + u.Scheme)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil || u.User != nil || (u.Path != "" && u.Path != "/") {
		return nil, bad("the address must be HOST:PORT, without user or path")
	}
	q := u.Query()
	for k := range q {
		if k != "grpc" && k != "class" && k != "timeout" {
			return nil, bad("unknown parameter " + k)
		}
	}
	if g := q.Get("grpc"); g != "" {
		if _, _, err := net.SplitHostPort(g); err != nil {
			return nil, bad("grpc must be HOST:PORT")
		}
		wc.GRPCHost = g
	}
	wc.Class = q.Get("class")
	if t := q.Get("timeout"); t != "" {
		if wc.Timeout, err = time.ParseDuration(t); err != nil || wc.Timeout <= 0 {
			return nil, bad("timeout must be a positive duration such as 30s")
		}
	}
	return wc, nil
}

// vectors is a service with its vector index, kept following the shared
// log by a consumer until stop.
type vectors struct {
	svc    *service.Service
	index  memoryd.VectorIndex
	feed   *indexer.Consumer
	loaded int
	stop   func()
}

// startVectors opens the configured index, builds the service on it,
// brings the index up to date with the database (the in-process one is
// loaded; Weaviate is compared and only its differences written) and
// starts following the log. serve and mcp both start this way.
func startVectors(ctx context.Context, vc VectorsConfig, dsn string, st *store.Store, emb memoryd.Embedder, log *slog.Logger,
	opts ...service.Option) (*vectors, error) {
	wc, err := vc.weaviate(emb.Dims())
	if err != nil {
		return nil, err
	}
	ef, err := vc.searchEf()
	if err != nil {
		return nil, err
	}
	var idx memoryd.VectorIndex = memindex.New(memindex.WithHNSW(0, 0, ef))
	var cursor indexer.Cursor = &indexer.MemCursor{}
	feedOpts := []indexer.Option{indexer.WithLogger(log)}
	closePos := func() {}
	if wc != nil {
		w, err := weaviate.Open(*wc)
		if err != nil {
			return nil, err
		}
		idx = w
		log.Info("vector index: Weaviate", "host", wc.Host, "grpc", wc.GRPCHost, "class", w.Class())
		// One node at a time feeds Weaviate from the log, from the
		// position saved in the database.
		pos, err := indexpos.Open(ctx, dsn, "weaviate:"+w.Class())
		if err != nil {
			return nil, err
		}
		cursor, closePos = pos, func() { pos.Close() }
		feedOpts = append(feedOpts, indexer.WithGate(pos), indexer.WithMarker(w))
	}
	svc, err := service.New(st, idx, emb, append([]service.Option{service.WithLogger(log)}, opts...)...)
	if err != nil {
		closePos()
		return nil, err
	}
	// The index follows the shared log from the head it read before
	// loading, so it also learns what other nodes write.
	feed := indexer.New(st, svc, cursor, feedOpts...)
	start := time.Now()
	n, err := feed.Start(ctx)
	if err != nil {
		closePos()
		return nil, fmt.Errorf("loading vectors: %w", err)
	}
	log.Info("vector index loaded", "vectors", n, "duration", time.Since(start), "log_position", feed.Position())
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { feed.Run(feedCtx); close(done) }()
	stopSearchLog := svc.StartSearchLog()
	stop := func() { stopSearchLog(); stopFeed(); <-done; closePos() }
	return &vectors{svc: svc, index: idx, feed: feed, loaded: n, stop: stop}, nil
}

// Package app wires memoryd's parts together from a Config and runs them.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/events"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/mcp"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
)

// Version is set at build time (-ldflags "-X ...app.Version=..."), or
// read from the build's own information.
var Version = buildVersion()

// NewLogger returns the process logger. ParseServe has checked level and
// format; an unknown level logs at info.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	lv, _ := parseLevel(level)
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run serves until ctx is cancelled, then shuts down gracefully. ready, when
// non-nil, receives the bound address once the server serves (tests).
func Run(ctx context.Context, cfg Config, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("opening database: %w", err)
	}
	defer st.Close()
	emb, err := embed.New(cfg.Embed)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	log.Info("embedder ready", "model", emb.Model(), "dims", emb.Dims())
	vec, err := startVectors(ctx, cfg.Vectors, cfg.DB, st, emb, log, service.WithMaxTextBytes(cfg.MaxTextBytes))
	if err != nil {
		return err
	}
	defer vec.stop()
	svc := vec.svc
	if idx, ok := vec.index.(unlinker); ok {
		go reportLinking(ctx, idx, log, linkReportEvery)
	}
	stream, err := events.New(ctx, st, cfg.Stream, events.WithLogger(log), events.WithSearchCheck(svc.SearchHealth))
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	streamCtx, stopStream := context.WithCancel(context.WithoutCancel(ctx))
	streamDone := make(chan struct{})
	go func() { stream.Run(streamCtx); close(streamDone) }()
	defer func() { stopStream(); <-streamDone }()
	hooks, stopHooks := startWebhooks(ctx, st, cfg, log)
	defer stopHooks()
	httpCfg := cfg.HTTP
	httpCfg.Version = Version
	tools, err := mcp.Handler(svc, mcp.WithLogger(log), mcp.WithVersion(Version), mcp.WithMaxBodyBytes(httpCfg.MaxBodyBytes))
	if err != nil {
		return err
	}
	api := httpapi.New(httpCfg, svc, st,
		auth.NewAuthenticator(st), ratelimit.New(ratelimit.Limits{
			memoryd.TierFree: cfg.RateFree, memoryd.TierPro: cfg.RatePro, memoryd.TierEnterprise: cfg.RateEnt,
		}), log, httpapi.WithStream(stream), httpapi.WithWebhooks(hooks), httpapi.WithMCP(tools))
	h, err := api.Handler()
	if err != nil {
		return err
	}
	srv, err := httpapi.NewHTTPServer(httpCfg, stream.Measure(h), log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	// The first key is created only now that the server can serve: a start
	// that fails before this point shows no key, and the next one does.
	if err := bootstrapKey(ctx, st, cfg.BootstrapWorkspace, stdout, log); err != nil {
		ln.Close()
		return err
	}
	srv.RegisterOnShutdown(stream.Close)
	return serve(ctx, cfg, srv, ln, log, ready)
}

// bootstrapKey creates the first API key when the database has none, and
// prints it once: it is stored only as a hash.
func bootstrapKey(ctx context.Context, st memoryd.KeyStore, ws string, stdout io.Writer, log *slog.Logger) error {
	keys, err := st.ListKeys(ctx)
	if err != nil || len(keys) > 0 {
		return err
	}
	secret, k, err := auth.NewKey(ctx, st, []string{ws}, memoryd.TierUnlimited, "admin")
	if err != nil {
		return fmt.Errorf("creating the first API key: %w", err)
	}
	log.Info("created the first API key; it is shown once", "key_id", k.ID, "workspace", ws)
	fmt.Fprintf(stdout, "\nmemoryd: first start, created an API key for workspace %q (shown once, keep it):\n\n    %s\n\n"+
		"    export MEMORYD_API_KEY=%s\n\n", ws, secret, secret)
	return nil
}

// serve runs srv on ln until ctx ends. srv's shutdown hooks end the open
// streams: they never end by themselves, and Shutdown waits for them.
func serve(ctx context.Context, cfg Config, srv *http.Server, ln net.Listener, log *slog.Logger, ready chan<- string) error {
	log.Info("memoryd listening", "addr", "http://"+ln.Addr().String()+httpapi.BasePath, "version", Version,
		"db", store.Redact(cfg.DB), "read_header_timeout", srv.ReadHeaderTimeout, "read_timeout", srv.ReadTimeout,
		"idle_timeout", srv.IdleTimeout)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

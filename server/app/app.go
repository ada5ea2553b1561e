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
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/auth"
	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/events"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/ratelimit"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// Version is set at build time (-ldflags "-X ...app.Version=...").
var Version = "dev"

// NewLogger returns the process logger.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run serves until ctx is cancelled, then shuts down gracefully. ready, when
// non-nil, receives the bound address once the listener is up (tests).
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
	idx := memindex.New()
	svc := service.New(st, idx, emb, service.WithLogger(log), service.WithMaxTextBytes(cfg.MaxTextBytes))
	start := time.Now()
	n, err := svc.LoadIndex(ctx)
	if err != nil {
		return fmt.Errorf("loading vectors: %w", err)
	}
	log.Info("vector index loaded", "vectors", n, "duration", time.Since(start))
	go reportLinking(ctx, idx, log, linkReportEvery)
	if err := bootstrapKey(ctx, st, cfg.BootstrapWorkspace, stdout, log); err != nil {
		return err
	}
	stream, err := events.New(ctx, st, cfg.Stream, events.WithLogger(log), events.WithSearchCheck(svc.EmbedderHealth))
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	streamCtx, stopStream := context.WithCancel(context.WithoutCancel(ctx))
	streamDone := make(chan struct{})
	go func() { stream.Run(streamCtx); close(streamDone) }()
	defer func() { stopStream(); <-streamDone }()
	api := httpapi.New(httpapi.Config{MaxBodyBytes: cfg.MaxBodyBytes, Version: Version}, svc, st,
		auth.NewAuthenticator(st), ratelimit.New(ratelimit.Limits{
			memoryd.TierFree: cfg.RateFree, memoryd.TierPro: cfg.RatePro, memoryd.TierEnterprise: cfg.RateEnt,
		}), log, httpapi.WithStream(stream))
	h, err := api.Handler()
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stream.Measure(h), stream.Close, log, ready)
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

// serve runs the HTTP server until ctx ends. onShutdown runs when shutdown
// starts: open streams never end by themselves, and Shutdown waits for them.
func serve(ctx context.Context, cfg Config, h http.Handler, onShutdown func(), log *slog.Logger, ready chan<- string) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	srv.RegisterOnShutdown(onShutdown)
	log.Info("memoryd listening", "addr", "http://"+ln.Addr().String()+httpapi.BasePath, "version", Version,
		"db", store.Redact(cfg.DB))
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

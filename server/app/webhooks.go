package app

import (
	"context"
	"log/slog"

	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/webhooks"
)

// startWebhooks runs the webhook deliverer on st until the returned stop
// is called, and returns the management side the API mounts.
func startWebhooks(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) (*webhooks.Manager, func()) {
	guard := webhooks.NewGuard(cfg.WebhooksAllowPrivate)
	if cfg.WebhooksAllowPrivate {
		log.Warn("webhooks may reach private and loopback addresses and plain http (--webhooks-allow-private)")
	}
	d := webhooks.NewDeliverer(st, st, guard, cfg.Webhooks, log)
	m := webhooks.NewManager(st, guard)
	m.Wake = d.Wake
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		if err := d.Run(runCtx); err != nil {
			log.Error("webhooks: the deliverer stopped", "err", err)
		}
		close(done)
	}()
	return m, func() { stop(); <-done }
}

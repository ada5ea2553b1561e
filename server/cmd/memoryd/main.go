// Command memoryd is the memory service: `memoryd serve` runs it, `memoryd
// keys` manages API keys.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/memoryd/memoryd/server/app"
)

const usage = `usage: memoryd serve [flags]   run the service (memoryd serve -h lists the flags)
       memoryd keys create|list|revoke ...   manage API keys
       memoryd version`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "memoryd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("missing command\n%s", usage)
	}
	switch args[0] {
	case "serve":
		cfg, err := app.ParseServe(args[1:])
		if err != nil {
			return err
		}
		log := app.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
		// Packages that log without being handed a logger (the store's
		// checkpointer, the openai embedder's retries) use the default:
		// the process logger, in its format and at its level.
		slog.SetDefault(log)
		return app.Run(ctx, cfg, os.Stdout, log, nil)
	case "keys":
		return app.RunKeys(ctx, args[1:], os.Stdout, os.Stderr)
	case "version":
		fmt.Println(app.Version)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

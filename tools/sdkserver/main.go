// Command sdkserver runs a real memoryd for the client libraries' tests
// (TypeScript, Python): `go run ./tools/sdkserver [-cut-every N]`.
//
// It starts memoryd in-process on a loopback port (SQLite in a temporary
// directory, the hash embedder), creates two API keys for one workspace,
// starts a cut proxy on another port that aborts every event stream after
// every N-th event with an id (default 7, the welcome included), and
// prints ONE JSON line on stdout:
//
//	{"base_url": "http://127.0.0.1:P", "cut_base_url": "http://127.0.0.1:Q",
//	 "api_key": "...", "limited_api_key": "...", "workspace": "sdk"}
//
// Both base URLs are servers' roots, WITHOUT the API's base path /api/v1.
// api_key is unlimited. limited_api_key is refused with 429 and a
// Retry-After of 1-2 s on its first request after 5 s without one (and
// whenever it goes faster than one request per 2 s), so a client's retry
// of 429 can be tested.
//
// It runs until its stdin reaches EOF (its parent went away) or it gets
// SIGTERM or SIGINT, then stops and removes its data. Logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/memoryd/memoryd/internal/sdkenv"
)

func main() {
	cutEvery := flag.Int("cut-every", sdkenv.DefaultCutEvery, "events with an id the cut proxy relays per connection before it cuts")
	level := flag.String("log-level", "warn", "lowest level logged to stderr: debug, info, warn, error")
	flag.Parse()
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "sdkserver:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *cutEvery, log); err != nil {
		fmt.Fprintln(os.Stderr, "sdkserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cutEvery int, log *slog.Logger) error {
	env, err := sdkenv.Start(ctx, sdkenv.Options{CutEvery: cutEvery, Log: log})
	if err != nil {
		return err
	}
	defer env.Close()
	line, err := json.Marshal(env.Info)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(os.Stdout, "%s\n", line); err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	log.Info("sdkserver: stopping")
	return nil
}

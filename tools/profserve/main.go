// Command profserve runs `memoryd serve` with net/http/pprof on a second
// listener, for profiling under tools/load:
//
//	go run ./tools/profserve -pprof 127.0.0.1:6060 --embedder hash --db sqlite:///tmp/m.db
//	go tool pprof -top http://127.0.0.1:6060/debug/pprof/profile?seconds=10
//
// Every argument after -pprof is a `memoryd serve` flag. The binary itself
// serves no pprof: profiling endpoints stay out of production builds.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/memoryd/memoryd/server/app"
)

func main() {
	// -pprof must come first; flag parsing stops at the first serve flag
	// it does not know, so the rest go to ParseServe.
	fs := flag.NewFlagSet("profserve", flag.ExitOnError)
	addr := fs.String("pprof", "127.0.0.1:6060", "pprof listen address")
	args := os.Args[1:]
	if len(args) >= 2 && (args[0] == "-pprof" || args[0] == "--pprof") {
		fs.Parse(args[:2])
		args = args[2:]
	}
	cfg, err := app.ParseServe(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(2)
	}
	// Block and mutex profiles show where writers wait on each other.
	runtime.SetBlockProfileRate(10_000)
	runtime.SetMutexProfileFraction(10)
	go func() {
		if err := http.ListenAndServe(*addr, nil); err != nil {
			fmt.Fprintln(os.Stderr, "profserve: pprof:", err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, os.Stdout, app.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat), nil); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
}

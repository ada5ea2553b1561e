// Command memoryd is the memory service: `memoryd serve` runs it, `memoryd
// keys` manages API keys, `memoryd mcp` serves its tools to an agent on stdio,
// `memoryd reindex` rewrites the Weaviate index from the database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/memoryd/memoryd/server/app"
)

const usage = `usage: memoryd <command> [arguments]

commands:
  serve [flags]                 run the service (memoryd serve -h lists the flags)
  keys create|list|revoke ...   manage API keys (memoryd keys -h)
  mcp [flags]                   serve the memory tools to an agent over MCP on stdio (memoryd mcp -h)
  reindex [flags]               rewrite the Weaviate index from the database (memoryd reindex -h)
  export [flags]                write a workspace's memories as NDJSON on stdout (memoryd export -h)
  import [flags]                store NDJSON memories (an export) in a workspace (memoryd import -h)
  version                       print the version
  help [command]                print this help, or a command's`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command in args and returns the exit status: 0, 1 when the
// command failed, 2 when the command line does not parse. Help and the
// version go to stdout, errors to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdout, stderr)
	var ue *app.UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "memoryd: %v\n%s\n", ue.Err, ue.Usage)
		return 2
	default:
		fmt.Fprintln(stderr, "memoryd:", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &app.UsageError{Err: errors.New("missing command"), Usage: usage}
	}
	switch cmd := args[0]; {
	case app.IsHelp(cmd):
		return help(args[1:], stdout, stderr)
	case app.IsVersion(cmd):
		fmt.Fprintln(stdout, app.Version)
		return nil
	case cmd == "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case cmd == "keys":
		return app.RunKeys(ctx, args[1:], stdout, stderr)
	case cmd == "mcp":
		return runMCP(ctx, args[1:], os.Stdin, stdout, stderr)
	case cmd == "reindex":
		return app.RunReindex(ctx, args[1:], stdout, stderr)
	case cmd == "export":
		return app.RunExport(ctx, args[1:], stdout, stderr)
	case cmd == "import":
		return app.RunImport(ctx, args[1:], os.Stdin, stdout, stderr)
	}
	return &app.UsageError{Err: fmt.Errorf("unknown command %q", args[0]), Usage: usage}
}

// help answers `memoryd help [command]`.
func help(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	switch args[0] {
	case "serve":
		app.PrintServeUsage(stdout)
		return nil
	case "keys":
		return app.RunKeys(context.Background(), []string{"help"}, stdout, stderr)
	case "mcp":
		app.PrintMCPUsage(stdout)
		return nil
	case "reindex":
		app.PrintReindexUsage(stdout)
		return nil
	case "export", "import":
		return dispatch(context.Background(), []string{args[0], "-h"}, stdout, stderr)
	}
	return &app.UsageError{Err: fmt.Errorf("unknown help topic %q", args[0]), Usage: usage}
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := app.ParseServe(args)
	if errors.Is(err, flag.ErrHelp) {
		app.PrintServeUsage(stdout)
		return nil
	}
	if err != nil {
		return &app.UsageError{Err: err, Usage: "run memoryd serve -h for the flags"}
	}
	log := app.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	// Packages that log without being handed a logger (the store's
	// checkpointer, the openai embedder's retries) use the default: the
	// process logger, in its format and at its level.
	slog.SetDefault(log)
	return app.Run(ctx, cfg, stdout, log, nil)
}

// runMCP serves the MCP tools on stdin and stdout: stdout carries the
// protocol alone, so help goes there only when asked for, and logs go to
// stderr.
func runMCP(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := app.ParseMCP(args)
	if errors.Is(err, flag.ErrHelp) {
		app.PrintMCPUsage(stdout)
		return nil
	}
	if err != nil {
		return &app.UsageError{Err: err, Usage: "run memoryd mcp -h for the flags"}
	}
	log := app.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	slog.SetDefault(log)
	return app.RunMCP(ctx, cfg, io.NopCloser(stdin), nopWriteCloser{stdout}, log)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/mcp"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
)

// MCPConfig is memoryd mcp's configuration. Its flags and variables are
// serve's of the same name, so one environment configures both alike.
type MCPConfig struct {
	DB           string
	Embed        embed.Config
	Vectors      VectorsConfig
	MaxTextBytes int
	// Workspace is where the tools act.
	Workspace string
	LogLevel  string
	LogFormat string
}

// MCPUser is who the stdio tools act as: memories they write record it
// as created_by and updated_by.
const MCPUser = "mcp"

const mcpUsage = `usage: memoryd mcp [flags]

Serves the memory tools (store, search, get, list, update, delete) over
MCP on stdin and stdout, for an agent that starts memoryd itself, on the
database that memoryd serve uses. Logs go to stderr. Every flag can also
be set by its environment variable, shown after it; a flag on the command
line wins.

flags:
`

// ParseMCP parses `memoryd mcp` arguments; flag.ErrHelp when they ask
// for help (PrintMCPUsage prints it).
func ParseMCP(args []string) (MCPConfig, error) {
	var c MCPConfig
	err := parseArgs(mcpFlags(&c), args, func() error { return c.validate() })
	return c, err
}

// PrintMCPUsage writes `memoryd mcp`'s usage and flags to w.
func PrintMCPUsage(w io.Writer) {
	var c MCPConfig
	printUsage(w, mcpFlags(&c), mcpUsage)
}

func mcpFlags(c *MCPConfig) *envFlags {
	fs := newEnvFlags("mcp")
	fs.str(&c.DB, "db", "sqlite://./data/memoryd.db", "database: sqlite://PATH or postgres://...")
	embedFlags(fs, &c.Embed)
	vectorFlags(fs, &c.Vectors)
	fs.num(&c.MaxTextBytes, "max-text-bytes", 64<<10, "largest memory text in bytes")
	fs.str(&c.Workspace, "workspace", "default", "workspace the tools act in")
	fs.str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.str(&c.LogFormat, "log-format", "text", "text or json")
	return fs
}

func (c MCPConfig) validate() error {
	var errs []error
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.MaxTextBytes <= 0 {
		errs = append(errs, errors.New("--max-text-bytes must be positive"))
	}
	if c.Embed.Dims < 0 || c.Embed.OpenAIDims < 0 {
		errs = append(errs, errors.New("--hash-dims and --openai-dims must not be negative"))
	}
	if err := c.Vectors.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Workspace == "" || len(c.Workspace) > 128 {
		errs = append(errs, errors.New("--workspace must be 1 to 128 characters"))
	}
	return errors.Join(errs...)
}

// RunMCP serves the tools on in and out until ctx ends or the client
// closes in. Like serve, it keeps its vector index following the shared
// log, so it finds what a server on the same database writes, and its
// writes show on that server's stream.
func RunMCP(ctx context.Context, cfg MCPConfig, in io.ReadCloser, out io.WriteCloser, log *slog.Logger) error {
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("opening database: %w", err)
	}
	defer st.Close()
	emb, err := embed.New(cfg.Embed)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	vec, err := startVectors(ctx, cfg.Vectors, cfg.DB, st, emb, log, service.WithMaxTextBytes(cfg.MaxTextBytes))
	if err != nil {
		return err
	}
	defer vec.stop()
	svc := vec.svc
	log.Info("memoryd mcp serving on stdio", "version", Version, "db", store.Redact(cfg.DB), "workspace", cfg.Workspace,
		"model", emb.Model(), "vectors", vec.loaded)
	err = mcp.ServeStdio(ctx, svc, service.Actor{Workspace: cfg.Workspace, User: MCPUser}, in, out,
		mcp.WithLogger(log), mcp.WithVersion(Version))
	if ctx.Err() != nil {
		return nil // stopped by a signal
	}
	return err
}

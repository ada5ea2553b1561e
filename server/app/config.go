package app

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/events"
)

// Config is memoryd serve's configuration. Every flag has a MEMORYD_*
// environment variable (flag name upper-cased, dashes to underscores); a
// flag given on the command line wins.
type Config struct {
	Addr         string
	DB           string
	Embed        embed.Config
	RateFree     int
	RatePro      int
	RateEnt      int
	MaxBodyBytes int64
	MaxTextBytes int
	LogLevel     string
	LogFormat    string
	// BootstrapWorkspace receives the key created on first start.
	BootstrapWorkspace string
	ShutdownTimeout    time.Duration
	Stream             events.Config
}

// ParseServe parses `memoryd serve` arguments.
func ParseServe(args []string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	str(fs, &c.Addr, "addr", "127.0.0.1:8080", "listen address")
	str(fs, &c.DB, "db", "sqlite://./data/memoryd.db", "database: sqlite://PATH or postgres://...")
	str(fs, &c.Embed.Name, "embedder", "use-lite", "embedder: use-lite, hash or openai")
	num(fs, &c.Embed.Dims, "hash-dims", 512, "dimensions of the hash embedder")
	str(fs, &c.Embed.OpenAIBaseURL, "openai-base-url", "https://api.openai.com", "base URL of an OpenAI-compatible /v1/embeddings")
	str(fs, &c.Embed.OpenAIKey, "openai-api-key", "", "API key for the openai embedder")
	str(fs, &c.Embed.OpenAIModel, "openai-model", "text-embedding-3-small", "model for the openai embedder")
	num(fs, &c.Embed.OpenAIDims, "openai-dims", 0, "dimensions of the openai model (0: learn from the first answer)")
	num(fs, &c.RateFree, "rate-free", 100, "requests per hour for free-tier keys (0: unlimited)")
	num(fs, &c.RatePro, "rate-pro", 1000, "requests per hour for pro-tier keys (0: unlimited)")
	num(fs, &c.RateEnt, "rate-enterprise", 0, "requests per hour for enterprise keys (0: unlimited)")
	num64(fs, &c.MaxBodyBytes, "max-body-bytes", 4<<20, "largest request body (413 beyond)")
	num(fs, &c.MaxTextBytes, "max-text-bytes", 64<<10, "largest memory text in bytes (413 beyond)")
	str(fs, &c.LogLevel, "log-level", "info", "debug, info, warn or error")
	str(fs, &c.LogFormat, "log-format", "text", "text or json")
	str(fs, &c.BootstrapWorkspace, "bootstrap-workspace", "default", "workspace of the key created on first start")
	dur(fs, &c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "grace period for in-flight requests on SIGTERM")
	streamFlags(fs, &c.Stream)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

func envName(name string) string {
	b := []byte("MEMORYD_" + name)
	for i, ch := range b {
		switch {
		case ch == '-':
			b[i] = '_'
		case ch >= 'a' && ch <= 'z':
			b[i] = ch - 32
		}
	}
	return string(b)
}

func str(fs *flag.FlagSet, p *string, name, def, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	fs.StringVar(p, name, def, usage+" ($"+envName(name)+")")
}

func num(fs *flag.FlagSet, p *int, name string, def int, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		}
	}
	fs.IntVar(p, name, def, usage+" ($"+envName(name)+")")
}

func num64(fs *flag.FlagSet, p *int64, name string, def int64, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			def = n
		}
	}
	fs.Int64Var(p, name, def, usage+" ($"+envName(name)+")")
}

func dur(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	fs.DurationVar(p, name, def, usage+" ($"+envName(name)+")")
}

// streamFlags registers the live stream's settings.
func streamFlags(fs *flag.FlagSet, c *events.Config) {
	d := events.Default()
	num(fs, &c.MaxStreamsPerKey, "stream-max-per-key", d.MaxStreamsPerKey, "open streams allowed per API key (429 beyond)")
	num(fs, &c.EventsPerMinute, "stream-events-per-minute", d.EventsPerMinute, "live events delivered per minute per stream (paced, never dropped; a resume's catch-up is not paced)")
	dur(fs, &c.MinHeartbeat, "stream-min-heartbeat", d.MinHeartbeat, "smallest heartbeat interval a client may ask for")
	dur(fs, &c.SnapshotInterval, "stream-snapshot-interval", d.SnapshotInterval, "period of system.health and analytics.update")
	str(fs, &c.TicketSecret, "stream-ticket-secret", "", "secret for browser stream tickets (share it between nodes; empty: random per process)")
	dur(fs, &c.TicketTTL, "stream-ticket-ttl", d.TicketTTL, "lifetime of a browser stream ticket")
	dur(fs, &c.RetentionAge, "event-retention-age", d.RetentionAge, "events older than this are pruned from the log")
	num64(fs, &c.RetentionCount, "event-retention-count", d.RetentionCount, "the log keeps at most this many newest events")
}

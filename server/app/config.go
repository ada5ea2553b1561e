package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/events"
	"github.com/memoryd/memoryd/server/httpapi"
	"github.com/memoryd/memoryd/server/webhooks"
)

// Config is memoryd serve's configuration. Every flag has a MEMORYD_*
// environment variable (flag name upper-cased, dashes to underscores); a
// flag given on the command line wins.
type Config struct {
	Addr         string
	DB           string
	Embed        embed.Config
	Vectors      VectorsConfig
	RateFree     int
	RatePro      int
	RateEnt      int
	MaxTextBytes int
	// HTTP holds the body limit and the connection deadlines (its Version
	// is set by Run).
	HTTP      httpapi.Config
	LogLevel  string
	LogFormat string
	// BootstrapWorkspace receives the key created on first start.
	BootstrapWorkspace string
	ShutdownTimeout    time.Duration
	Stream             events.Config
	// WebhooksAllowPrivate lets webhooks reach loopback, private and
	// other special addresses, over plain http too (tests, local
	// development); never on a server that untrusted keys use.
	WebhooksAllowPrivate bool
	// Webhooks tunes deliveries (tests shorten the retry schedule).
	Webhooks webhooks.Config
}

const serveUsage = `usage: memoryd serve [flags]

Runs the memory service. Every flag can also be set by its environment
variable, shown after it; a flag on the command line wins.

flags:
`

// ParseServe parses `memoryd serve` arguments. It returns flag.ErrHelp
// when they ask for help (PrintServeUsage prints it), and an error naming
// the variable when a MEMORYD_* value in use does not parse.
func ParseServe(args []string) (Config, error) {
	var c Config
	err := parseArgs(serveFlags(&c), args, func() error { return c.validate() })
	return c, err
}

// parseArgs parses a command's args with fs, refuses positional arguments
// and runs validate; flag.ErrHelp when they ask for help.
func parseArgs(fs *envFlags, args []string, validate func() error) error {
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return validate()
}

// printUsage writes a command's usage and its flags with their built-in
// defaults to w.
func printUsage(w io.Writer, fs *envFlags, usage string) {
	fs.SetOutput(w)
	fmt.Fprint(w, usage)
	fs.PrintDefaults()
}

// PrintServeUsage writes `memoryd serve`'s usage and flags to w, with the
// built-in defaults: the environment's values, secrets among them, stay out.
func PrintServeUsage(w io.Writer) {
	var c Config
	printUsage(w, serveFlags(&c), serveUsage)
}

func serveFlags(c *Config) *envFlags {
	fs := newEnvFlags("serve")
	fs.str(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.str(&c.DB, "db", "sqlite://./data/memoryd.db", "database: sqlite://PATH or postgres://...")
	embedFlags(fs, &c.Embed)
	vectorFlags(fs, &c.Vectors)
	fs.num(&c.RateFree, "rate-free", 100, "requests per hour for free-tier keys (0: unlimited)")
	fs.num(&c.RatePro, "rate-pro", 1000, "requests per hour for pro-tier keys (0: unlimited)")
	fs.num(&c.RateEnt, "rate-enterprise", 0, "requests per hour for enterprise keys (0: unlimited)")
	fs.num(&c.MaxTextBytes, "max-text-bytes", 64<<10, "largest memory text in bytes (413 beyond)")
	httpFlags(fs, &c.HTTP)
	fs.str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.str(&c.LogFormat, "log-format", "text", "text or json")
	fs.str(&c.BootstrapWorkspace, "bootstrap-workspace", "default", "workspace of the key created on first start")
	fs.dur(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "grace period for in-flight requests on SIGTERM")
	streamFlags(fs, &c.Stream)
	fs.boolean(&c.WebhooksAllowPrivate, "webhooks-allow-private", false,
		"let webhooks reach loopback, private, link-local and metadata addresses, and plain http (tests and local development only)")
	return fs
}

// embedFlags registers the embedder's settings (serve and mcp: both must
// embed as the database's vectors were).
func embedFlags(fs *envFlags, c *embed.Config) {
	fs.str(&c.Name, "embedder", "use-lite", "embedder: use-lite, hash or openai")
	fs.num(&c.Dims, "hash-dims", 512, "dimensions of the hash embedder")
	fs.str(&c.OpenAIBaseURL, "openai-base-url", "https://api.openai.com", "base URL of an OpenAI-compatible /v1/embeddings")
	fs.str(&c.OpenAIKey, "openai-api-key", "", "API key for the openai embedder")
	fs.str(&c.OpenAIModel, "openai-model", "text-embedding-3-small", "model for the openai embedder")
	fs.num(&c.OpenAIDims, "openai-dims", 0, "dimensions of the openai model (0: learn from the first answer)")
}

// httpFlags registers the request body limit and the connection deadlines.
func httpFlags(fs *envFlags, c *httpapi.Config) {
	fs.num64(&c.MaxBodyBytes, "max-body-bytes", httpapi.DefaultMaxBodyBytes,
		"largest request body, on every path (413 beyond, refused before it is read)")
	fs.dur(&c.ReadHeaderTimeout, "read-header-timeout", httpapi.DefaultReadHeaderTimeout,
		"deadline to receive a request's headers; the connection is closed beyond")
	fs.dur(&c.ReadTimeout, "read-timeout", httpapi.DefaultReadTimeout,
		"deadline to receive a whole request, headers and body (400 and the connection closed beyond); handlers and streams run past it")
	fs.dur(&c.IdleTimeout, "idle-timeout", httpapi.DefaultIdleTimeout,
		"how long a kept-alive connection may wait for its next request")
}

// streamFlags registers the live stream's settings.
func streamFlags(fs *envFlags, c *events.Config) {
	d := events.Default()
	fs.num(&c.MaxStreamsPerKey, "stream-max-per-key", d.MaxStreamsPerKey, "open streams allowed per API key (429 beyond)")
	fs.num(&c.EventsPerMinute, "stream-events-per-minute", d.EventsPerMinute, "live events delivered per minute per stream (paced, never dropped; a resume's catch-up is not paced)")
	fs.dur(&c.MinHeartbeat, "stream-min-heartbeat", d.MinHeartbeat, "smallest heartbeat interval a client may ask for")
	fs.dur(&c.SnapshotInterval, "stream-snapshot-interval", d.SnapshotInterval, "period of system.health and analytics.update")
	fs.str(&c.TicketSecret, "stream-ticket-secret", "", "secret for browser stream tickets (share it between nodes; empty: random per process)")
	fs.dur(&c.TicketTTL, "stream-ticket-ttl", d.TicketTTL, "lifetime of a browser stream ticket")
	fs.dur(&c.RetentionAge, "event-retention-age", d.RetentionAge, "events older than this are pruned from the log")
	fs.num64(&c.RetentionCount, "event-retention-count", d.RetentionCount, "the log keeps at most this many newest events")
}

// validate checks what the flags' types do not.
func (c Config) validate() error {
	var errs []error
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if err := c.Vectors.validate(); err != nil {
		errs = append(errs, err)
	}
	positive := map[string]int64{"--max-body-bytes": c.HTTP.MaxBodyBytes, "--max-text-bytes": int64(c.MaxTextBytes),
		"--read-header-timeout": int64(c.HTTP.ReadHeaderTimeout), "--read-timeout": int64(c.HTTP.ReadTimeout),
		"--idle-timeout": int64(c.HTTP.IdleTimeout), "--shutdown-timeout": int64(c.ShutdownTimeout)}
	notNegative := map[string]int64{"--rate-free": int64(c.RateFree), "--rate-pro": int64(c.RatePro),
		"--rate-enterprise": int64(c.RateEnt), "--hash-dims": int64(c.Embed.Dims), "--openai-dims": int64(c.Embed.OpenAIDims)}
	for _, name := range slices.Sorted(maps.Keys(positive)) {
		if positive[name] <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(notNegative)) {
		if notNegative[name] < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name))
		}
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(s)); err != nil {
		return lv, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return lv, nil
}

// envFlags is a flag set whose defaults come from MEMORYD_* variables. A
// variable that does not parse is kept as an error, reported by parse
// unless the flag itself is given.
type envFlags struct {
	*flag.FlagSet
	envErrs map[string]error
}

func newEnvFlags(name string) *envFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// parse's caller prints the usage, on stdout when asked for.
	fs.SetOutput(io.Discard)
	return &envFlags{FlagSet: fs, envErrs: map[string]error{}}
}

// parse parses args, then reports the bad variables of flags not given.
func (fs *envFlags) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { delete(fs.envErrs, f.Name) })
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(fs.envErrs)) {
		errs = append(errs, fs.envErrs[name])
	}
	return errors.Join(errs...)
}

func envName(name string) string {
	return "MEMORYD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// env returns the variable of flag name, if set.
func (fs *envFlags) env(name string) (string, bool) {
	return os.LookupEnv(envName(name))
}

func (fs *envFlags) bad(name, v, want string) {
	fs.envErrs[name] = fmt.Errorf("environment variable %s=%q: want %s", envName(name), v, want)
}

// Each flag is registered with its built-in default, which the usage
// shows (the environment's values, secrets among them, stay out of it),
// then set from its variable; a flag on the command line overrides both.

func (fs *envFlags) str(p *string, name, def, usage string) {
	fs.StringVar(p, name, def, usage+" ($"+envName(name)+")")
	if v, ok := fs.env(name); ok {
		*p = v
	}
}

func (fs *envFlags) num(p *int, name string, def int, usage string) {
	fs.IntVar(p, name, def, usage+" ($"+envName(name)+")")
	if v, ok := fs.env(name); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			*p = n
		} else {
			fs.bad(name, v, "an integer")
		}
	}
}

func (fs *envFlags) num64(p *int64, name string, def int64, usage string) {
	fs.Int64Var(p, name, def, usage+" ($"+envName(name)+")")
	if v, ok := fs.env(name); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			*p = n
		} else {
			fs.bad(name, v, "an integer")
		}
	}
}

func (fs *envFlags) boolean(p *bool, name string, def bool, usage string) {
	fs.BoolVar(p, name, def, usage+" ($"+envName(name)+")")
	if v, ok := fs.env(name); ok {
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			*p = b
		} else {
			fs.bad(name, v, "true or false")
		}
	}
}

func (fs *envFlags) dur(p *time.Duration, name string, def time.Duration, usage string) {
	fs.DurationVar(p, name, def, usage+" ($"+envName(name)+")")
	if v, ok := fs.env(name); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
			*p = d
		} else {
			fs.bad(name, v, "a duration such as 30s or 5m")
		}
	}
}

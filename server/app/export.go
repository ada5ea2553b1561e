package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
)

// BulkConfig is memoryd export's and import's configuration: either a
// database (the command works on it directly, safe while servers run:
// they follow its log) or a server's URL with a key (through the API).
type BulkConfig struct {
	DB        string
	URL       string
	Key       string
	Embed     embed.Config
	Workspace string
	// Cursor resumes an export after the line that carried it.
	Cursor string
	// File is the import's input ("-" or empty: stdin).
	File        string
	Skip        int
	StopOnError bool
	Reembed     bool
	LogLevel    string
	LogFormat   string
}

const exportUsage = `usage: memoryd export [flags] > memories.ndjson

Writes every memory of a workspace, vectors included, as NDJSON on stdout
(one memory per line, as GET /api/v1/memory/export does). Each line
carries a cursor: --cursor resumes a broken export after that line.
Works on the database (--db) or through a server (--url and --key).
Progress goes to stderr (a bar on a terminal, log lines otherwise).
Every flag can also be set by its environment variable, shown after it.

flags:
`

const importUsage = `usage: memoryd import [flags] < memories.ndjson

Reads NDJSON memories (an export) and stores them in a workspace, 500 per
transaction, upserting by id, with their events. A line's vector is kept
when it was made by this embedder model with its dimension (or supplied
by a client with it); otherwise the text is embedded again. Refused
lines are reported and skipped (--stop-on-error stops at the first);
the summary names the last committed line: --skip resumes after it.
Works on the database (--db, with serve's embedder flags) or through a
server (--url and --key). Progress goes to stderr, the summary to stdout.

flags:
`

func bulkFlags(name string, c *BulkConfig) *envFlags {
	fs := newEnvFlags(name)
	fs.str(&c.DB, "db", "sqlite://./data/memoryd.db", "database: sqlite://PATH or postgres://... (unless --url)")
	fs.str(&c.URL, "url", "", "a memoryd server's base URL, e.g. http://127.0.0.1:8080 (instead of --db)")
	fs.str(&c.Key, "key", "", "API key for --url")
	fs.str(&c.Workspace, "workspace", "default", "workspace (with --url: sent as X-Workspace-ID)")
	fs.str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.str(&c.LogFormat, "log-format", "text", "text or json")
	if name == "export" {
		fs.str(&c.Cursor, "cursor", "", "resume after the line that carried this cursor")
		return fs
	}
	embedFlags(fs, &c.Embed)
	fs.str(&c.File, "file", "-", "NDJSON input (-: stdin)")
	fs.num(&c.Skip, "skip", 0, "lines to pass over first (a previous import's last committed line)")
	fs.boolean(&c.StopOnError, "stop-on-error", false, "stop at the first refused line")
	fs.boolean(&c.Reembed, "reembed", false, "embed every text again, whatever vectors the lines carry")
	return fs
}

func (c BulkConfig) validate() error {
	var errs []error
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.URL != "" && c.Key == "" {
		errs = append(errs, errors.New("--url needs --key"))
	}
	if c.Workspace == "" || len(c.Workspace) > 128 {
		errs = append(errs, errors.New("--workspace must be 1 to 128 characters"))
	}
	if c.Skip < 0 {
		errs = append(errs, errors.New("--skip must not be negative"))
	}
	return errors.Join(errs...)
}

// parseBulk parses export's or import's args; flag.ErrHelp when they ask
// for help, after printing the usage to stdout.
func parseBulk(name, usage string, args []string, stdout io.Writer) (BulkConfig, error) {
	var c BulkConfig
	err := parseArgs(bulkFlags(name, &c), args, func() error { return c.validate() })
	if errors.Is(err, flag.ErrHelp) {
		var d BulkConfig
		printUsage(stdout, bulkFlags(name, &d), usage)
	} else if err != nil {
		err = &UsageError{Err: err, Usage: "run memoryd " + name + " -h for the flags"}
	}
	return c, err
}

// RunExport is `memoryd export`.
func RunExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBulk("export", exportUsage, args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	p := newProgress(stderr, log, "export")
	start := time.Now()
	var n int
	if cfg.URL != "" {
		n, err = exportURL(ctx, cfg, stdout, p)
	} else {
		n, err = exportDB(ctx, cfg, stdout, p, log)
	}
	p.end()
	if err != nil {
		return err
	}
	log.Info("export done", "memories", n, "workspace", cfg.Workspace, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

func exportDB(ctx context.Context, cfg BulkConfig, w io.Writer, p *progress, log *slog.Logger) (int, error) {
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return 0, fmt.Errorf("opening database: %w", err)
	}
	defer st.Close()
	page, err := st.ListMemories(ctx, cfg.Workspace, memoryd.ListQuery{Limit: 1})
	if err != nil {
		return 0, err
	}
	p.begin(page.Total)
	// Export reads only: the embedder and the index are never used.
	svc, err := service.New(st, memindex.New(), nil, service.WithLogger(log))
	if err != nil {
		return 0, err
	}
	a := service.Actor{Workspace: cfg.Workspace, User: "export"}
	return svc.Export(ctx, a, cfg.Cursor, w, p.set)
}

// RunImport is `memoryd import`; the summary goes to stdout.
func RunImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := parseBulk("import", importUsage, args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	in, size, err := openInput(cfg.File, stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	p := newProgress(stderr, log, "import")
	start := time.Now()
	var rep *service.ImportReport
	if cfg.URL != "" {
		p.what = "import (KiB sent)"
		p.begin(int(size >> 10))
		rep, err = importURL(ctx, cfg, &countingReader{r: in, p: p})
	} else {
		rep, err = importDB(ctx, cfg, in, p, log)
	}
	p.end()
	if rep != nil {
		fmt.Fprintf(stdout, "import: %d lines, %d imported (%d created, %d updated, %d re-embedded), %d failed, last committed line %d, in %v\n",
			rep.Lines, rep.Imported, rep.Created, rep.Updated, rep.Reembedded, rep.Failed, rep.LastCommittedLine,
			time.Since(start).Round(time.Millisecond))
		for _, e := range rep.Errors {
			fmt.Fprintf(stdout, "line %d: %s: %s\n", e.Line, e.Code, e.Message)
		}
	}
	return err
}

func importDB(ctx context.Context, cfg BulkConfig, in io.Reader, p *progress, log *slog.Logger) (*service.ImportReport, error) {
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	defer st.Close()
	emb, err := embed.New(cfg.Embed)
	if err != nil {
		return nil, fmt.Errorf("embedder: %w", err)
	}
	// The servers on this database follow its log into their own
	// indexes; this process's index is thrown away.
	svc, err := service.New(st, memindex.New(), emb, service.WithLogger(log))
	if err != nil {
		return nil, err
	}
	p.begin(0)
	a := service.Actor{Workspace: cfg.Workspace, User: "import"}
	return svc.Import(ctx, a, in, service.ImportOptions{Skip: cfg.Skip, StopOnError: cfg.StopOnError, Reembed: cfg.Reembed,
		Progress: func(r service.ImportReport) { p.set(r.Lines) }})
}

// openInput opens the import's input and its size (0 when unknown).
func openInput(name string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if name == "" || name == "-" {
		return io.NopCloser(stdin), 0, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/indexer"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

// ReindexConfig is memoryd reindex's configuration. Its flags and
// variables are serve's of the same name, so one environment configures
// both alike.
type ReindexConfig struct {
	DB      string
	Embed   embed.Config
	Vectors VectorsConfig
	// Workspace, when set, limits the pass to that workspace.
	Workspace string
	LogLevel  string
	LogFormat string
}

const reindexUsage = `usage: memoryd reindex [flags]

Writes every stored memory's vector, with its filter attributes, from the
database into the Weaviate index given by --vectors, and removes the
vectors Weaviate holds for memories the database no longer has; safe while
servers run. The embedder flags must be serve's: they fix the vectors'
dimension. Progress goes to stderr (a bar on a terminal), the summary to
stdout. Every flag can also be set by its environment variable, shown
after it; a flag on the command line wins.

flags:
`

// errInProcess is the answer without --vectors: there is nothing to do.
var errInProcess = errors.New("reindex needs --vectors (or MEMORYD_VECTORS): without it memoryd uses the in-process " +
	"vector index, which every memoryd serve and mcp rebuilds from the database at each start")

// reindexBatch is how many memories one ApplyCurrent call writes.
const reindexBatch = 500

// ParseReindex parses `memoryd reindex` arguments; flag.ErrHelp when they
// ask for help (PrintReindexUsage prints it).
func ParseReindex(args []string) (ReindexConfig, error) {
	var c ReindexConfig
	err := parseArgs(reindexFlags(&c), args, func() error { return c.validate() })
	return c, err
}

// PrintReindexUsage writes `memoryd reindex`'s usage and flags to w.
func PrintReindexUsage(w io.Writer) {
	var c ReindexConfig
	printUsage(w, reindexFlags(&c), reindexUsage)
}

func reindexFlags(c *ReindexConfig) *envFlags {
	fs := newEnvFlags("reindex")
	fs.str(&c.DB, "db", "sqlite://./data/memoryd.db", "database: sqlite://PATH or postgres://...")
	embedFlags(fs, &c.Embed)
	vectorFlags(fs, &c.Vectors)
	fs.str(&c.Workspace, "workspace", "", "re-index this workspace only (empty: every workspace)")
	fs.str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.str(&c.LogFormat, "log-format", "text", "text or json")
	return fs
}

func (c ReindexConfig) validate() error {
	var errs []error
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.Embed.Dims < 0 || c.Embed.OpenAIDims < 0 {
		errs = append(errs, errors.New("--hash-dims and --openai-dims must not be negative"))
	}
	if err := c.Vectors.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Workspace) > 128 {
		errs = append(errs, errors.New("--workspace must be at most 128 characters"))
	}
	return errors.Join(errs...)
}

// RunReindex is `memoryd reindex`: it parses args, re-indexes, and
// prints the summary on stdout. A command line that does not parse, and a
// missing --vectors, are UsageErrors (exit 2).
func RunReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := ParseReindex(args)
	if errors.Is(err, flag.ErrHelp) {
		PrintReindexUsage(stdout)
		return nil
	}
	if err == nil && cfg.Vectors.URL == "" {
		err = errInProcess
	}
	if err != nil {
		return &UsageError{Err: err, Usage: "run memoryd reindex -h for the flags"}
	}
	log := NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	sum, err := Reindex(ctx, cfg, newBar(stderr, log), log)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sum)
	return nil
}

// ReindexSummary is what a reindex did.
type ReindexSummary struct {
	Written, Removed, Skipped int
	Duration                  time.Duration
}

func (s ReindexSummary) String() string {
	return fmt.Sprintf("reindex done: %d vectors written, %d removed, %d skipped (unrankable, left out), in %v",
		s.Written, s.Removed, s.Skipped, s.Duration.Round(time.Millisecond))
}

// Reindex brings the Weaviate index to the database's state. It runs as a
// log follower whose load is the full pass: the log's head is read first
// and the changes committed during the pass are applied after it, so a
// memory written meanwhile by a server is never left with an older
// vector.
func Reindex(ctx context.Context, cfg ReindexConfig, bar *bar, log *slog.Logger) (ReindexSummary, error) {
	start := time.Now()
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return ReindexSummary{}, fmt.Errorf("opening database: %w", err)
	}
	defer st.Close()
	emb, err := embed.New(cfg.Embed)
	if err != nil {
		return ReindexSummary{}, fmt.Errorf("embedder: %w", err)
	}
	wc, err := cfg.Vectors.weaviate(emb.Dims())
	if err != nil {
		return ReindexSummary{}, err
	}
	idx, err := weaviate.Open(*wc)
	if err != nil {
		return ReindexSummary{}, err
	}
	svc, err := service.New(st, idx, emb, service.WithLogger(log))
	if err != nil {
		return ReindexSummary{}, err
	}
	log.Info("reindex: Weaviate from the database", "db", store.Redact(cfg.DB), "host", wc.Host, "class", idx.Class(),
		"workspace", cfg.Workspace, "dims", emb.Dims())
	p := &pass{Service: svc, st: st, idx: idx, ws: cfg.Workspace, dims: emb.Dims(), bar: bar}
	feed := indexer.New(st, p, &indexer.MemCursor{}, indexer.WithLogger(log))
	if _, err := feed.Start(ctx); err != nil {
		return p.sum, err
	}
	if err := feed.CatchUp(ctx); err != nil {
		return p.sum, fmt.Errorf("applying the changes made during the pass: %w", err)
	}
	if cfg.Workspace == "" {
		// Whole again: the servers' feeder stops looking for a wipe.
		if err := idx.Mark(ctx); err != nil {
			return p.sum, fmt.Errorf("marking Weaviate as filled: %w", err)
		}
	}
	p.sum.Duration = time.Since(start)
	log.Info("reindex done", "written", p.sum.Written, "removed", p.sum.Removed, "skipped", p.sum.Skipped,
		"duration", p.sum.Duration.Round(time.Millisecond))
	return p.sum, nil
}

// pass is the indexer Target of a reindex: its load is the full pass;
// the rest is the service's.
type pass struct {
	*service.Service
	st   *store.Store
	idx  *weaviate.Index
	ws   string
	dims int
	bar  *bar
	sum  ReindexSummary
}

// LoadIndex applies every stored memory, then removes each workspace's
// vectors without a stored memory, in batches through ApplyCurrent.
func (p *pass) LoadIndex(ctx context.Context) (int, error) {
	p.sum = ReindexSummary{} // a retried load starts over
	stored := map[string][]string{}
	if p.ws != "" {
		stored[p.ws] = nil
	}
	err := p.st.EachVector(ctx, func(ws, id string, vec []float32) error {
		if p.ws != "" && ws != p.ws {
			return nil
		}
		stored[ws] = append(stored[ws], id)
		if !rankable(vec, p.dims) {
			p.sum.Skipped++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	extra := map[string][]string{}
	total := 0
	for ws, ids := range stored {
		p.sum.Written += len(ids)
		indexed, err := p.idx.IDs(ws)
		if err != nil {
			return 0, fmt.Errorf("listing workspace %s in Weaviate: %w", ws, err)
		}
		extra[ws] = missing(indexed, ids)
		total += len(ids) + len(extra[ws])
	}
	p.bar.begin(total)
	defer p.bar.end()
	for _, ws := range slices.Sorted(maps.Keys(stored)) {
		if err := p.apply(ctx, ws, stored[ws]); err != nil {
			return p.sum.Written, err
		}
		if err := p.apply(ctx, ws, extra[ws]); err != nil {
			return p.sum.Written, err
		}
		p.sum.Removed += len(extra[ws])
	}
	p.sum.Written -= p.sum.Skipped
	return p.sum.Written, nil
}

// apply writes the stored state of ids in batches.
func (p *pass) apply(ctx context.Context, ws string, ids []string) error {
	for start := 0; start < len(ids); start += reindexBatch {
		chunk := ids[start:min(start+reindexBatch, len(ids))]
		if err := p.ApplyCurrent(ctx, ws, chunk); err != nil {
			return fmt.Errorf("writing workspace %s to Weaviate: %w", ws, err)
		}
		p.bar.add(len(chunk))
	}
	return nil
}

// missing returns the ids of a that are not in b.
func missing(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, id := range b {
		in[id] = true
	}
	var out []string
	for _, id := range a {
		if !in[id] {
			out = append(out, id)
		}
	}
	return out
}

// rankable reports whether the service will index vec, only to count the
// ones it leaves out (it decides, and logs each one).
func rankable(vec []float32, dims int) bool {
	if len(vec) != dims {
		return false
	}
	nonzero := false
	for _, v := range vec {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
		nonzero = nonzero || v != 0
	}
	return nonzero
}

// bar shows a reindex's progress: a line redrawn in place on a terminal,
// a log line every few seconds otherwise.
type bar struct {
	w     io.Writer
	tty   bool
	log   *slog.Logger
	every time.Duration

	total int
	n     int
	start time.Time
	next  time.Time
}

// barEvery is how often the bar is redrawn, and logEvery how often a
// progress line is logged when stderr is not a terminal.
const (
	barEvery = 200 * time.Millisecond
	logEvery = 5 * time.Second
)

func newBar(w io.Writer, log *slog.Logger) *bar {
	b := &bar{w: w, log: log, every: logEvery}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty, b.every = true, barEvery
		}
	}
	return b
}

func (b *bar) begin(total int) {
	b.total, b.n, b.start = total, 0, time.Now()
	b.next = b.start.Add(b.every)
	b.log.Info("reindex: writing", "memories", total)
	b.draw()
}

func (b *bar) add(n int) {
	b.n += n
	if now := time.Now(); now.After(b.next) {
		b.next = now.Add(b.every)
		b.draw()
	}
}

func (b *bar) end() {
	b.draw()
	if b.tty {
		fmt.Fprintln(b.w)
	}
}

// draw shows count/total, the rate and the time left.
func (b *bar) draw() {
	elapsed := time.Since(b.start)
	rate := float64(b.n) / max(elapsed.Seconds(), 1e-3)
	eta := time.Duration(0)
	if rate > 0 {
		eta = time.Duration(float64(b.total-b.n) / rate * float64(time.Second)).Round(time.Second)
	}
	if !b.tty {
		b.log.Info("reindex progress", "done", b.n, "total", b.total, "per_second", int(rate), "eta", eta)
		return
	}
	const width = 30
	filled := width
	if b.total > 0 {
		filled = width * b.n / b.total
	}
	fmt.Fprintf(b.w, "\r[%s%s] %d/%d  %.0f/s  ETA %v ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		b.n, b.total, rate, eta)
}

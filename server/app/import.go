package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/memoryd/memoryd/server/service"
)

// exportURL copies a server's export to w, counting lines. A line that
// is an error envelope (the server failed midway) ends it with that
// error.
func exportURL(ctx context.Context, cfg BulkConfig, w io.Writer, p *progress) (int, error) {
	u := strings.TrimRight(cfg.URL, "/") + "/api/v1/memory/export"
	if cfg.Cursor != "" {
		u += "?cursor=" + url.QueryEscape(cfg.Cursor)
	}
	res, err := bulkRequest(ctx, cfg, http.MethodGet, u, nil, "")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	p.begin(0)
	br := bufio.NewReaderSize(res.Body, 1<<20)
	bw := bufio.NewWriterSize(w, 1<<20)
	defer bw.Flush()
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if bytes.HasPrefix(line, []byte(`{"error":`)) {
				return n, fmt.Errorf("the server stopped the export: %s", bytes.TrimSpace(line))
			}
			if _, werr := bw.Write(line); werr != nil {
				return n, werr
			}
			n++
			p.set(n)
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("export cut after %d memories (resume with --cursor from the last line): %w", n, err)
		}
	}
}

// importURL sends body to a server's import and decodes its report.
func importURL(ctx context.Context, cfg BulkConfig, body io.Reader) (*service.ImportReport, error) {
	q := url.Values{}
	q.Set("skip", fmt.Sprint(cfg.Skip))
	q.Set("stop_on_error", fmt.Sprint(cfg.StopOnError))
	q.Set("reembed", fmt.Sprint(cfg.Reembed))
	u := strings.TrimRight(cfg.URL, "/") + "/api/v1/memory/import?" + q.Encode()
	res, err := bulkRequest(ctx, cfg, http.MethodPost, u, body, "application/x-ndjson")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var rep service.ImportReport
	if err := json.NewDecoder(res.Body).Decode(&rep); err != nil {
		return nil, fmt.Errorf("import: reading the report: %w", err)
	}
	return &rep, nil
}

// bulkRequest sends one request with the key and workspace; a status
// other than 200 is an error quoting the server's envelope.
func bulkRequest(ctx context.Context, cfg BulkConfig, method, u string, body io.Reader, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.Key)
	req.Header.Set("X-Workspace-ID", cfg.Workspace)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, res.Status, bytes.TrimSpace(msg))
	}
	return res, nil
}

// countingReader reports the KiB read to p.
type countingReader struct {
	r io.Reader
	p *progress
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.p.set(int(c.n >> 10))
	return n, err
}

// progress shows an export's or import's progress on stderr: a line
// redrawn in place on a terminal, a log line every few seconds otherwise.
type progress struct {
	w     io.Writer
	log   *slog.Logger
	what  string
	tty   bool
	every time.Duration
	total int
	n     int
	start time.Time
	next  time.Time
}

func newProgress(w io.Writer, log *slog.Logger, what string) *progress {
	p := &progress{w: w, log: log, what: what, every: logEvery}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, barEvery
		}
	}
	return p
}

func (p *progress) begin(total int) {
	p.total, p.start = total, time.Now()
	p.next = p.start.Add(p.every)
}

// set records that n items (or KiB) are done.
func (p *progress) set(n int) {
	p.n = n
	if now := time.Now(); now.After(p.next) {
		p.next = now.Add(p.every)
		p.draw()
	}
}

func (p *progress) end() {
	if p.tty && !p.start.IsZero() {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

func (p *progress) draw() {
	rate := float64(p.n) / max(time.Since(p.start).Seconds(), 1e-3)
	if !p.tty {
		p.log.Info(p.what+" progress", "done", p.n, "total", p.total, "per_second", int(rate))
		return
	}
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s: %d  %.0f/s ", p.what, p.n, rate)
		return
	}
	const width = 30
	filled := min(width, width*p.n/p.total)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d  %.0f/s ", p.what, strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		p.n, p.total, rate)
}

// Command bulkbench measures bulk writes and an export/import round trip
// on a memoryd it starts itself (a built binary, a throwaway SQLite
// database, a free loopback port):
//
//	go build -o /tmp/memoryd ./server/cmd/memoryd
//	go run ./tools/bulkbench -memoryd /tmp/memoryd -embedder hash -roundtrip 100000
//	go run ./tools/bulkbench -memoryd /tmp/memoryd -embedder use-lite -singles 1000 -batched 5000 -roundtrip 0
//
// It reports single creates (POST /memory, -clients at once) against
// batch creates (POST /memory/batch, -batch items each, -batch-clients at
// once) in memories a second, side by side in one run; then it fills a
// workspace with -roundtrip memories, exports it, imports the export into
// another workspace, exports that, and checks that counts and vectors are
// equal.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryd/memoryd/internal/memproc"
)

type options struct {
	memoryd      string
	embedder     string
	singles      int
	clients      int
	batched      int
	batch        int
	batchClients int
	roundtrip    int
	startLimit   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.memoryd, "memoryd", "bin/memoryd", "memoryd binary")
	flag.StringVar(&o.embedder, "embedder", "hash", "embedder of the server: hash or use-lite")
	flag.IntVar(&o.singles, "singles", 5000, "memories stored by single creates")
	flag.IntVar(&o.clients, "clients", 16, "concurrent clients of the single creates")
	flag.IntVar(&o.batched, "batched", 20000, "memories stored by batch creates")
	flag.IntVar(&o.batch, "batch", 1000, "items per batch")
	flag.IntVar(&o.batchClients, "batch-clients", 2, "concurrent clients of the batch creates")
	flag.IntVar(&o.roundtrip, "roundtrip", 100000, "memories of the export/import round trip (0: none)")
	flag.DurationVar(&o.startLimit, "start-limit", 2*time.Minute, "how long memoryd may take to start (model load included)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bulkbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	srv, err := memproc.Start(o.memoryd, []string{"singles", "batched", "src", "dst"},
		[]string{"--embedder", o.embedder, "--max-body-bytes", fmt.Sprint(64 << 20)}, o.startLimit)
	if err != nil {
		return err
	}
	defer srv.Stop()
	c := &client{base: srv.Base, key: srv.Key, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	ctx := context.Background()
	fmt.Printf("embedder %s, machine load before: %s\n", o.embedder, loadavg())
	if o.singles > 0 {
		cpu := srv.CPU()
		d, err := singles(ctx, c, "singles", o.singles, o.clients)
		if err != nil {
			return err
		}
		fmt.Printf("single creates: %d memories, %d clients, %v: %.0f memories/s, server CPU %.3f ms/memory\n", o.singles, o.clients,
			d.Round(time.Millisecond), float64(o.singles)/d.Seconds(), perItem(srv.CPU()-cpu, o.singles))
	}
	if o.batched > 0 {
		cpu := srv.CPU()
		d, err := batches(ctx, c, "batched", o.batched, o.batch, o.batchClients, nil)
		if err != nil {
			return err
		}
		fmt.Printf("batch creates: %d memories, batches of %d, %d clients, %v: %.0f memories/s, server CPU %.3f ms/memory\n", o.batched, o.batch,
			o.batchClients, d.Round(time.Millisecond), float64(o.batched)/d.Seconds(), perItem(srv.CPU()-cpu, o.batched))
	}
	if o.roundtrip > 0 {
		return roundTrip(ctx, c, o)
	}
	return nil
}

// roundTrip fills "src", exports it, imports the export into "dst",
// exports "dst" and compares.
func roundTrip(ctx context.Context, c *client, o options) error {
	d, err := batches(ctx, c, "src", o.roundtrip, o.batch, o.batchClients, nil)
	if err != nil {
		return err
	}
	fmt.Printf("round trip: filled %d memories in %v\n", o.roundtrip, d.Round(time.Millisecond))
	tmp, err := os.MkdirTemp("", "bulkbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	file := filepath.Join(tmp, "src.ndjson")
	start := time.Now()
	size, err := c.export(ctx, "src", file)
	if err != nil {
		return err
	}
	fmt.Printf("export: %d bytes in %v\n", size, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	rep, err := c.importFile(ctx, "dst", file)
	if err != nil {
		return err
	}
	fmt.Printf("import: %s in %v\n", rep, time.Since(start).Round(time.Millisecond))
	back := filepath.Join(tmp, "dst.ndjson")
	if _, err := c.export(ctx, "dst", back); err != nil {
		return err
	}
	a, err := vectors(file)
	if err != nil {
		return err
	}
	b, err := vectors(back)
	if err != nil {
		return err
	}
	diff := 0
	for id, v := range a {
		if w, ok := b[id]; !ok || !slices.Equal(v, w) {
			diff++
		}
	}
	fmt.Printf("round trip: %d exported, %d after import, %d ids with a missing or different vector\n", len(a), len(b), diff)
	if len(a) != o.roundtrip || len(a) != len(b) || diff != 0 {
		return errors.New("round trip differs")
	}
	return nil
}

// vectors reads an export's vectors by id.
func vectors(file string) (map[string][]float32, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]float32{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l struct {
			ID        string    `json:"id"`
			Embedding []float32 `json:"embedding"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, err
		}
		out[l.ID] = l.Embedding
	}
	return out, sc.Err()
}

var words = strings.Fields(`memory agent project meeting budget quarter plan release server database vector search
customer invoice travel flight hotel recipe garden weather music concert deadline review design team office
holiday birthday doctor appointment payment contract launch bug fix deploy cluster index model embedding`)

// text returns a ~20-word text, different for each n.
func text(r *rand.Rand, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "note %d:", n)
	for range 20 {
		b.WriteString(" ")
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// singles stores n memories in workspace ws with POST /memory from clients.
func singles(ctx context.Context, c *client, ws string, n, clients int) (time.Duration, error) {
	var next atomic.Int64
	start := time.Now()
	err := parallel(clients, func(w int) error {
		r := rand.New(rand.NewPCG(uint64(w), 1))
		for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
			if err := c.post(ctx, ws, "/memory", map[string]any{"id": fmt.Sprintf("s%d", i), "text": text(r, i)}, 201, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return time.Since(start), err
}

// batches stores n memories in ws with POST /memory/batch.
func batches(ctx context.Context, c *client, ws string, n, size, clients int, _ any) (time.Duration, error) {
	var next atomic.Int64
	start := time.Now()
	err := parallel(clients, func(w int) error {
		r := rand.New(rand.NewPCG(uint64(w), 2))
		for b := int(next.Add(1)) - 1; b*size < n; b = int(next.Add(1)) - 1 {
			var items []any
			for i := b * size; i < min(n, (b+1)*size); i++ {
				items = append(items, map[string]any{"id": fmt.Sprintf("%s%d", ws, i), "text": text(r, i)})
			}
			var res struct{ Failed int }
			if err := c.post(ctx, ws, "/memory/batch", map[string]any{"memories": items}, 200, &res); err != nil {
				return err
			}
			if res.Failed > 0 {
				return fmt.Errorf("batch %d: %d items failed", b, res.Failed)
			}
		}
		return nil
	})
	return time.Since(start), err
}

func parallel(n int, fn func(w int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := range n {
		wg.Add(1)
		go func() { defer wg.Done(); errs[w] = fn(w) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

type client struct {
	base, key string
	hc        *http.Client
}

func (c *client) do(ctx context.Context, ws, method, path string, body io.Reader, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1"+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("X-Workspace-ID", ws)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return c.hc.Do(req)
}

func (c *client) post(ctx context.Context, ws, path string, body any, want int, out any) error {
	j, _ := json.Marshal(body)
	res, err := c.do(ctx, ws, "POST", path, bytes.NewReader(j), "application/json")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (c *client) export(ctx context.Context, ws, file string) (int64, error) {
	res, err := c.do(ctx, ws, "GET", "/memory/export", nil, "")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		raw, _ := io.ReadAll(res.Body)
		return 0, fmt.Errorf("export: %d %s", res.StatusCode, raw)
	}
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(f, res.Body)
}

func (c *client) importFile(ctx context.Context, ws, file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	res, err := c.do(ctx, ws, "POST", "/memory/import", f, "application/x-ndjson")
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return "", fmt.Errorf("import: %d %s", res.StatusCode, raw)
	}
	return string(bytes.TrimSpace(raw)), nil
}

func perItem(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

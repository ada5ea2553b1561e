package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/memoryd/memoryd/internal/apiclient"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

// workspace is the one createKey's key writes to.
const workspace = "xnodelag"

// Limits of the drills, each a bound on a hang rather than a target.
const (
	convergeLimit = 10 * time.Minute
	fillLimit     = 60 * time.Minute
)

// drill creates on A at o.rate; after 10 s Weaviate stops for o.outage,
// then starts again on its data, and the creates go on for 10 s more.
func drill(ctx context.Context, o options, c *cluster) error {
	cl := &client{key: o.key, http: &http.Client{Timeout: 60 * time.Second}}
	const before, after = 10 * time.Second, 10 * time.Second
	var failed, created atomic.Int64
	seed := rand.Uint64()
	done := make(chan struct{})
	var writes sync.WaitGroup
	go func() {
		defer close(done)
		interval := time.Duration(float64(time.Second) / o.rate)
		total := int(o.rate * (before + o.outage + after).Seconds())
		start := time.Now()
		sem := make(chan struct{}, o.clients)
		for i := range total {
			time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
			sem <- struct{}{}
			writes.Go(func() {
				defer func() { <-sem }()
				id := fmt.Sprintf("drill-%x-%d", seed, i)
				status, err := cl.post(ctx, o.a, "/memory", map[string]any{"id": id, "text": "drill " + id,
					"embedding": randomUnit(o.dims, seed+uint64(i))}, nil)
				if err != nil || status != http.StatusCreated {
					failed.Add(1)
					return
				}
				created.Add(1)
			})
		}
		writes.Wait()
	}()
	time.Sleep(before)
	fmt.Printf("drill: %.0f creates/s on A; stopping Weaviate for %v\n", o.rate, o.outage)
	c.wv.Halt()
	down := time.Now()
	answers := map[string]int{}
	q := map[string]any{"embedding": randomUnit(o.dims, 1), "mode": "semantic", "limit": 5}
	for time.Since(down) < o.outage {
		answers[searchAnswer(ctx, cl, o.a, q)]++
		time.Sleep(time.Second)
	}
	if err := c.wv.Resume(); err != nil {
		return err
	}
	up := time.Now()
	fmt.Printf("drill: Weaviate back after %v (restart took %v); semantic search on A during the outage: %v\n",
		up.Sub(down).Round(time.Millisecond), up.Sub(down.Add(o.outage)).Round(time.Millisecond), answers)
	<-done
	writesEnd := time.Now()
	fmt.Printf("drill: creates: %d answered 201, %d failed\n", created.Load(), failed.Load())
	took, err := converge(ctx, c, up)
	if err != nil {
		return err
	}
	fmt.Printf("drill: Weaviate's count equals PostgreSQL's %v after Weaviate came back (%v after the last create)\n",
		took.Round(time.Millisecond), time.Since(writesEnd).Round(time.Millisecond))
	if failed.Load() > 0 {
		return fmt.Errorf("%d creates failed", failed.Load())
	}
	return nil
}

// searchAnswer sends one semantic search and names its answer: the
// status, and for a 503 whether Retry-After came with it.
func searchAnswer(ctx context.Context, cl *client, base string, q map[string]any) string {
	status, hdr, err := cl.raw(ctx, base, "/memory/search", q)
	switch {
	case err != nil:
		return "error"
	case status == http.StatusServiceUnavailable && hdr.Get("Retry-After") != "":
		return "503+Retry-After"
	}
	return fmt.Sprint(status)
}

// converge waits until Weaviate holds as many vectors of the workspace as
// PostgreSQL holds memories with one, and returns the time since from.
func converge(ctx context.Context, c *cluster, from time.Time) (time.Duration, error) {
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.db)))
	defer db.Close()
	idx, err := weaviate.Open(weaviate.Config{Host: c.wv.Host()})
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(convergeLimit)
	last := time.Now()
	for {
		var stored int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM memories WHERE workspace = $1 AND embedding IS NOT NULL", workspace).Scan(&stored); err != nil {
			return 0, err
		}
		indexed, err := idx.Count(workspace)
		if err == nil && indexed == stored {
			return time.Since(from), nil
		}
		if time.Since(last) > 5*time.Second {
			fmt.Printf("  waiting: PostgreSQL %d, Weaviate %d (%v)\n", stored, indexed, err)
			last = time.Now()
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("after %v (convergeLimit) Weaviate holds %d vectors, PostgreSQL %d memories", convergeLimit, indexed, stored)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reindexDrill fills o.n memories, then times the running nodes'
// automatic re-index of a wiped Weaviate, and then `memoryd reindex`.
func reindexDrill(ctx context.Context, o options, c *cluster) error {
	if err := fill(ctx, o); err != nil {
		return err
	}
	if _, err := converge(ctx, c, time.Now()); err != nil {
		return err
	}
	idx, err := weaviate.Open(weaviate.Config{Host: c.wv.Host()})
	if err != nil {
		return err
	}
	wipe := func() error {
		return idx.Client().Schema().ClassDeleter().WithClassName(weaviate.DefaultClass).Do(ctx)
	}
	if err := wipe(); err != nil {
		return err
	}
	took, err := converge(ctx, c, time.Now())
	if err != nil {
		return err
	}
	fmt.Printf("reindex: the running nodes re-indexed %d memories in %v after the collection was deleted (detection included)\n", o.n, took.Round(time.Millisecond))
	c.stopNodes()
	if err := wipe(); err != nil {
		return err
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.bin, "reindex", "--db", c.db, "--vectors", c.vectors, "--embedder", "hash", "--hash-dims", fmt.Sprint(o.dims))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("memoryd reindex: %w", err)
	}
	fmt.Printf("reindex: memoryd reindex rewrote %d memories in %v\n", o.n, time.Since(start).Round(time.Millisecond))
	_, err = converge(ctx, c, time.Now())
	return err
}

// fill creates o.n memories with random vectors on A, in batches of
// fillBatch (POST /memory/batch), o.clients batches at once.
func fill(ctx context.Context, o options) error {
	api := &apiclient.Client{Key: o.key, HTTP: &http.Client{Timeout: 5 * time.Minute}}
	v := apiclient.Vectors{
		ID:  func(i int) string { return fmt.Sprintf("fill-%d", i) },
		Vec: func(i int) []float32 { return randomUnit(o.dims, uint64(i)) },
	}
	var next, failed, done atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range o.clients {
		wg.Go(func() {
			for from := next.Add(fillBatch) - fillBatch; from < int64(o.n) && time.Since(start) < fillLimit; from = next.Add(fillBatch) - fillBatch {
				to := min(from+fillBatch, int64(o.n))
				n, err := api.Create(ctx, o.a, v, int(from), int(to), true)
				if err != nil {
					failed.Add(to - from - int64(n))
				}
				if d := done.Add(to - from); d/10000 != (d-(to-from))/10000 {
					fmt.Printf("  filled %d in %v\n", d/10000*10000, time.Since(start).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("reindex: filled %d memories in %v (%d failed)\n", o.n, time.Since(start).Round(time.Millisecond), failed.Load())
	if failed.Load() > 0 {
		return fmt.Errorf("%d creates failed while filling", failed.Load())
	}
	if done.Load() < int64(o.n) {
		return fmt.Errorf("filled %d of %d memories within %v (fillLimit)", done.Load(), o.n, fillLimit)
	}
	return nil
}

// fillBatch is the memories of one POST /memory/batch while filling.
const fillBatch = 500

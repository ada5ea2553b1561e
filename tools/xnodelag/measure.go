package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// result is what one run measured.
type result struct {
	created, failed int
	elapsed         time.Duration
	createLat       []time.Duration // A's answer to each create
	lag             []time.Duration // A's 201 until B's search finds it
	unseen          int
	searchLat       []time.Duration // each probe search on B
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "creates on A: %d ok, %d failed, %.0f/s; latency p50 %v p99 %v\n",
		r.created, r.failed, float64(r.created)/r.elapsed.Seconds(), pct(r.createLat, 50), pct(r.createLat, 99))
	fmt.Fprintf(w, "visible on B: %d probed, %d never seen; lag p50 %v p99 %v max %v\n",
		len(r.lag)+r.unseen, r.unseen, pct(r.lag, 50), pct(r.lag, 99), pct(r.lag, 100))
	fmt.Fprintf(w, "probe searches on B: %d, latency p50 %v p99 %v (part of each lag: it ends with the search that finds the memory)\n",
		len(r.searchLat), pct(r.searchLat, 50), pct(r.searchLat, 99))
}

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))].Round(100 * time.Microsecond)
}

type client struct {
	http *http.Client
	key  string
}

// raw sends body as JSON to base+/api/v1+path and returns the status and
// headers of the answer.
func (c *client) raw(ctx context.Context, base, path string, body any) (int, http.Header, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1"+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, err
}

// post sends body as JSON to base+/api/v1+path and decodes the answer
// into out; it returns the status.
func (c *client) post(ctx context.Context, base, path string, body, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1"+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode/100 != 2 || out == nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, json.Unmarshal(raw, out)
}

// measure creates on A at o.rate for o.warmup, unmeasured (new
// connections, caches, a fresh database's first pages), then for
// o.duration, probing B for a sample of the measured ones.
func measure(ctx context.Context, o options) *result {
	c := &client{key: o.key, http: &http.Client{Timeout: o.giveUp,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * o.clients, MaxConnsPerHost: 0}}}
	seed := rand.Uint64() // vectors of another run never match this one's
	run := fmt.Sprintf("%x", seed)
	warm := int(o.rate * o.warmup.Seconds())
	total := warm + int(o.rate*o.duration.Seconds())
	interval := time.Duration(float64(time.Second) / o.rate)
	r := &result{}
	var mu sync.Mutex
	var probes sync.WaitGroup
	sem := make(chan struct{}, o.clients)
	var writes sync.WaitGroup
	start := time.Now()
	var measured time.Time
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		if i == warm {
			measured = time.Now()
		}
		sem <- struct{}{}
		writes.Add(1)
		go func() {
			defer writes.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("xl-%s-%d", run, i)
			vec := randomUnit(o.dims, seed+uint64(i))
			t0 := time.Now()
			status, err := c.post(ctx, o.a, "/memory", map[string]any{"id": id, "text": "cross-node lag probe " + id, "embedding": vec}, nil)
			acked := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if i < warm {
				return
			}
			if err != nil || status != http.StatusCreated {
				r.failed++
				return
			}
			r.created++
			r.createLat = append(r.createLat, acked.Sub(t0))
			if i%o.sample == 0 {
				probes.Add(1)
				go func() {
					defer probes.Done()
					lag, ok, lats := probe(ctx, c, o, id, vec, acked)
					mu.Lock()
					defer mu.Unlock()
					r.searchLat = append(r.searchLat, lats...)
					if ok {
						r.lag = append(r.lag, lag)
					} else {
						r.unseen++
					}
				}()
			}
		}()
	}
	writes.Wait()
	r.elapsed = time.Since(measured)
	probes.Wait()
	return r
}

// probe searches B for vec until id is the hit, and returns the time
// since acked and the latency of each search.
func probe(ctx context.Context, c *client, o options, id string, vec []float32, acked time.Time) (lag time.Duration, ok bool, lats []time.Duration) {
	var res struct {
		Results []struct {
			Memory struct {
				ID string `json:"id"`
			} `json:"memory"`
		} `json:"results"`
	}
	body := map[string]any{"embedding": vec, "limit": 1, "threshold": 0.999, "mode": "semantic"}
	for time.Since(acked) < o.giveUp {
		res.Results = nil
		t0 := time.Now()
		status, err := c.post(ctx, o.b, "/memory/search", body, &res)
		lats = append(lats, time.Since(t0))
		if err == nil && status == http.StatusOK && len(res.Results) == 1 && res.Results[0].Memory.ID == id {
			return time.Since(acked), true, lats
		}
		time.Sleep(o.probeEvery)
	}
	return 0, false, lats
}

// randomUnit is a random unit vector of dims: two of them are nearly
// orthogonal, so a search by one finds its own memory only.
func randomUnit(dims int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
	}
	return v
}

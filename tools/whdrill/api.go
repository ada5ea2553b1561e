package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

type client struct {
	base, key string
	hc        *http.Client
	// onCreated, when set, gets each acknowledged create's answer
	// before the ack is counted (the floor sends it on).
	onCreated func(body []byte)
}

func newClient(base, key string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 128}
	return &client{base: base, key: key, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (c *client) post(ctx context.Context, ws, path string, body, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	if ws != "" {
		req.Header.Set("X-Workspace-ID", ws)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, rb)
	}
	if c.onCreated != nil && resp.StatusCode == http.StatusCreated && path == "/memory" {
		c.onCreated(rb)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(rb, out)
	}
	return resp.StatusCode, nil
}

// register creates an endpoint for url and returns its secret.
func (c *client) register(ctx context.Context, ws, url string, events []string) (string, error) {
	var out struct {
		Secret string `json:"secret"`
	}
	_, err := c.post(ctx, ws, "/webhooks", map[string]any{"url": url, "events": events}, &out)
	return out.Secret, err
}

// create stores one memory; id is "" when it was not acknowledged.
func (c *client) create(ctx context.Context, text string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	code, err := c.post(ctx, "", "/memory", map[string]any{"text": text}, &out)
	if err == nil && code != http.StatusCreated {
		err = fmt.Errorf("create answered %d", code)
	}
	return out.ID, err
}

// acks records the acknowledged creates and when their 201 arrived.
type acks struct {
	mu     sync.Mutex
	at     map[string]time.Time
	n      atomic.Int64
	failed atomic.Int64
}

func newAcks() *acks { return &acks{at: map[string]time.Time{}} }

func (a *acks) add(id string, t time.Time) {
	a.mu.Lock()
	a.at[id] = t
	a.mu.Unlock()
	a.n.Add(1)
}

func (a *acks) snapshot() (map[string]bool, map[string]time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids, at := map[string]bool{}, map[string]time.Time{}
	for k, v := range a.at {
		ids[k], at[k] = true, v
	}
	return ids, at
}

// paced sends creates at rate per second until want are acknowledged,
// at most maxTries attempts or until limit; hook runs before each
// attempt (the drill kills memoryd from it). Concurrency is bounded.
func paced(ctx context.Context, c *client, a *acks, rate float64, want, maxTries int, limit time.Duration, hook func()) error {
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	start, end := time.Now(), time.Now().Add(limit)
	for i := 0; i < maxTries && int(a.n.Load()) < want; i++ {
		if hook != nil {
			hook()
		}
		slot := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if time.Until(end) <= 0 {
			wg.Wait()
			return fmt.Errorf("creates did not finish within the %s create limit (%d acknowledged)", limit, a.n.Load())
		}
		time.Sleep(time.Until(slot))
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := c.create(ctx, fmt.Sprintf("whdrill memory %d about planning and notes", i))
			if err != nil {
				a.failed.Add(1)
				return
			}
			a.add(id, time.Now())
		}(i)
		// Near the goal, let the attempts in flight land before sending more.
		if int(a.n.Load())+len(sem) >= want {
			wg.Wait()
		}
	}
	wg.Wait()
	return nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// client sends the workers' requests: each worker over its own raw
// HTTP/1.1 connection (raw.go), or through net/http (-http std, and for
// https), sized so every worker keeps its own keep-alive connection: the
// default transport keeps 2 idle per host, and the rest would reconnect
// on every request (measuring TCP setup, not memoryd).
type client struct {
	base string // URL up to /api/v1
	key  string
	http *http.Client
	raw  []*rawConn // per worker; nil: net/http
	path string     // base's path, for raw requests
}

func newClient(base, key string, clients int, transport string) (*client, error) {
	base = strings.TrimSuffix(base, "/") + "/api/v1"
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	c := &client{base: base, key: key}
	switch {
	case transport == "raw" && u.Scheme == "http":
		addr := u.Host
		if u.Port() == "" {
			addr = net.JoinHostPort(u.Hostname(), "80")
		}
		c.path = u.EscapedPath()
		for range clients {
			c.raw = append(c.raw, &rawConn{addr: addr, host: u.Host})
		}
	case transport == "raw" || transport == "std":
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        clients * 2,
			MaxIdleConnsPerHost: clients * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		c.http = &http.Client{Transport: tr, Timeout: rawTimeout}
	default:
		return nil, fmt.Errorf("unknown -http %q (raw or std)", transport)
	}
	return c, nil
}

// do sends worker w's request and decodes a 2xx JSON answer into out (if
// non-nil).
func (c *client) do(ctx context.Context, w int, method, path string, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	status, resp, err := c.send(ctx, w, method, path, b)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, status, bytes.TrimSpace(resp))
	}
	if out != nil {
		return json.Unmarshal(resp, out)
	}
	return nil
}

func (c *client) send(ctx context.Context, w int, method, path string, body []byte) (int, []byte, error) {
	if c.raw != nil {
		return c.raw[w].do(ctx, method, c.path+path, c.key, body)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body) // read fully so the connection is reused
	return resp.StatusCode, b, err
}

// op is one measured request of a worker (w is its index).
type op func(ctx context.Context, w int, rng *rand.Rand) error

func createOp(c *client, words int, ids *idSet) op {
	return func(ctx context.Context, w int, rng *rand.Rand) error {
		body := map[string]any{"text": sentence(rng, words),
			"metadata": map[string]any{"type": "load", "tags": []string{vocab[rng.IntN(len(vocab))]}}}
		var res struct {
			ID string `json:"id"`
		}
		if err := c.do(ctx, w, http.MethodPost, "/memory", body, &res); err != nil {
			return err
		}
		if ids != nil {
			ids.add(res.ID)
		}
		return nil
	}
}

func getOp(c *client, ids *idSet) op {
	return func(ctx context.Context, w int, rng *rand.Rand) error {
		id := ids.pick(rng)
		return c.do(ctx, w, http.MethodGet, "/memory/"+url.PathEscape(id), nil, nil)
	}
}

func searchOp(c *client, mode string, words int) op {
	return func(ctx context.Context, w int, rng *rand.Rand) error {
		body := map[string]any{"query": sentence(rng, max(3, words/4)), "mode": mode, "limit": 10}
		return c.do(ctx, w, http.MethodPost, "/memory/search", body, nil)
	}
}

// idSet collects created ids for the read phases.
type idSet struct {
	mu  sync.Mutex
	ids []string
}

func (s *idSet) add(id string) {
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
}

func (s *idSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *idSet) pick(rng *rand.Rand) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[rng.IntN(len(s.ids))]
}

var vocab = strings.Fields(`agent memory planning meeting notes customer billing invoice
deploy release rollback database index vector search stream event latency budget
roadmap quarter review design document api client server cache queue retry
timeout error incident postmortem owner deadline priority feature request bug
user account password login session token workspace project team sprint backlog`)

// sentence returns n words drawn from vocab (about 20 words is a typical
// agent memory, a few tokens over 100 bytes).
func sentence(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocab[rng.IntN(len(vocab))])
	}
	return b.String()
}

// Package apiclient is the small JSON client the benchmark tools drive
// memoryd's API with: POST with a key (and a workspace when the key has
// several), and storing numbered vectors one create or one batch at a
// time.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Client posts to memoryd nodes with one key.
type Client struct {
	HTTP      *http.Client
	Key       string
	Workspace string // sent as X-Workspace-ID when set
}

// Post sends body as JSON to base+/api/v1+path and decodes a 2xx answer
// into out (when not nil); any other status is an error quoting the
// answer.
func (c *Client) Post(ctx context.Context, base, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1"+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	req.Header.Set("Content-Type", "application/json")
	if c.Workspace != "" {
		req.Header.Set("X-Workspace-ID", c.Workspace)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %d %.300s", path, resp.StatusCode, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Vectors are the memories a tool stores: memory i has the id ID(i),
// the text "vector ID(i)" and the embedding Vec(i).
type Vectors struct {
	ID  func(i int) string
	Vec func(i int) []float32
}

// Slice is Vectors of vecs, named by id.
func Slice(vecs [][]float32, id func(i int) string) Vectors {
	return Vectors{ID: id, Vec: func(i int) []float32 { return vecs[i] }}
}

func (v Vectors) memory(i int) map[string]any {
	return map[string]any{"id": v.ID(i), "text": "vector " + v.ID(i), "embedding": v.Vec(i)}
}

// Create stores vectors from..to-1 on base, in one POST /memory/batch
// or one POST /memory each, and returns how many were stored; a failed
// batch item is an error naming the first failure.
func (c *Client) Create(ctx context.Context, base string, v Vectors, from, to int, batch bool) (int, error) {
	if !batch {
		for i := from; i < to; i++ {
			if err := c.Post(ctx, base, "/memory", v.memory(i), nil); err != nil {
				return i - from, err
			}
		}
		return to - from, nil
	}
	items := make([]map[string]any, 0, to-from)
	for i := from; i < to; i++ {
		items = append(items, v.memory(i))
	}
	var res struct {
		Stored, Updated, Failed int
		Results                 []struct {
			Error *struct{ Message string } `json:"error"`
		}
	}
	if err := c.Post(ctx, base, "/memory/batch", map[string]any{"memories": items}, &res); err != nil {
		return 0, err
	}
	for _, r := range res.Results {
		if r.Error != nil {
			return res.Stored + res.Updated, fmt.Errorf("batch of %d from %d: %d failed, the first: %s", to-from, from, res.Failed, r.Error.Message)
		}
	}
	return res.Stored + res.Updated, nil
}

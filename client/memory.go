package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"

	gen "github.com/memoryd/memoryd/gen/client"
)

// Upsert stores m: a new memory (status "stored"), or, when m.ID names one
// that exists, its replacement (status "updated").
func (c *Client) Upsert(ctx context.Context, m MemoryInput) (*StoreResult, error) {
	body := gen.CreateMemoryRequest{Text: m.Text}
	if m.ID != "" {
		body.Id = &m.ID
	}
	if m.Metadata != nil {
		body.Metadata = &m.Metadata
	}
	if m.Embedding != nil {
		body.Embedding = &m.Embedding
	}
	if c.api == nil {
		return nil, errBadURL(c.base)
	}
	resp, err := c.api.CreateMemoryWithResponse(ctx, nil, body)
	if err != nil {
		return nil, err
	}
	if resp.JSON201 != nil {
		return resp.JSON201, nil
	}
	return result(resp.HTTPResponse, resp.Body, resp.JSON200)
}

// Get returns the memory id; ErrNotFound when there is none.
func (c *Client) Get(ctx context.Context, id string) (*Memory, error) {
	if c.api == nil {
		return nil, errBadURL(c.base)
	}
	resp, err := c.api.GetMemoryWithResponse(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	return result(resp.HTTPResponse, resp.Body, resp.JSON200)
}

// Update changes the fields of memory id that p sets.
func (c *Client) Update(ctx context.Context, id string, p Patch) (*UpdateResult, error) {
	body := gen.UpdateMemoryRequest{Text: p.Text}
	if p.Metadata != nil {
		body.Metadata = &p.Metadata
	}
	if p.Embedding != nil {
		body.Embedding = &p.Embedding
	}
	if c.api == nil {
		return nil, errBadURL(c.base)
	}
	resp, err := c.api.UpdateMemoryWithResponse(ctx, id, nil, body)
	if err != nil {
		return nil, err
	}
	return result(resp.HTTPResponse, resp.Body, resp.JSON200)
}

// Delete deletes memory id; ErrNotFound when there is none.
func (c *Client) Delete(ctx context.Context, id string) error {
	if c.api == nil {
		return errBadURL(c.base)
	}
	resp, err := c.api.DeleteMemoryWithResponse(ctx, id, nil)
	if err != nil {
		return err
	}
	_, err = result(resp.HTTPResponse, resp.Body, resp.JSON200)
	return err
}

// Search runs a search.
func (c *Client) Search(ctx context.Context, o SearchOptions) (*SearchResponse, error) {
	body := gen.SearchRequest{Threshold: o.Threshold, Filters: o.Filters}
	if o.Query != "" {
		body.Query = &o.Query
	}
	if o.Limit > 0 {
		body.Limit = &o.Limit
	}
	if o.Mode != "" {
		body.Mode = &o.Mode
	}
	if o.Embedding != nil {
		body.Embedding = &o.Embedding
	}
	if c.api == nil {
		return nil, errBadURL(c.base)
	}
	resp, err := c.api.SearchMemoriesWithResponse(ctx, nil, body)
	if err != nil {
		return nil, err
	}
	return result(resp.HTTPResponse, resp.Body, resp.JSON200)
}

// List returns every memory o selects, page after page, in the server's
// order; it stops at the first error, which it yields.
//
//	for m, err := range c.List(ctx, client.ListOptions{}) { ... }
func (c *Client) List(ctx context.Context, o ListOptions) iter.Seq2[Memory, error] {
	return func(yield func(Memory, error) bool) {
		params := listParams(o)
		for {
			page, err := c.listPage(ctx, params)
			if err != nil {
				yield(Memory{}, err)
				return
			}
			for _, m := range page.Memories {
				if !yield(m, nil) {
					return
				}
			}
			if !page.HasMore || page.NextCursor == nil {
				return
			}
			params.Cursor = page.NextCursor
		}
	}
}

func (c *Client) listPage(ctx context.Context, params *gen.ListMemoriesParams) (*gen.MemoryList, error) {
	if c.api == nil {
		return nil, errBadURL(c.base)
	}
	resp, err := c.api.ListMemoriesWithResponse(ctx, params)
	if err != nil {
		return nil, err
	}
	return result(resp.HTTPResponse, resp.Body, resp.JSON200)
}

func listParams(o ListOptions) *gen.ListMemoriesParams {
	p := &gen.ListMemoriesParams{}
	if o.PageSize > 0 {
		p.Limit = &o.PageSize
	}
	if o.Type != "" {
		p.Type = &o.Type
	}
	if o.Source != "" {
		p.Source = &o.Source
	}
	if len(o.Tags) > 0 {
		p.Tags = &o.Tags
	}
	if len(o.Metadata) > 0 {
		p.Metadata = &o.Metadata
	}
	if o.IncludeEmbedding {
		p.IncludeEmbedding = &o.IncludeEmbedding
	}
	return p
}

// result returns ok on a success, else the API's error.
func result[T any](resp *http.Response, body []byte, ok *T) (*T, error) {
	if resp.StatusCode/100 == 2 && ok != nil {
		return ok, nil
	}
	if resp.StatusCode/100 == 2 {
		return nil, fmt.Errorf("memoryd: unexpected answer %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return nil, apiError(resp, body)
}

func errBadURL(base string) error { return fmt.Errorf("memoryd: unusable server URL %q", base) }

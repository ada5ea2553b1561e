package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/memoryd/memoryd/gen/api"
)

// Client calls memoryd's REST API at Base (the server's root) with one
// key. Its methods that take a testing.TB fail the test on any answer but
// the expected one; Do returns errors, for use off the test's goroutine.
type Client struct {
	Base, Key string
	HTTP      *http.Client
}

// NewClient returns a client with its own HTTP client, whose requests
// time out after WaitLimit.
func NewClient(base, key string) *Client {
	return &Client{Base: base, Key: key, HTTP: &http.Client{Timeout: WaitLimit}}
}

// Client returns a client of e's server with key.
func (e *Env) Client(key string) *Client { return &Client{Base: e.URL, Key: key, HTTP: e.HTTP} }

// Do sends a JSON request to path, under the API's base path (e.g.
// /memory), and decodes a JSON answer into out (when not
// nil and the status is 2xx). It returns the status; err is a transport
// error or an undecodable answer.
func (c *Client) Do(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+"/api/v1"+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode, nil
}

// Must runs Do and fails the test unless the status is want.
func (c *Client) Must(t testing.TB, want int, method, path string, body, out any) {
	t.Helper()
	status, err := c.Do(method, path, body, out)
	if err != nil || status != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, err)
	}
}

// Create stores a new memory id with text.
func (c *Client) Create(t testing.TB, id, text string) {
	t.Helper()
	var res api.StoreResult
	c.Must(t, http.StatusCreated, http.MethodPost, "/memory", api.CreateMemoryRequest{Id: &id, Text: text}, &res)
	if res.Id != id || res.Status != "stored" {
		t.Fatalf("create %s: got %+v", id, res)
	}
}

// Update replaces the text of memory id.
func (c *Client) Update(t testing.TB, id, text string) {
	t.Helper()
	c.Must(t, http.StatusOK, http.MethodPut, "/memory/"+url.PathEscape(id), api.UpdateMemoryRequest{Text: &text}, nil)
}

// Remove deletes memory id.
func (c *Client) Remove(t testing.TB, id string) {
	t.Helper()
	c.Must(t, http.StatusOK, http.MethodDelete, "/memory/"+url.PathEscape(id), nil, nil)
}

// Get returns the memory, or nil when it does not exist.
func (c *Client) Get(t testing.TB, id string) *api.Memory {
	t.Helper()
	var m api.Memory
	status, err := c.Do(http.MethodGet, "/memory/"+url.PathEscape(id)+"?include_embedding=false", nil, &m)
	if status == http.StatusNotFound {
		return nil
	}
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET memory %s: %d %v", id, status, err)
	}
	return &m
}

// ListIDs returns the ids of every memory of the key's workspace,
// following the cursor to the last page.
func (c *Client) ListIDs(t testing.TB) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	cursor := ""
	for {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page api.MemoryList
		c.Must(t, http.StatusOK, http.MethodGet, "/memory?"+q.Encode(), nil, &page)
		for _, m := range page.Memories {
			if ids[m.Id] {
				t.Fatalf("list: memory %s on two pages", m.Id)
			}
			ids[m.Id] = true
		}
		if !page.HasMore || page.NextCursor == nil {
			if len(ids) != page.Total {
				t.Fatalf("list: %d memories over the pages, total says %d", len(ids), page.Total)
			}
			return ids
		}
		cursor = *page.NextCursor
	}
}

// Ticket gets a browser stream ticket for the key's workspace.
func (c *Client) Ticket(t testing.TB) string {
	t.Helper()
	var tk api.StreamTicket
	c.Must(t, http.StatusCreated, http.MethodPost, "/stream/tickets", nil, &tk)
	if tk.Ticket == "" {
		t.Fatal("empty stream ticket")
	}
	return tk.Ticket
}

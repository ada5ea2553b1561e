package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/memoryd/memoryd/gen/api"
)

// client calls memoryd's REST API with one key.
type client struct {
	base, key string
	hc        *http.Client
}

func newClient(base, key string) *client {
	return &client{base: base, key: key, hc: &http.Client{Timeout: 30 * time.Second}}
}

// do sends a JSON request and decodes a JSON answer into out (when not
// nil and the status is 2xx). It returns the status; err is a transport
// error or an undecodable answer.
func (c *client) do(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/v1"+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
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

// must runs do and fails the test unless the status is want.
func (c *client) must(t testing.TB, want int, method, path string, body, out any) {
	t.Helper()
	status, err := c.do(method, path, body, out)
	if err != nil || status != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, err)
	}
}

func (c *client) create(t testing.TB, id, text string) {
	t.Helper()
	var res api.StoreResult
	c.must(t, http.StatusCreated, http.MethodPost, "/memory", api.CreateMemoryRequest{Id: &id, Text: text}, &res)
	if res.Id != id || res.Status != "stored" {
		t.Fatalf("create %s: got %+v", id, res)
	}
}

func (c *client) update(t testing.TB, id, text string) {
	t.Helper()
	c.must(t, http.StatusOK, http.MethodPut, "/memory/"+url.PathEscape(id), api.UpdateMemoryRequest{Text: &text}, nil)
}

func (c *client) remove(t testing.TB, id string) {
	t.Helper()
	c.must(t, http.StatusOK, http.MethodDelete, "/memory/"+url.PathEscape(id), nil, nil)
}

// get returns the memory, or nil when it does not exist.
func (c *client) get(t testing.TB, id string) *api.Memory {
	t.Helper()
	var m api.Memory
	status, err := c.do(http.MethodGet, "/memory/"+url.PathEscape(id)+"?include_embedding=false", nil, &m)
	if status == http.StatusNotFound {
		return nil
	}
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET memory %s: %d %v", id, status, err)
	}
	return &m
}

// listIDs returns the ids of every memory of the key's workspace,
// following the cursor to the last page.
func (c *client) listIDs(t testing.TB) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	cursor := ""
	for {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page api.MemoryList
		c.must(t, http.StatusOK, http.MethodGet, "/memory?"+q.Encode(), nil, &page)
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

// ticket gets a browser stream ticket for the key's workspace.
func (c *client) ticket(t testing.TB) string {
	t.Helper()
	var tk api.StreamTicket
	c.must(t, http.StatusCreated, http.MethodPost, "/stream/tickets", nil, &tk)
	if tk.Ticket == "" {
		t.Fatal("empty stream ticket")
	}
	return tk.Ticket
}

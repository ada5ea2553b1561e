package drills

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strconv"
	"time"
)

// client calls one workspace's API on any node.
type client struct {
	key, ws string
	hc      *http.Client
}

func newClient(key, ws string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	return &client{key: key, ws: ws, hc: &http.Client{Transport: tr, Timeout: requestLimit}}
}

// reply is one answer, or the transport error that replaced it.
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (c *client) do(ctx context.Context, method, url string, body any) reply {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("X-Workspace-ID", c.ws)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return reply{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// envelope is the documented error body.
type envelope struct {
	Error   string         `json:"error"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// unavailable reports whether r is the documented 503: the UNAVAILABLE
// envelope with a message and a Retry-After of whole seconds. why says
// what is wrong when it is not.
func (r reply) unavailable() (ok bool, why string) {
	if r.err != nil {
		return false, "transport error: " + r.err.Error()
	}
	if r.status != http.StatusServiceUnavailable {
		return false, fmt.Sprintf("status %d: %.200s", r.status, r.body)
	}
	var e envelope
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error != "UNAVAILABLE" || e.Message == "" {
		return false, fmt.Sprintf("503 without the UNAVAILABLE envelope: %.200s", r.body)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 0 {
		return false, fmt.Sprintf("503 without a Retry-After of seconds (%q)", r.header.Get("Retry-After"))
	}
	return true, ""
}

// tally counts the outcomes of requests by kind ("201", "503 UNAVAILABLE",
// "transport error", ...), keeping one example of each.
type tally struct {
	n       map[string]int
	example map[string]string
}

func newTally() *tally { return &tally{n: map[string]int{}, example: map[string]string{}} }

func (t *tally) add(kind, example string) {
	t.n[kind]++
	if _, ok := t.example[kind]; !ok {
		t.example[kind] = example
	}
}

func (t *tally) String() string { return fmt.Sprint(t.n) }

// list returns every memory id of the workspace, paging through the list
// on node base, and the list's total.
func (c *client) list(ctx context.Context, base string) (map[string]bool, int, error) {
	ids, total, cursor := map[string]bool{}, 0, ""
	for {
		url := base + "/api/v1/memory?limit=100"
		if cursor != "" {
			url += "&cursor=" + neturl.QueryEscape(cursor)
		}
		r := c.do(ctx, http.MethodGet, url, nil)
		if r.err != nil || r.status != http.StatusOK {
			return nil, 0, fmt.Errorf("GET %s: %d %v %.200s", url, r.status, r.err, r.body)
		}
		var page struct {
			Memories []struct {
				ID string `json:"id"`
			} `json:"memories"`
			Total      int    `json:"total"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			return nil, 0, err
		}
		for _, m := range page.Memories {
			ids[m.ID] = true
		}
		total = page.Total
		if page.NextCursor == "" {
			return ids, total, nil
		}
		cursor = page.NextCursor
	}
}

// ready asks node base's /ready: its status and checks.
func (c *client) ready(ctx context.Context, base string) (int, map[string]string, error) {
	r := c.do(ctx, http.MethodGet, base+"/api/v1/ready", nil)
	if r.err != nil {
		return 0, nil, r.err
	}
	var h struct {
		Checks map[string]string `json:"checks"`
	}
	_ = json.Unmarshal(r.body, &h)
	return r.status, h.Checks, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

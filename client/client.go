// Package client is the Go client of memoryd's REST API and live stream.
//
//	c := client.New("http://localhost:8080", os.Getenv("MEMORYD_API_KEY"))
//	res, err := c.Upsert(ctx, client.MemoryInput{
//		Text:     "Meeting notes from Q4 planning",
//		Metadata: map[string]any{"type": "meeting", "tags": []string{"planning", "q4"}},
//	})
//
// The types and the HTTP calls are generated from spec/openapi.yaml (package
// gen/client) and the stream's event payloads from the event schemas
// (package gen/events); this package adds what a user expects on top:
// upsert naming, an iterator over every page of a list, typed errors from
// the API's error envelope, retries of 429 that honour Retry-After, and a
// stream that reconnects and resumes by itself.
package client

import (
	"context"
	"net/http"
	"strings"
	"time"

	gen "github.com/memoryd/memoryd/gen/client"
)

// BasePath is where memoryd mounts its API under the server's root.
const BasePath = "/api/v1"

// Client calls one memoryd with one API key. It is safe for concurrent use.
type Client struct {
	base      string // the server's root
	key       string
	workspace string
	hc        *http.Client
	retries   int
	maxWait   time.Duration
	api       *gen.ClientWithResponses
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one whose requests time out
// after 60 s; streams are exempt from its Timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithWorkspace sends X-Workspace-ID: ws with every request (default: the
// key's own workspace).
func WithWorkspace(ws string) Option { return func(c *Client) { c.workspace = ws } }

// WithRetries sets how many times a request refused with 429 is sent again
// after the wait its Retry-After asks for (default 3; 0 never retries), and
// the longest such wait it accepts (default 60 s): an answer asking for
// more is returned as the error it is.
func WithRetries(n int, maxWait time.Duration) Option {
	return func(c *Client) { c.retries, c.maxWait = n, maxWait }
}

// New returns a client of the memoryd at baseURL, the server's root
// (http://host:port; a trailing /api/v1 is accepted too), using apiKey.
func New(baseURL, apiKey string, opts ...Option) *Client {
	base := strings.TrimSuffix(strings.TrimSuffix(baseURL, "/"), BasePath)
	c := &Client{base: base, key: apiKey, hc: &http.Client{Timeout: 60 * time.Second}, retries: 3, maxWait: time.Minute}
	for _, o := range opts {
		o(c)
	}
	api, err := gen.NewClientWithResponses(c.base+BasePath,
		gen.WithHTTPClient(&retryDoer{c: c}), gen.WithRequestEditorFn(c.authorize))
	if err != nil {
		// Only an unparsable server URL fails here; every call reports it.
		api = nil
	}
	c.api = api
	return c
}

// authorize adds the key and the workspace to a request.
func (c *Client) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+c.key)
	if c.workspace != "" {
		req.Header.Set("X-Workspace-ID", c.workspace)
	}
	return nil
}

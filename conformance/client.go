package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// Client sends requests with one API key and validates every response
// against openapi.yaml.
type Client struct {
	Name      string // "A" or "B", for messages
	Key       string
	Workspace string // sent as X-Workspace-ID when not empty
	base      string // base URL + /api/v1
	hc        *http.Client
	spec      *Spec
	obs       *observer
}

func newClient(name, baseURL, key, workspace string, hc *http.Client, spec *Spec, obs *observer) *Client {
	return &Client{Name: name, Key: key, Workspace: workspace,
		base: strings.TrimRight(baseURL, "/") + "/api/v1", hc: hc, spec: spec, obs: obs}
}

// Request is one API call. Path is relative to /api/v1.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// JSON is marshalled as the body unless Raw is set.
	JSON any
	Raw  []byte
	// ContentType defaults to application/json when there is a body.
	ContentType string
	Header      http.Header
	// NoAuth omits Authorization; Auth, when set, replaces the whole
	// Authorization header value.
	NoAuth bool
	Auth   string
	// Workspace, when set, replaces the client's X-Workspace-ID; NoWorkspace omits it.
	Workspace   string
	NoWorkspace bool
	// NoValidate skips schema validation (for requests outside the contract).
	NoValidate bool
}

// Response is a fully read response.
type Response struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte
	// Operation is the documented operation the request matched ("" if none).
	Operation string
	// SpecErr is why the response violates openapi.yaml (nil when it conforms
	// or was not validated).
	SpecErr error
}

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("%s %s: body is not the expected JSON: %w (body %s)", r.Method, r.URL, err, snippet(r.Body))
	}
	return nil
}

// String describes the response for failure messages.
func (r *Response) String() string {
	return fmt.Sprintf("%s %s -> %d %s", r.Method, r.URL, r.Status, snippet(r.Body))
}

func snippet(b []byte) string {
	const max = 300
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// URL returns the absolute URL of an API path.
func (c *Client) URL(path string, q url.Values) string {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// NewHTTPRequest builds the *http.Request for r (used by the stream checks,
// which read the body incrementally).
func (c *Client) NewHTTPRequest(ctx context.Context, r Request) (*http.Request, error) {
	var body io.Reader
	var hasBody bool
	switch {
	case r.Raw != nil:
		body, hasBody = bytes.NewReader(r.Raw), true
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, err
		}
		body, hasBody = bytes.NewReader(b), true
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, c.URL(r.Path, r.Query), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if hasBody {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	switch {
	case r.NoAuth:
	case r.Auth != "":
		req.Header.Set("Authorization", r.Auth)
	default:
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	ws := c.Workspace
	if r.Workspace != "" {
		ws = r.Workspace
	}
	if ws != "" && !r.NoWorkspace {
		req.Header.Set("X-Workspace-ID", ws)
	}
	return req, nil
}

// Do sends r, reads the whole response and validates it against the spec.
// A text/event-stream response body is not read (it would not end).
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	req, err := c.NewHTTPRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, req.URL, err)
	}
	defer resp.Body.Close()
	out := &Response{Method: r.Method, URL: req.URL.String(), Status: resp.StatusCode, Header: resp.Header}
	stream := isEventStream(resp.Header)
	if !stream {
		out.Body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return nil, fmt.Errorf("%s %s: reading body: %w", r.Method, req.URL, err)
		}
	}
	c.obs.record(out)
	if !r.NoValidate {
		out.Operation, out.SpecErr = c.Validate(ctx, req, out, stream)
	}
	return out, nil
}

func isEventStream(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

// Validate checks a response against the documented operation of req. It
// fails on undocumented status codes too. skipBody leaves the body out
// (for event streams).
func (c *Client) Validate(ctx context.Context, req *http.Request, r *Response, skipBody bool) (string, error) {
	route, params, err := c.spec.findRoute(req)
	if err != nil {
		return "", fmt.Errorf("%s %s is not an operation of openapi.yaml: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
			ExcludeResponseBody: skipBody, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	in.SetBodyBytes(r.Body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return route.Operation.OperationID, fmt.Errorf("response violates openapi.yaml (%s %d): %v", route.Operation.OperationID, r.Status, err)
	}
	return route.Operation.OperationID, nil
}

// observer keeps the responses of the whole run that passive checks look
// at afterwards (server errors cannot be provoked from outside).
type observer struct {
	mu     sync.Mutex
	server []*Response // every 5xx seen
}

func (o *observer) record(r *Response) {
	if o == nil || r.Status < 500 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.server = append(o.server, r)
}

func (o *observer) serverErrors() []*Response {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*Response(nil), o.server...)
}

package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The suite's own view of the wire types. They are written from
// openapi.yaml, not imported from any implementation.

// StoreResult is createMemory's body.
type StoreResult struct {
	ID                 string    `json:"id"`
	Status             string    `json:"status"`
	EmbeddingGenerated bool      `json:"embedding_generated"`
	VectorDimensions   int       `json:"vector_dimensions"`
	TokensUsed         int       `json:"tokens_used"`
	EmbeddingModel     string    `json:"embedding_model"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// UpdateResult is updateMemory's body.
type UpdateResult struct {
	ID                   string    `json:"id"`
	Status               string    `json:"status"`
	EmbeddingRegenerated bool      `json:"embedding_regenerated"`
	VectorDimensions     int       `json:"vector_dimensions"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// DeleteResult is deleteMemory's body.
type DeleteResult struct {
	Success   bool   `json:"success"`
	DeletedID string `json:"deleted_id"`
}

// Memory is getMemory's body.
type Memory struct {
	ID               string         `json:"id"`
	Text             string         `json:"text"`
	Metadata         map[string]any `json:"metadata"`
	Embedding        []float64      `json:"embedding"`
	EmbeddingModel   string         `json:"embedding_model"`
	VectorDimensions int            `json:"vector_dimensions"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	// HasEmbedding is set by the suite: whether the key was present.
	HasEmbedding bool `json:"-"`
}

// UnmarshalJSON records whether "embedding" was present at all.
func (m *Memory) UnmarshalJSON(b []byte) error {
	type plain Memory
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(b, (*plain)(m)); err != nil {
		return err
	}
	_, m.HasEmbedding = raw["embedding"]
	return nil
}

// MemoryList is listMemories' body.
type MemoryList struct {
	Memories   []Memory `json:"memories"`
	Total      int      `json:"total"`
	HasMore    bool     `json:"has_more"`
	NextCursor *string  `json:"next_cursor"`
}

// SearchResponse is searchMemories' body.
type SearchResponse struct {
	Results []struct {
		Memory Memory  `json:"memory"`
		Score  float64 `json:"score"`
	} `json:"results"`
	Query        string  `json:"query"`
	Mode         string  `json:"mode"`
	TotalResults int     `json:"total_results"`
	SearchTimeMS float64 `json:"search_time_ms"`
}

// IDs returns the result ids in order.
func (s SearchResponse) IDs() []string {
	out := make([]string, len(s.Results))
	for i, r := range s.Results {
		out[i] = r.Memory.ID
	}
	return out
}

// ErrorBody is the error envelope of every error response.
type ErrorBody struct {
	Error      string         `json:"error"`
	Message    string         `json:"message"`
	Details    map[string]any `json:"details"`
	RetryAfter *int           `json:"retry_after"`
}

// Do sends r with c and stops the check on a transport error or a
// response that violates openapi.yaml.
func (t *T) Do(ctx context.Context, c *Client, r Request) *Response {
	resp, err := c.Do(ctx, r)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if resp.SpecErr != nil {
		t.Fatalf("%s: %v", resp, resp.SpecErr)
	}
	return resp
}

// Expect stops the check unless the status is one of want.
func (t *T) Expect(resp *Response, want ...int) {
	if !slices.Contains(want, resp.Status) {
		t.Fatalf("want status %v, got %s", want, resp)
	}
}

// errorCodes is the status -> code table of DESIGN.md and openapi.yaml.
var errorCodes = map[int]string{
	400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
	406: "NOT_ACCEPTABLE", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED",
	500: "INTERNAL", 503: "UNAVAILABLE",
}

// ExpectError stops the check unless resp is status with the error
// envelope: the matching code, a non-empty message, details an object when
// present, and for 429 retry_after plus a Retry-After header.
func (t *T) ExpectError(resp *Response, status int) ErrorBody {
	t.Expect(resp, status)
	return t.checkEnvelope(resp)
}

func (t *T) checkEnvelope(resp *Response) ErrorBody {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &raw); err != nil {
		t.Fatalf("error body is not a JSON object: %s", resp)
	}
	var e ErrorBody
	if err := resp.Decode(&e); err != nil {
		t.Fatalf("%v", err)
	}
	if want := errorCodes[resp.Status]; e.Error != want {
		t.Fatalf("error code %q, want %q for status %d: %s", e.Error, want, resp.Status, resp)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Fatalf("error message is empty: %s", resp)
	}
	if d, ok := raw["details"]; ok && (len(d) == 0 || d[0] != '{') {
		t.Fatalf("details must be an object: %s", resp)
	}
	if resp.Status == http.StatusTooManyRequests {
		if e.RetryAfter == nil || *e.RetryAfter < 0 {
			t.Fatalf("429 without retry_after seconds: %s", resp)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without a Retry-After header: %s", resp)
		}
	}
	return e
}

// Create stores a memory with c, expects 201 and deletes it after the check.
func (t *T) Create(ctx context.Context, c *Client, body map[string]any) StoreResult {
	resp := t.Do(ctx, c, Request{Method: "POST", Path: "/memory", JSON: body})
	t.Expect(resp, http.StatusCreated)
	var sr StoreResult
	if err := resp.Decode(&sr); err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func(ctx context.Context) { deleteQuietly(ctx, c, sr.ID) })
	return sr
}

func deleteQuietly(ctx context.Context, c *Client, id string) {
	_, _ = c.Do(ctx, Request{Method: "DELETE", Path: "/memory/" + url.PathEscape(id), NoValidate: true})
}

// Get reads a memory and expects 200.
func (t *T) Get(ctx context.Context, c *Client, id string, q url.Values) Memory {
	resp := t.Do(ctx, c, Request{Method: "GET", Path: "/memory/" + url.PathEscape(id), Query: q})
	t.Expect(resp, http.StatusOK)
	var m Memory
	if err := resp.Decode(&m); err != nil {
		t.Fatalf("%v", err)
	}
	return m
}

// List reads one page and expects 200.
func (t *T) List(ctx context.Context, c *Client, q url.Values) MemoryList {
	resp := t.Do(ctx, c, Request{Method: "GET", Path: "/memory", Query: q})
	t.Expect(resp, http.StatusOK)
	var l MemoryList
	if err := resp.Decode(&l); err != nil {
		t.Fatalf("%v", err)
	}
	return l
}

// ListAll follows next_cursor to the end and returns every id in order.
func (t *T) ListAll(ctx context.Context, c *Client, q url.Values) []string {
	q = cloneValues(q)
	var ids []string
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatalf("more than 1000 pages: the cursor does not advance")
		}
		l := t.List(ctx, c, q)
		for _, m := range l.Memories {
			ids = append(ids, m.ID)
		}
		if l.NextCursor == nil {
			return ids
		}
		q.Set("cursor", *l.NextCursor)
	}
}

// Search posts a search and expects 200.
func (t *T) Search(ctx context.Context, c *Client, body map[string]any) SearchResponse {
	resp := t.Do(ctx, c, Request{Method: "POST", Path: "/memory/search", JSON: body})
	t.Expect(resp, http.StatusOK)
	var s SearchResponse
	if err := resp.Decode(&s); err != nil {
		t.Fatalf("%v", err)
	}
	return s
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

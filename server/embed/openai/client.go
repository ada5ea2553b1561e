package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxResponseBytes bounds what is read from the upstream: a full batch of
// 3072-dim vectors as JSON is ~20 MB, so this only stops a runaway server.
const maxResponseBytes = 256 << 20

// bodyExcerpt is how much of an upstream error body goes into the error,
// enough for an operator to see the upstream's reason in the log.
const bodyExcerpt = 300

type request struct {
	Model      string   `json:"model"`
	Input      []string `json:"input"`
	Dimensions int      `json:"dimensions,omitempty"`
}

type response struct {
	Data []struct {
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
	} `json:"data"`
	Usage struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

// UpstreamError is a non-2xx answer from the embeddings server. It is a
// plain error (internal to API clients); Body is a short excerpt for logs.
type UpstreamError struct {
	Endpoint string // without credentials
	Status   int
	Body     string
	Attempts int
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("openai embedder: POST %s: status %d after %d attempt(s): %s",
		e.Endpoint, e.Status, e.Attempts, e.Body)
}

// Temporary reports whether the upstream was overloaded or failing
// (429/5xx), i.e. whether the service is unavailable rather than broken.
func (e *UpstreamError) Temporary() bool { return retryableStatus(e.Status) }

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}

// post sends one request, retrying 429, 5xx and network errors with
// bounded backoff. ctx cancellation stops it at once, also mid-backoff.
func (e *Embedder) post(ctx context.Context, texts []string) (*response, error) {
	body, err := json.Marshal(e.newRequest(texts))
	if err != nil {
		return nil, fmt.Errorf("openai embedder: encode request: %w", err)
	}
	for attempt := 1; ; attempt++ {
		resp, retryAfter, err := e.attempt(ctx, body)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("openai embedder: %w", ctx.Err())
		}
		var ue *UpstreamError
		if errors.As(err, &ue) {
			ue.Attempts = attempt
			if !ue.Temporary() {
				return nil, err
			}
		}
		if attempt > e.cfg.MaxRetries {
			return nil, err
		}
		wait := e.backoff(attempt, retryAfter)
		e.cfg.Logger.Warn("openai embedder: retrying", "endpoint", e.redactedEndpoint(),
			"attempt", attempt, "wait", wait, "err", err)
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("openai embedder: %w", err)
		}
	}
}

func (e *Embedder) newRequest(texts []string) request {
	r := request{Model: e.cfg.Model, Input: texts}
	if e.cfg.SendDimensions {
		r.Dimensions = e.cfg.Dims
	}
	return r
}

// attempt makes one HTTP call bounded by Timeout. It returns the parsed
// response, or an error and the server's Retry-After (0 when absent).
func (e *Embedder) attempt(ctx context.Context, body []byte) (*response, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("openai embedder: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.cfg.APIKey)
	}
	res, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		// *url.Error names the URL, which may carry credentials: rebuild it.
		return nil, 0, fmt.Errorf("openai embedder: POST %s: %w", e.redactedEndpoint(), unwrapURLError(err))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, 0, fmt.Errorf("openai embedder: read response of %s: %w", e.redactedEndpoint(), err)
	}
	if res.StatusCode/100 != 2 {
		return nil, parseRetryAfter(res.Header.Get("Retry-After")), &UpstreamError{
			Endpoint: e.redactedEndpoint(), Status: res.StatusCode, Body: e.redactKey(excerpt(data)),
		}
	}
	var out response
	if err := json.Unmarshal(data, &out); err != nil {
		// A 2xx with a body that is not the API's shape will not improve
		// on retry: report it as a non-temporary upstream error.
		return nil, 0, &UpstreamError{Endpoint: e.redactedEndpoint(), Status: res.StatusCode,
			Body: "malformed response: " + err.Error() + ": " + excerpt(data)}
	}
	return &out, 0, nil
}

// unwrapURLError drops *url.Error's URL, keeping its operation's cause.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// redactKey hides the API key in s: some servers echo the key they
// rejected in their 401 body, and that body goes into logs.
func (e *Embedder) redactKey(s string) string {
	if len(e.cfg.APIKey) < 4 {
		return s
	}
	return strings.ReplaceAll(s, e.cfg.APIKey, "[redacted]")
}

// excerpt is the start of an upstream body on one line.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > bodyExcerpt {
		s = s[:bodyExcerpt] + "..."
	}
	return s
}

// backoff is the wait before retry number attempt: Retry-After when the
// server sent one, else RetryBase doubled per attempt with jitter in
// [d/2, d); both capped by MaxRetryWait.
func (e *Embedder) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, e.cfg.MaxRetryWait)
	}
	d := e.cfg.RetryBase << min(attempt-1, 20)
	if d <= 0 || d > e.cfg.MaxRetryWait {
		d = e.cfg.MaxRetryWait
	}
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

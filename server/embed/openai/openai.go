// Package openai embeds texts with any server that speaks the OpenAI
// embeddings API (POST {base}/v1/embeddings): OpenAI itself, Ollama, vLLM,
// Hugging Face TEI, LocalAI.
//
// Errors: an empty or blank text is an *memoryd.Error with code EINVALID
// (the client sent it). Everything that goes wrong upstream (network,
// status, malformed response, dimension mismatch) is a plain error, so the
// HTTP layer treats it as internal: it is logged with the upstream status
// and a short excerpt of the upstream body, and never shown to API clients.
// The API key never appears in an error or a log line.
package openai

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBatch     = 256
	DefaultMaxRetries   = 3
	DefaultRetryBase    = 500 * time.Millisecond
	DefaultMaxRetryWait = 20 * time.Second
)

// Config configures an Embedder. Only BaseURL and Model are required.
type Config struct {
	// BaseURL is the server root, e.g. "https://api.openai.com" or
	// "http://localhost:11434"; "/v1/embeddings" is appended. A trailing
	// "/v1" is accepted too, so either form of the usual docs works.
	BaseURL string
	// APIKey, when set, is sent as "Authorization: Bearer <key>".
	APIKey string
	// Model is the upstream model name, e.g. "text-embedding-3-small".
	Model string
	// Dims is the expected dimension. 0 learns it from the first response;
	// afterwards (or when set) any other dimension is an error.
	Dims int
	// SendDimensions adds "dimensions": Dims to each request, for servers
	// that can shorten vectors (OpenAI text-embedding-3-*). Requires Dims.
	SendDimensions bool
	// Timeout bounds each HTTP attempt (default DefaultTimeout).
	Timeout time.Duration
	// MaxBatch is the most texts sent in one request; larger inputs are
	// split into several requests, sent one after another so a rate-limited
	// upstream is not hit by a burst (default DefaultMaxBatch).
	MaxBatch int
	// MaxRetries is how many times a request that failed with 429, 5xx or a
	// network error is retried (default DefaultMaxRetries; negative: none).
	MaxRetries int
	// RetryBase is the first backoff; it doubles per attempt, with jitter,
	// up to MaxRetryWait. A Retry-After header, when sent, is used instead
	// (still capped by MaxRetryWait).
	RetryBase    time.Duration
	MaxRetryWait time.Duration
	// HTTPClient defaults to a client without an overall timeout (Timeout
	// bounds each attempt through its context).
	HTTPClient *http.Client
	// Logger gets retries and upstream failures (default slog.Default()).
	Logger *slog.Logger
}

// Embedder is safe for concurrent use.
type Embedder struct {
	cfg      Config
	endpoint string
	// dims is the configured or learned dimension; 0 until learned.
	dims atomic.Int64
}

var _ memoryd.Embedder = (*Embedder)(nil)

// New validates cfg and applies defaults. It makes no request.
func New(cfg Config) (*Embedder, error) {
	if cfg.Model == "" {
		return nil, errors.New("openai embedder: model is required")
	}
	if cfg.Dims < 0 {
		return nil, fmt.Errorf("openai embedder: dims %d < 0", cfg.Dims)
	}
	if cfg.SendDimensions && cfg.Dims == 0 {
		return nil, errors.New("openai embedder: sending dimensions needs dims")
	}
	endpoint, err := endpointURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	applyDefaults(&cfg)
	e := &Embedder{cfg: cfg, endpoint: endpoint}
	e.dims.Store(int64(cfg.Dims))
	return e, nil
}

func applyDefaults(cfg *Config) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
}

// endpointURL turns a base URL into the embeddings endpoint.
func endpointURL(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("openai embedder: base URL %q is not an http(s) URL", base)
	}
	p := strings.TrimSuffix(u.Path, "/")
	p = strings.TrimSuffix(p, "/v1")
	u.Path = p + "/v1/embeddings"
	return u.String(), nil
}

// Model returns the configured upstream model name.
func (e *Embedder) Model() string { return e.cfg.Model }

// Dims returns the configured dimension or, when it was 0, the one learned
// from the first response; 0 until then (call Probe to learn it early).
func (e *Embedder) Dims() int { return int(e.dims.Load()) }

// Probe embeds one short text so that Dims is known and the upstream is
// proven reachable, e.g. at start-up.
func (e *Embedder) Probe(ctx context.Context) error {
	_, err := e.Embed(ctx, []string{"probe"})
	return err
}

// Embed returns one unit vector per text, in order. Large inputs are sent in
// requests of at most MaxBatch texts. Tokens are estimates when the upstream
// reports only a request total (see distributeTokens).
func (e *Embedder) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return nil, &memoryd.Error{
				Code:    memoryd.EINVALID,
				Message: fmt.Sprintf("text %d is empty", i),
				Details: map[string]any{"index": i},
			}
		}
	}
	out := make([]memoryd.Embedding, 0, len(texts))
	for start := 0; start < len(texts); start += e.cfg.MaxBatch {
		end := min(start+e.cfg.MaxBatch, len(texts))
		got, err := e.embedBatch(ctx, texts[start:end])
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// embedBatch sends one request and turns its response into embeddings.
func (e *Embedder) embedBatch(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	resp, err := e.post(ctx, texts)
	if err != nil {
		return nil, err
	}
	vecs, err := e.vectors(resp, len(texts))
	if err != nil {
		return nil, fmt.Errorf("openai embedder %s: %w", e.redactedEndpoint(), err)
	}
	tokens := distributeTokens(texts, resp.Usage.PromptTokens)
	out := make([]memoryd.Embedding, len(texts))
	for i := range out {
		out[i] = memoryd.Embedding{Vector: vecs[i], Tokens: tokens[i]}
	}
	return out, nil
}

// vectors orders the response's data by index, checks count and dimension,
// and normalises each vector.
func (e *Embedder) vectors(resp *response, n int) ([][]float32, error) {
	if len(resp.Data) != n {
		return nil, fmt.Errorf("sent %d inputs, got %d embeddings", n, len(resp.Data))
	}
	vecs := make([][]float32, n)
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= n || vecs[d.Index] != nil {
			return nil, fmt.Errorf("embedding index %d is out of range or repeated", d.Index)
		}
		if err := e.checkDims(len(d.Embedding)); err != nil {
			return nil, err
		}
		if !normalize(d.Embedding) {
			return nil, fmt.Errorf("embedding %d is a zero or non-finite vector", d.Index)
		}
		vecs[d.Index] = d.Embedding
	}
	return vecs, nil
}

// checkDims learns the dimension on first use and rejects any other later.
func (e *Embedder) checkDims(got int) error {
	if got == 0 {
		return errors.New("empty embedding")
	}
	if e.dims.CompareAndSwap(0, int64(got)) {
		e.cfg.Logger.Info("openai embedder learned dimension", "model", e.cfg.Model, "dims", got)
		return nil
	}
	if want := e.dims.Load(); int64(got) != want {
		return fmt.Errorf("model %q returned %d dimensions, want %d", e.cfg.Model, got, want)
	}
	return nil
}

// normalize scales v to unit length in place; false for a zero, NaN or Inf
// vector, which no similarity can rank.
func normalize(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return false
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return true
}

// redactedEndpoint is the endpoint with any user:password removed, for
// errors and logs.
func (e *Embedder) redactedEndpoint() string {
	u, err := url.Parse(e.endpoint)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

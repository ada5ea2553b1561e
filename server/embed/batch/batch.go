// Package batch coalesces concurrent Embed calls into fewer, larger calls
// of an inner embedder, so a model that computes a batch faster per text
// than single texts (use-lite) does one forward pass for many requests.
//
// Batching is natural, not timed: a call made while the embedder is idle
// starts at once; calls made while a batch is running wait in a queue and
// leave together, up to MaxBatch texts, as soon as a batch slot frees. So
// an idle server adds no latency, and a busy one amortises its passes.
//
// A call's texts are never split across batches. A caller whose context
// ends stops waiting: if its call has not started, its texts leave the
// queue; if it has, the batch runs on for the others (and is cancelled
// once every caller in it has gone).
package batch

import (
	"context"
	"fmt"
	"sync"

	memoryd "github.com/memoryd/memoryd/server"
)

// DefaultMaxBatch is the default text budget of one inner call. use-lite
// gains little beyond 32 texts, and a larger batch makes its first caller
// wait for more work that is not its own.
const DefaultMaxBatch = 32

type config struct {
	maxBatch    int
	concurrency int
}

// Option configures an Embedder.
type Option func(*config)

// WithMaxBatch caps the texts of one inner call (default DefaultMaxBatch).
// A single call with more texts still goes as one batch of its own.
// Values below 1 mean 1.
func WithMaxBatch(n int) Option {
	return func(c *config) { c.maxBatch = max(n, 1) }
}

// WithConcurrency sets how many inner calls may run at once (default 1:
// use-lite already spreads one batch over every core, so a second batch
// would only compete for them). Values below 1 mean 1.
func WithConcurrency(n int) Option {
	return func(c *config) { c.concurrency = max(n, 1) }
}

// Embedder wraps an inner memoryd.Embedder; it is safe for concurrent use.
type Embedder struct {
	inner memoryd.Embedder
	cfg   config

	mu      sync.Mutex
	queue   []*call // waiting calls, oldest first
	running int     // inner calls in flight
}

var _ memoryd.Embedder = (*Embedder)(nil)

// call is one Embed call waiting for, or part of, a batch.
type call struct {
	ctx   context.Context
	texts []string
	done  chan struct{} // closed once out and err are set
	out   []memoryd.Embedding
	err   error
}

// New wraps inner.
func New(inner memoryd.Embedder, opts ...Option) *Embedder {
	cfg := config{maxBatch: DefaultMaxBatch, concurrency: 1}
	for _, o := range opts {
		o(&cfg)
	}
	return &Embedder{inner: inner, cfg: cfg}
}

// Model returns the inner embedder's model.
func (e *Embedder) Model() string { return e.inner.Model() }

// Dims returns the inner embedder's dimension.
func (e *Embedder) Dims() int { return e.inner.Dims() }

// Unwrap returns the inner embedder.
func (e *Embedder) Unwrap() memoryd.Embedder { return e.inner }

// Embed queues texts for the next batch and waits for their embeddings.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	if len(texts) == 0 {
		// Nothing to batch; the inner embedder defines the answer.
		return e.inner.Embed(ctx, texts)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &call{ctx: ctx, texts: texts, done: make(chan struct{})}
	e.mu.Lock()
	e.queue = append(e.queue, c)
	var b []*call
	if e.running < e.cfg.concurrency {
		// take may find nothing left to do, if ctx ended since the check
		// above: then no runner starts and the slot stays free.
		if b = e.take(); len(b) > 0 {
			e.running++
		}
	}
	e.mu.Unlock()
	if len(b) > 0 {
		go e.run(b)
	}
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done():
		e.abandon(c)
		return nil, ctx.Err()
	}
}

// abandon removes c from the queue if no batch has taken it yet.
func (e *Embedder) abandon(c *call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, q := range e.queue {
		if q == c {
			e.queue = append(e.queue[:i], e.queue[i+1:]...)
			return
		}
	}
}

// take removes the next batch from the queue: the oldest calls whose texts
// fit in maxBatch, and always at least one. Calls whose context has ended
// are dropped on the way. e.mu must be held.
func (e *Embedder) take() []*call {
	var b []*call
	n, i := 0, 0
	for ; i < len(e.queue); i++ {
		c := e.queue[i]
		if err := c.ctx.Err(); err != nil {
			c.err = err
			close(c.done)
			continue
		}
		if len(b) > 0 && n+len(c.texts) > e.cfg.maxBatch {
			break
		}
		b = append(b, c)
		n += len(c.texts)
	}
	// Copy the rest down so the queue's array does not keep growing.
	rest := copy(e.queue, e.queue[i:])
	clear(e.queue[rest:])
	e.queue = e.queue[:rest]
	return b
}

// run embeds batch b, then keeps taking batches until the queue is empty,
// so calls that arrived during a pass go in the next one.
func (e *Embedder) run(b []*call) {
	for len(b) > 0 {
		e.do(b)
		e.mu.Lock()
		b = e.take()
		if len(b) == 0 {
			e.running--
		}
		e.mu.Unlock()
	}
}

// do makes one inner call for the calls of b and hands each its share.
func (e *Embedder) do(b []*call) {
	out, err := e.embed(b)
	if err != nil && len(b) > 1 && memoryd.ErrorCode(err) == memoryd.EINVALID {
		// An invalid input belongs to one caller, and its message names an
		// index in the merged batch: run the calls alone so each gets its
		// own answer and the others theirs.
		for _, c := range b {
			c.out, c.err = e.embed([]*call{c})
			close(c.done)
		}
		return
	}
	off := 0
	for _, c := range b {
		if err != nil {
			c.err = err
		} else {
			c.out = out[off : off+len(c.texts) : off+len(c.texts)]
			if len(b) > 1 {
				c.out = detach(c.out)
			}
		}
		off += len(c.texts)
		close(c.done)
	}
}

// detach copies embs and their vectors into memory of their own. An
// embedder may put a batch's vectors in one array (use-lite does); a
// caller keeping one vector must not keep every other caller's alive.
func detach(embs []memoryd.Embedding) []memoryd.Embedding {
	n := 0
	for _, e := range embs {
		n += len(e.Vector)
	}
	vecs := make([]float32, 0, n)
	out := make([]memoryd.Embedding, len(embs))
	for i, e := range embs {
		lo := len(vecs)
		vecs = append(vecs, e.Vector...)
		out[i] = memoryd.Embedding{Vector: vecs[lo:len(vecs):len(vecs)], Tokens: e.Tokens}
	}
	return out
}

// embed makes the inner call for the texts of b, in order. A panic in the
// inner embedder becomes an error: it runs on a goroutine of ours, where
// the HTTP server's recovery would not catch it.
func (e *Embedder) embed(b []*call) (out []memoryd.Embedding, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("embedder panic: %v", r)
		}
	}()
	ctx, stop := batchContext(b)
	defer stop()
	texts := b[0].texts
	if len(b) > 1 {
		texts = nil
		for _, c := range b {
			texts = append(texts, c.texts...)
		}
	}
	out, err = e.inner.Embed(ctx, texts)
	if err == nil && len(out) != len(texts) {
		return nil, fmt.Errorf("embedder returned %d embeddings for %d texts", len(out), len(texts))
	}
	return out, err
}

// batchContext is the context of an inner call made for b: a lone call's
// own context, or for several one that ends when every caller's has (no
// single caller may cancel the others' work). Values and deadlines of the
// callers are not carried over.
func batchContext(b []*call) (context.Context, func()) {
	if len(b) == 1 {
		return b[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	live := len(b)
	stops := make([]func() bool, len(b))
	for i, c := range b {
		stops[i] = context.AfterFunc(c.ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if live--; live == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}

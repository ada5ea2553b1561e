package batch_test

import (
	"context"
	"sync"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
)

// probe wraps a real embedder to observe the wrapper from below: it
// records every inner call's texts and how it ended, counts calls in
// flight, and can hold call n at gates[n] until the test closes it (or the
// call's context ends), so tests build queues without sleeping.
type probe struct {
	memoryd.Embedder

	mu          sync.Mutex
	gates       []chan struct{}
	calls       [][]string
	errs        []error // per finished call, nil on success
	inflight    int
	maxInflight int
}

func newProbe(inner memoryd.Embedder, gates int) *probe {
	p := &probe{Embedder: inner}
	for range gates {
		p.gates = append(p.gates, make(chan struct{}))
	}
	return p
}

func (p *probe) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	p.mu.Lock()
	n := len(p.calls)
	p.calls = append(p.calls, append([]string(nil), texts...))
	p.errs = append(p.errs, nil)
	p.inflight++
	p.maxInflight = max(p.maxInflight, p.inflight)
	var gate chan struct{}
	if n < len(p.gates) {
		gate = p.gates[n]
	}
	p.mu.Unlock()

	var out []memoryd.Embedding
	var err error
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	if err = ctx.Err(); err == nil {
		out, err = p.Embedder.Embed(ctx, texts)
	}

	p.mu.Lock()
	p.inflight--
	p.errs[n] = err
	if err == nil {
		p.errs[n] = errNone
	}
	p.mu.Unlock()
	return out, err
}

// errNone marks a finished call that succeeded (nil means still running).
var errNone = &memoryd.Error{Code: "OK"}

// entered is the number of inner calls started.
func (p *probe) entered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// result is how inner call n ended: nil while it runs, errNone on success.
func (p *probe) result(n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n >= len(p.errs) {
		return nil
	}
	return p.errs[n]
}

// sizes is the number of texts of each inner call so far.
func (p *probe) sizes() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := make([]int, len(p.calls))
	for i, c := range p.calls {
		s[i] = len(c)
	}
	return s
}

func (p *probe) texts(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[n]
}

// release lets inner call n proceed.
func (p *probe) release(n int) { close(p.gates[n]) }

// waitFor polls cond until it holds, failing the test if it does not
// within a generous bound (a hang, not a speed target).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

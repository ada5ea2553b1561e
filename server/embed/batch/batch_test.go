package batch_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
	"weak"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/batch"
	"github.com/memoryd/memoryd/server/embed/embedtest"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/embed/openai"
	"github.com/memoryd/memoryd/server/embed/uselite"
)

// inners are the real embedders the wrapper is tested over: hash always,
// use-lite unless the race detector makes it too slow.
func inners(t *testing.T) map[string]memoryd.Embedder {
	t.Helper()
	m := map[string]memoryd.Embedder{"hash": hash.New(0)}
	if !raceEnabled {
		u, err := uselite.New()
		if err != nil {
			t.Fatal(err)
		}
		m["use-lite"] = u
	}
	return m
}

func TestContract(t *testing.T) {
	for name, inner := range inners(t) {
		t.Run(name, func(t *testing.T) { embedtest.Run(t, batch.New(inner)) })
	}
}

// sample is text i of an endless supply of distinct ~20-word texts.
func sample(i int) string {
	words := strings.Fields("the user prefers dark mode in every editor and wants short " +
		"answers with code examples when asking about Go concurrency Straße café")
	r := i % len(words)
	return fmt.Sprintf("%d %s", i, strings.Join(append(words[r:], words[:r]...), " "))
}

// same fails t unless got are the embeddings want, component by component.
func same(t *testing.T, who string, got, want []memoryd.Embedding) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d embeddings, want %d", who, len(got), len(want))
		return
	}
	for i := range got {
		if d := embedtest.MaxDiff(got[i].Vector, want[i].Vector); d > embedtest.Tolerance {
			t.Errorf("%s text %d: differs from the unwrapped embedder by %g", who, i, d)
		}
		if got[i].Tokens != want[i].Tokens {
			t.Errorf("%s text %d: Tokens %d, want %d", who, i, got[i].Tokens, want[i].Tokens)
		}
	}
}

// TestMatchesUnwrapped: 64 concurrent callers of 1 or 2 texts each get
// what the unwrapped embedder gives for their texts, and the inner calls
// carry every text exactly once, whole calls only.
func TestMatchesUnwrapped(t *testing.T) {
	ctx := context.Background()
	for name, inner := range inners(t) {
		t.Run(name, func(t *testing.T) {
			const callers = 64
			texts := make([][]string, callers)
			want := make([][]memoryd.Embedding, callers)
			for i := range texts {
				for j := range 1 + i%2 {
					texts[i] = append(texts[i], sample(3*i+j))
				}
				var err error
				if want[i], err = inner.Embed(ctx, texts[i]); err != nil {
					t.Fatal(err)
				}
			}
			p := newProbe(inner, 0)
			e := batch.New(p)
			got := make([][]memoryd.Embedding, callers)
			errs := make([]error, callers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					<-start
					got[i], errs[i] = e.Embed(ctx, texts[i])
				})
			}
			close(start)
			wg.Wait()
			for i := range callers {
				if errs[i] != nil {
					t.Fatalf("caller %d: %v", i, errs[i])
				}
				same(t, fmt.Sprint("caller ", i), got[i], want[i])
			}
			var sent, all []string
			for n := range p.entered() {
				sent = append(sent, p.texts(n)...)
				if k := len(p.texts(n)); k > batch.DefaultMaxBatch {
					t.Errorf("inner call %d has %d texts", n, k)
				}
			}
			for _, ts := range texts {
				all = append(all, ts...)
			}
			slices.Sort(sent)
			slices.Sort(all)
			if !slices.Equal(sent, all) {
				t.Errorf("inner calls carried %d texts, want each of the %d once", len(sent), len(all))
			}
			t.Logf("%d callers, %d inner calls", callers, p.entered())
		})
	}
}

// call runs e.Embed(ctx, texts) on a goroutine; receive from the channel
// for its outcome.
type outcome struct {
	out []memoryd.Embedding
	err error
}

func goEmbed(ctx context.Context, e memoryd.Embedder, texts ...string) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		out, err := e.Embed(ctx, texts)
		ch <- outcome{out, err}
	}()
	return ch
}

// check fails t unless o succeeded with inner's embeddings of texts.
func check(t *testing.T, who string, o outcome, inner memoryd.Embedder, texts ...string) {
	t.Helper()
	if o.err != nil {
		t.Fatalf("%s: %v", who, o.err)
	}
	want, err := inner.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	same(t, who, o.out, want)
}

// busy starts a first call that holds the wrapper's only batch slot at
// probe gate 0, and returns its outcome channel once the call is inside
// the inner embedder.
func busy(t *testing.T, e *batch.Embedder, p *probe) <-chan outcome {
	t.Helper()
	ch := goEmbed(context.Background(), e, "first caller")
	waitFor(t, "the first inner call", func() bool { return p.entered() == 1 })
	return ch
}

// TestBatchesForm: callers that arrive while a pass runs go together in
// the next, up to MaxBatch texts per inner call.
func TestBatchesForm(t *testing.T) {
	inner := hash.New(0)
	p := newProbe(inner, 1)
	e := batch.New(p)
	first := busy(t, e, p)
	const waiting = 63
	chs := make([]<-chan outcome, waiting)
	for i := range chs {
		chs[i] = goEmbed(context.Background(), e, sample(i))
	}
	waitFor(t, "63 queued callers", func() bool { return e.Queued() == waiting })
	p.release(0)
	check(t, "first", <-first, inner, "first caller")
	for i, ch := range chs {
		check(t, fmt.Sprint("caller ", i), <-ch, inner, sample(i))
	}
	if got, want := p.sizes(), []int{1, 32, 31}; !slices.Equal(got, want) {
		t.Errorf("inner call sizes %v, want %v", got, want)
	}
}

// TestCallsNotSplit: a call larger than MaxBatch goes whole, alone; the
// next calls keep their order and are not split either.
func TestCallsNotSplit(t *testing.T) {
	inner := hash.New(0)
	p := newProbe(inner, 1)
	e := batch.New(p, batch.WithMaxBatch(8))
	first := busy(t, e, p)
	texts := func(from, n int) []string {
		var s []string
		for i := range n {
			s = append(s, sample(from+i))
		}
		return s
	}
	big, b, c := texts(0, 10), texts(100, 3), texts(200, 6)
	chBig := goEmbed(context.Background(), e, big...)
	waitFor(t, "big queued", func() bool { return e.Queued() == 1 })
	chB := goEmbed(context.Background(), e, b...)
	waitFor(t, "b queued", func() bool { return e.Queued() == 2 })
	chC := goEmbed(context.Background(), e, c...)
	waitFor(t, "c queued", func() bool { return e.Queued() == 3 })
	p.release(0)
	<-first
	check(t, "big", <-chBig, inner, big...)
	check(t, "b", <-chB, inner, b...)
	check(t, "c", <-chC, inner, c...)
	// 3+6 > 8, so b and c cannot share a batch either.
	if got, want := p.sizes(), []int{1, 10, 3, 6}; !slices.Equal(got, want) {
		t.Fatalf("inner call sizes %v, want %v", got, want)
	}
	if !slices.Equal(p.texts(2), b) || !slices.Equal(p.texts(3), c) {
		t.Errorf("inner calls out of order: %q, %q", p.texts(2), p.texts(3))
	}
}

// TestCancelQueued: a caller that gives up before its batch starts gets
// its context's error at once, and its texts are not embedded.
func TestCancelQueued(t *testing.T) {
	inner := hash.New(0)
	p := newProbe(inner, 1)
	e := batch.New(p)
	first := busy(t, e, p)
	ctx, cancel := context.WithCancel(context.Background())
	chB := goEmbed(ctx, e, "cancelled caller")
	waitFor(t, "b queued", func() bool { return e.Queued() == 1 })
	chC := goEmbed(context.Background(), e, "patient caller")
	waitFor(t, "c queued", func() bool { return e.Queued() == 2 })
	cancel()
	if o := <-chB; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want context.Canceled", o.err)
	}
	if n := e.Queued(); n != 1 {
		t.Errorf("%d calls queued after one left, want 1", n)
	}
	p.release(0) // only now can any batch after the first start
	<-first
	check(t, "patient", <-chC, inner, "patient caller")
	if p.entered() != 2 || !slices.Equal(p.texts(1), []string{"patient caller"}) {
		t.Errorf("inner calls %v: want the patient caller's text alone second", p.sizes())
	}
}

// startedPair makes a batch of two callers, b (cancellable) and c, and
// returns once that batch is inside the inner embedder, held at gate 1.
func startedPair(t *testing.T, e *batch.Embedder, p *probe, cb, cc context.Context) (chB, chC <-chan outcome) {
	t.Helper()
	first := busy(t, e, p)
	chB = goEmbed(cb, e, "caller b")
	waitFor(t, "b queued", func() bool { return e.Queued() == 1 })
	chC = goEmbed(cc, e, "caller c")
	waitFor(t, "c queued", func() bool { return e.Queued() == 2 })
	p.release(0)
	<-first
	waitFor(t, "the pair's inner call", func() bool { return p.entered() == 2 })
	if got := p.texts(1); !slices.Equal(got, []string{"caller b", "caller c"}) {
		t.Fatalf("second inner call has %q", got)
	}
	return chB, chC
}

// TestCancelInRunningBatch: one caller leaving a running batch does not
// cancel the others' work.
func TestCancelInRunningBatch(t *testing.T) {
	inner := hash.New(0)
	p := newProbe(inner, 2)
	e := batch.New(p)
	ctx, cancel := context.WithCancel(context.Background())
	chB, chC := startedPair(t, e, p, ctx, context.Background())
	cancel()
	if o := <-chB; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want context.Canceled", o.err)
	}
	p.release(1)
	check(t, "c", <-chC, inner, "caller c")
	if err := p.result(1); err != errNone {
		t.Errorf("inner call ended with %v", err)
	}
}

// TestAllLeaveCancelsBatch: once every caller of a running batch has
// gone, the inner call's context ends, so no work is done for nobody.
func TestAllLeaveCancelsBatch(t *testing.T) {
	p := newProbe(hash.New(0), 2)
	e := batch.New(p)
	cb, cancelB := context.WithCancel(context.Background())
	cc, cancelC := context.WithCancel(context.Background())
	chB, chC := startedPair(t, e, p, cb, cc)
	cancelB()
	<-chB
	if err := p.result(1); err != nil {
		t.Fatalf("inner call ended (%v) while caller c still waits", err)
	}
	cancelC()
	<-chC
	// Gate 1 is never opened: only the batch context can end the call.
	waitFor(t, "the inner call to end", func() bool { return p.result(1) != nil })
	if err := p.result(1); !errors.Is(err, context.Canceled) {
		t.Errorf("inner call ended with %v, want context.Canceled", err)
	}
	// The slot is free again.
	o := <-goEmbed(context.Background(), e, "after")
	check(t, "after", o, hash.New(0), "after")
}

// TestInvalidInputStaysWithItsCaller: a text the embedder rejects fails
// only the call that sent it, with its own index; the batch's other
// callers get their embeddings.
func TestInvalidInputStaysWithItsCaller(t *testing.T) {
	for name, inner := range inners(t) {
		t.Run(name, func(t *testing.T) {
			p := newProbe(inner, 1)
			e := batch.New(p)
			first := busy(t, e, p)
			chC := goEmbed(context.Background(), e, "caller c")
			waitFor(t, "c queued", func() bool { return e.Queued() == 1 })
			chB := goEmbed(context.Background(), e, "fine", "")
			waitFor(t, "b queued", func() bool { return e.Queued() == 2 })
			p.release(0)
			<-first
			check(t, "c", <-chC, inner, "caller c")
			o := <-chB
			var me *memoryd.Error
			if !errors.As(o.err, &me) || me.Code != memoryd.EINVALID {
				t.Fatalf("caller b: %v, want %s", o.err, memoryd.EINVALID)
			}
			if me.Details["index"] != 1 {
				t.Errorf("caller b: error details %v, want index 1 (its own)", me.Details)
			}
		})
	}
}

// TestErrorReachesEveryCaller: any other inner error (here: the openai
// embedder finding no server) is every caller's answer.
func TestErrorReachesEveryCaller(t *testing.T) {
	inner, err := openai.New(openai.Config{BaseURL: "http://127.0.0.1:1", Model: "m", Dims: 8, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe(inner, 1)
	e := batch.New(p)
	first := busy(t, e, p)
	chs := []<-chan outcome{goEmbed(context.Background(), e, "b")}
	waitFor(t, "b queued", func() bool { return e.Queued() == 1 })
	chs = append(chs, goEmbed(context.Background(), e, "c", "d"))
	waitFor(t, "c queued", func() bool { return e.Queued() == 2 })
	p.release(0)
	for i, ch := range append(chs, first) {
		if o := <-ch; o.err == nil || o.out != nil {
			t.Errorf("caller %d: out %v, err %v; want the embedder's error", i, o.out, o.err)
		}
	}
	if got, want := p.sizes(), []int{1, 3}; !slices.Equal(got, want) {
		t.Errorf("inner call sizes %v, want %v (one batch for b and c)", got, want)
	}
}

// explosive is the hash embedder with a fault injected: it panics on the
// text "boom".
type explosive struct{ *hash.Embedder }

func (x explosive) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	if slices.Contains(texts, "boom") {
		panic("boom")
	}
	return x.Embedder.Embed(ctx, texts)
}

// TestPanicBecomesError: a panic in the inner embedder, which runs on the
// wrapper's goroutine, is returned as an error and the wrapper keeps
// serving.
func TestPanicBecomesError(t *testing.T) {
	inner := explosive{hash.New(0)}
	e := batch.New(inner)
	if _, err := e.Embed(context.Background(), []string{"boom"}); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
	o := <-goEmbed(context.Background(), e, "still here")
	check(t, "after", o, inner, "still here")
}

// TestConcurrency: WithConcurrency(2) lets a second batch start while one
// runs; the default does not.
func TestConcurrency(t *testing.T) {
	inner := hash.New(0)
	t.Run("default 1", func(t *testing.T) {
		p := newProbe(inner, 1)
		e := batch.New(p)
		first := busy(t, e, p)
		ch := goEmbed(context.Background(), e, "second")
		// Queued: the call was enqueued and not taken, in one step.
		waitFor(t, "second queued", func() bool { return e.Queued() == 1 })
		p.release(0)
		<-first
		check(t, "second", <-ch, inner, "second")
		if p.maxInflight != 1 {
			t.Errorf("%d inner calls ran at once", p.maxInflight)
		}
	})
	t.Run("2", func(t *testing.T) {
		p := newProbe(inner, 2)
		e := batch.New(p, batch.WithConcurrency(2))
		first := busy(t, e, p)
		ch := goEmbed(context.Background(), e, "second")
		waitFor(t, "a second inner call", func() bool { return p.entered() == 2 })
		p.release(0)
		p.release(1)
		<-first
		check(t, "second", <-ch, inner, "second")
		if p.maxInflight != 2 {
			t.Errorf("%d inner calls ran at once, want 2", p.maxInflight)
		}
	})
}

func TestDoneContextAndEmpty(t *testing.T) {
	p := newProbe(hash.New(0), 0)
	e := batch.New(p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("done context: err = %v", err)
	}
	if p.entered() != 0 {
		t.Errorf("done context reached the inner embedder")
	}
	if got, err := e.Embed(context.Background(), nil); err != nil || len(got) != 0 {
		t.Errorf("Embed(nil) = %v, %v", got, err)
	}
	if e.Model() != p.Model() || e.Dims() != p.Dims() || e.Unwrap() != p {
		t.Errorf("Model/Dims/Unwrap do not pass through: %s %d", e.Model(), e.Dims())
	}
}

// TestResultsDetached: callers of one batch get vectors in memory of
// their own, although use-lite returns a batch's vectors in one array (so
// one stored vector would keep the whole batch's alive).
func TestResultsDetached(t *testing.T) {
	if raceEnabled {
		t.Skip("use-lite is too slow under -race (the other tests cover the synchronisation)")
	}
	inner, err := uselite.New()
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe(inner, 1)
	e := batch.New(p)
	first := busy(t, e, p)
	chB := goEmbed(context.Background(), e, "caller b")
	waitFor(t, "b queued", func() bool { return e.Queued() == 1 })
	chC := goEmbed(context.Background(), e, "caller c")
	waitFor(t, "c queued", func() bool { return e.Queued() == 2 })
	p.release(0)
	<-first
	b, c := <-chB, <-chC
	check(t, "b", b, inner, "caller b")
	check(t, "c", c, inner, "caller c")
	if got := p.sizes(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("inner call sizes %v, want [1 2]", got)
	}
	// Drop b's result: its vector must become garbage although c's is
	// still in use.
	gone := weak.Make(unsafe.SliceData(b.out[0].Vector))
	b = outcome{}
	waitFor(t, "b's vector to be collected", func() bool {
		runtime.GC()
		return gone.Value() == nil
	})
	runtime.KeepAlive(c.out[0].Vector)
}

// endsAfterFirstLook is a context that is live the first time its Err is
// asked and cancelled from then on: it ends exactly between Embed's check
// and the batch being taken, a window real contexts hit only by chance.
type endsAfterFirstLook struct {
	context.Context
	looks atomic.Int32
}

func (c *endsAfterFirstLook) Err() error {
	if c.looks.Add(1) == 1 {
		return nil
	}
	return context.Canceled
}

func (c *endsAfterFirstLook) Done() <-chan struct{} {
	if c.looks.Load() == 0 {
		return nil
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

// TestCancelBeforeTakeKeepsSlot: a call whose context ends just as it
// would start a batch gives back the batch slot; the next call runs.
func TestCancelBeforeTakeKeepsSlot(t *testing.T) {
	p := newProbe(hash.New(0), 0)
	e := batch.New(p)
	if _, err := e.Embed(&endsAfterFirstLook{Context: context.Background()}, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang bound
	defer cancel()
	got, err := e.Embed(ctx, []string{"after"})
	if err != nil {
		t.Fatalf("next call: %v (batch slot lost)", err)
	}
	check(t, "after", outcome{got, err}, hash.New(0), "after")
	if p.entered() != 1 {
		t.Errorf("%d inner calls, want 1 (the cancelled text must not be embedded)", p.entered())
	}
}

// Package embedtest is the contract every memoryd.Embedder must meet. Each
// embedder's tests call Run with a real instance, so hash, openai and
// use-lite are held to the same promises the service relies on.
package embedtest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// Tolerance is the largest difference allowed between two vectors that
// should be equal (batch vs single, repeated calls) and between a vector's
// length and 1.
const Tolerance = 1e-5

// Texts are the sample inputs: short, long, punctuation, non-ASCII.
var Texts = []string{
	"The quick brown fox jumps over the lazy dog.",
	"User prefers dark mode and concise answers",
	"Meeting with Alice moved to Thursday 3pm",
	"Ünïcödé text: naïve café, Straße, 東京タワー, Привет мир",
	"a",
	"Memory services store facts for AI agents so they can recall them later. " +
		"This sentence is longer than the others to exercise longer inputs, " +
		"with numbers like 42 and 3.14159 and symbols & punctuation!",
}

// Run checks e against the contract. It uses t.Run subtests, so a failure
// names the broken promise.
func Run(t *testing.T, e memoryd.Embedder) {
	t.Helper()
	ctx := context.Background()
	if e.Dims() <= 0 {
		t.Fatalf("Dims() = %d, want > 0", e.Dims())
	}
	if e.Model() == "" {
		t.Fatal("Model() is empty")
	}
	t.Run("Shape", func(t *testing.T) { testShape(ctx, t, e) })
	t.Run("Deterministic", func(t *testing.T) { testDeterministic(ctx, t, e) })
	t.Run("BatchEqualsSingle", func(t *testing.T) { testBatchEqualsSingle(ctx, t, e) })
	t.Run("EmptyBatch", func(t *testing.T) { testEmptyBatch(ctx, t, e) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(ctx, t, e) })
}

// embed calls e and checks the count; it fails the test on error.
func embed(ctx context.Context, t testing.TB, e memoryd.Embedder, texts []string) []memoryd.Embedding {
	t.Helper()
	got, err := e.Embed(ctx, texts)
	if err != nil {
		t.Fatalf("Embed(%d texts): %v", len(texts), err)
	}
	if len(got) != len(texts) {
		t.Fatalf("Embed(%d texts) returned %d embeddings", len(texts), len(got))
	}
	return got
}

// testShape: every vector has Dims() components, unit length, finite
// values, and every non-empty text counts at least one token.
func testShape(ctx context.Context, t *testing.T, e memoryd.Embedder) {
	for i, emb := range embed(ctx, t, e, Texts) {
		if err := CheckVector(emb.Vector, e.Dims()); err != nil {
			t.Errorf("text %d: %v", i, err)
		}
		if emb.Tokens <= 0 {
			t.Errorf("text %d: Tokens = %d, want > 0", i, emb.Tokens)
		}
	}
}

func testDeterministic(ctx context.Context, t *testing.T, e memoryd.Embedder) {
	a := embed(ctx, t, e, Texts)
	b := embed(ctx, t, e, Texts)
	for i := range a {
		if d := MaxDiff(a[i].Vector, b[i].Vector); d > Tolerance {
			t.Errorf("text %d: two calls differ by %g", i, d)
		}
		if a[i].Tokens != b[i].Tokens {
			t.Errorf("text %d: Tokens %d then %d", i, a[i].Tokens, b[i].Tokens)
		}
	}
}

// testBatchEqualsSingle: a text's vector must not depend on what it was
// batched with (padding or batching bugs show up here).
func testBatchEqualsSingle(ctx context.Context, t *testing.T, e memoryd.Embedder) {
	batch := embed(ctx, t, e, Texts)
	for i, text := range Texts {
		single := embed(ctx, t, e, []string{text})
		if d := MaxDiff(batch[i].Vector, single[0].Vector); d > Tolerance {
			t.Errorf("text %d: batch and single differ by %g", i, d)
		}
	}
}

func testEmptyBatch(ctx context.Context, t *testing.T, e memoryd.Embedder) {
	got, err := e.Embed(ctx, nil)
	if err != nil {
		t.Fatalf("Embed(nil): %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("Embed(nil) returned %d embeddings", len(got))
	}
}

// testConcurrent runs overlapping calls; with -race it also proves the
// embedder shares no unsynchronised state.
func testConcurrent(ctx context.Context, t *testing.T, e memoryd.Embedder) {
	want := embed(ctx, t, e, Texts)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker embeds a rotated batch so calls overlap with
			// different inputs in flight.
			texts := append(append([]string{}, Texts[w%len(Texts):]...), Texts[:w%len(Texts)]...)
			got, err := e.Embed(ctx, texts)
			if err != nil {
				errs <- err
				return
			}
			for j := range got {
				i := (j + w) % len(Texts)
				if d := MaxDiff(got[j].Vector, want[i].Vector); d > Tolerance {
					errs <- fmt.Errorf("worker %d text %d differs by %g", w, i, d)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// CheckVector reports whether v has dims finite components and unit length.
func CheckVector(v []float32, dims int) error {
	if len(v) != dims {
		return fmt.Errorf("len = %d, want %d", len(v), dims)
	}
	var sum float64
	for j, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("component %d is %v", j, x)
		}
		sum += float64(x) * float64(x)
	}
	if n := math.Sqrt(sum); math.Abs(n-1) > Tolerance {
		return fmt.Errorf("norm = %v, want 1", n)
	}
	return nil
}

// MaxDiff is the largest absolute component difference (+Inf on a length
// mismatch).
func MaxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// Cosine is the dot product of a and b divided by their norms.
func Cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

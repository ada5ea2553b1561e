package embedtest_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/embedtest"
)

// goodEmbedder is a minimal correct embedder: one-hot-ish vectors from the
// text's bytes, normalised.
type goodEmbedder struct{ dims int }

func (g goodEmbedder) Model() string { return "good" }
func (g goodEmbedder) Dims() int     { return g.dims }
func (g goodEmbedder) Embed(_ context.Context, texts []string) ([]memoryd.Embedding, error) {
	out := make([]memoryd.Embedding, len(texts))
	for i, t := range texts {
		v := make([]float32, g.dims)
		for j := 0; j < len(t); j++ {
			v[int(t[j])%g.dims]++
		}
		normalize(v)
		out[i] = memoryd.Embedding{Vector: v, Tokens: len(strings.Fields(t)) + 1}
	}
	return out, nil
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x * x)
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(s))
	}
}

// broken wraps goodEmbedder and breaks one promise.
type broken struct {
	goodEmbedder
	how   string
	calls atomic.Int64
}

func (b *broken) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	out, _ := b.goodEmbedder.Embed(ctx, texts)
	n := b.calls.Add(1)
	for i := range out {
		switch b.how {
		case "unnormalised":
			out[i].Vector[0] += 1
		case "wrongdims":
			out[i].Vector = out[i].Vector[1:]
		case "notokens":
			out[i].Tokens = 0
		case "nondeterministic":
			out[i].Vector[0] += float32(n) * 1e-3
		case "batchdependent":
			// Depends on the batch size, as a padding bug would.
			out[i].Vector[1] += float32(len(texts)) * 1e-3
		}
	}
	return out, nil
}

func TestGoodEmbedderPasses(t *testing.T) {
	embedtest.Run(t, goodEmbedder{dims: 32})
}

// TestBrokenEmbedders runs the contract against embedders that each break
// one promise, in a child process (a failing t cannot be observed from the
// same test), and checks that the right subtest fails.
func TestBrokenEmbedders(t *testing.T) {
	if how := os.Getenv("EMBEDTEST_BROKEN"); how != "" {
		embedtest.Run(t, &broken{goodEmbedder: goodEmbedder{dims: 32}, how: how})
		return
	}
	cases := map[string]string{
		"unnormalised":     "--- FAIL: TestBrokenEmbedders/Shape",
		"wrongdims":        "--- FAIL: TestBrokenEmbedders/Shape",
		"notokens":         "--- FAIL: TestBrokenEmbedders/Shape",
		"nondeterministic": "--- FAIL: TestBrokenEmbedders/Deterministic",
		"batchdependent":   "--- FAIL: TestBrokenEmbedders/BatchEqualsSingle",
	}
	for how, want := range cases {
		t.Run(how, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenEmbedders$", "-test.v")
			cmd.Env = append(os.Environ(), "EMBEDTEST_BROKEN="+how)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("contract passed a %s embedder:\n%s", how, out)
			}
			if !strings.Contains(string(out), want) {
				t.Fatalf("want %q in output:\n%s", want, out)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	if err := embedtest.CheckVector([]float32{0.6, 0.8}, 2); err != nil {
		t.Error(err)
	}
	for _, v := range [][]float32{{0.6, 0.8, 0}, {1, 1}, {float32(math.NaN()), 1}} {
		if embedtest.CheckVector(v, 2) == nil {
			t.Errorf("CheckVector(%v) accepted", v)
		}
	}
	if d := embedtest.MaxDiff([]float32{1, 2}, []float32{1, 2.5}); d != 0.5 {
		t.Errorf("MaxDiff = %v", d)
	}
	if !math.IsInf(embedtest.MaxDiff([]float32{1}, nil), 1) {
		t.Error("MaxDiff of different lengths is not +Inf")
	}
	if c := embedtest.Cosine([]float32{1, 0}, []float32{0, 2}); c != 0 {
		t.Errorf("Cosine orthogonal = %v", c)
	}
	if c := embedtest.Cosine([]float32{1, 1}, []float32{2, 2}); math.Abs(c-1) > 1e-9 {
		t.Errorf("Cosine parallel = %v", c)
	}
}

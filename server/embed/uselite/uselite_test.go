package uselite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/embedtest"
)

// golden is testdata/golden.json: outputs of the upstream TF.js model.
type golden struct {
	Cases []struct {
		Text      string    `json:"text"`
		Tokens    []int     `json:"tokens"`
		Embedding []float32 `json:"embedding"` // null for the empty text
	} `json:"cases"`
	Batch struct {
		Texts      []string    `json:"texts"`
		Embeddings [][]float32 `json:"embeddings"`
	} `json:"batch"`
}

const goldenTolerance = 1e-5

func loadGolden(t testing.TB) golden {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 || len(g.Batch.Texts) == 0 {
		t.Fatal("golden.json has no cases")
	}
	return g
}

func newEmbedder(t testing.TB) *Embedder {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestTokenizeGolden(t *testing.T) {
	e := newEmbedder(t)
	for i, c := range loadGolden(t).Cases {
		if got := e.Tokenize(c.Text); !slices.Equal(got, c.Tokens) {
			t.Errorf("case %d %q:\n got %v\nwant %v", i, c.Text, got, c.Tokens)
		}
	}
}

func TestEmbedGolden(t *testing.T) {
	e := newEmbedder(t)
	g := loadGolden(t)
	var texts []string
	var want [][]float32
	for _, c := range g.Cases {
		if c.Embedding == nil {
			continue
		}
		texts = append(texts, c.Text)
		want = append(want, c.Embedding)
	}
	// One at a time, then all in one batch: both must match.
	single := texts
	if raceEnabled {
		single = texts[:4]
	}
	worst := 0.0
	for i, text := range single {
		got, err := e.Embed(context.Background(), []string{text})
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		d := embedtest.MaxDiff(got[0].Vector, want[i])
		if d > goldenTolerance {
			t.Errorf("single %d %q: max diff %g", i, text, d)
		}
		worst = max(worst, d)
	}
	t.Logf("%d texts, largest component difference %g", len(single), worst)
	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range texts {
		if d := embedtest.MaxDiff(got[i].Vector, want[i]); d > goldenTolerance {
			t.Errorf("batched %d %q: max diff %g", i, texts[i], d)
		}
	}
}

func TestEmbedGoldenBatch(t *testing.T) {
	e := newEmbedder(t)
	b := loadGolden(t).Batch
	got, err := e.Embed(context.Background(), b.Texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Texts {
		if d := embedtest.MaxDiff(got[i].Vector, b.Embeddings[i]); d > goldenTolerance {
			t.Errorf("batch text %d: max diff %g", i, d)
		}
	}
}

func TestContract(t *testing.T) {
	embedtest.Run(t, newEmbedder(t))
}

func TestEmptyTextIsInvalid(t *testing.T) {
	e := newEmbedder(t)
	_, err := e.Embed(context.Background(), []string{"fine", ""})
	var me *memoryd.Error
	if !errors.As(err, &me) || me.Code != memoryd.EINVALID {
		t.Fatalf("err = %v, want *memoryd.Error with code %s", err, memoryd.EINVALID)
	}
	if me.Details["index"] != 1 {
		t.Errorf("details = %v, want index 1", me.Details)
	}
}

// TestLongTextTruncated: past MaxTokens the text no longer changes the
// vector, and Tokens counts every token.
func TestLongTextTruncated(t *testing.T) {
	e := newEmbedder(t)
	base := strings.Repeat("memory service for agents ", 40)
	long := base + "completely different ending about volcanoes"
	n := len(e.Tokenize(long))
	if n <= MaxTokens {
		t.Fatalf("test text has only %d tokens", n)
	}
	got, err := e.Embed(context.Background(), []string{base, long})
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Tokens != n {
		t.Errorf("Tokens = %d, want %d", got[1].Tokens, n)
	}
	if d := embedtest.MaxDiff(got[0].Vector, got[1].Vector); d > embedtest.Tolerance {
		t.Errorf("text beyond token %d changed the vector by %g", MaxTokens, d)
	}
}

func TestCanceledContext(t *testing.T) {
	e := newEmbedder(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, []string{"hello"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestModelAndDims(t *testing.T) {
	e := newEmbedder(t)
	if e.Model() != "use-lite" || e.Dims() != 512 {
		t.Fatalf("Model, Dims = %q, %d", e.Model(), e.Dims())
	}
}

// TestManyPasses: a call whose tokens exceed one forward pass (batchRows)
// is split, and the split does not change any vector.
func TestManyPasses(t *testing.T) {
	if raceEnabled {
		t.Skip("over a thousand tokens take minutes under the race detector")
	}
	e := newEmbedder(t)
	var texts []string
	rows := 0
	for i := 0; rows <= batchRows; i++ {
		text := strings.Repeat(fmt.Sprintf("memory %d of the agent, ", i), 30)
		texts = append(texts, text)
		rows += min(len(e.Tokenize(text)), MaxTokens)
	}
	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, len(texts) - 1} {
		single, err := e.Embed(context.Background(), texts[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if d := embedtest.MaxDiff(got[i].Vector, single[0].Vector); d > embedtest.Tolerance {
			t.Errorf("text %d of %d: batched and single differ by %g", i, len(texts), d)
		}
	}
}

// TestWorkersDoNotChangeResults: how rows are split across goroutines
// changes no bit of any vector.
func TestWorkersDoNotChangeResults(t *testing.T) {
	var want []memoryd.Embedding
	for _, workers := range []int{1, 2, 3} {
		e, err := New(WithWorkers(workers))
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Embed(context.Background(), embedtest.Texts)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			if !slices.Equal(got[i].Vector, want[i].Vector) {
				t.Errorf("%d workers: text %d differs from 1 worker (max %g)",
					workers, i, embedtest.MaxDiff(got[i].Vector, want[i].Vector))
			}
		}
	}
}

package embed_test

import (
	"context"
	"testing"

	"github.com/memoryd/memoryd/server/embed"
	"github.com/memoryd/memoryd/server/embed/batch"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/embed/openai"
	"github.com/memoryd/memoryd/server/embed/uselite"
)

// use-lite is the default, behind the batcher so concurrent requests
// share forward passes.
func TestNewUSELite(t *testing.T) {
	for _, name := range []string{"", "use-lite"} {
		e, err := embed.New(embed.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		b, ok := e.(*batch.Embedder)
		if !ok {
			t.Fatalf("%q: got %T, want *batch.Embedder", name, e)
		}
		if _, ok := b.Unwrap().(*uselite.Embedder); !ok || e.Model() != uselite.ModelName || e.Dims() != uselite.Dims {
			t.Fatalf("%q: wraps %T %s %d", name, b.Unwrap(), e.Model(), e.Dims())
		}
	}
}

func TestNewHash(t *testing.T) {
	e, err := embed.New(embed.Config{Name: "hash", Dims: 128})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.(*hash.Embedder); !ok || e.Model() != "hash-128" || e.Dims() != 128 {
		t.Fatalf("got %T %s %d", e, e.Model(), e.Dims())
	}
	if _, err := e.Embed(context.Background(), []string{"works"}); err != nil {
		t.Fatal(err)
	}
}

func TestNewOpenAI(t *testing.T) {
	e, err := embed.New(embed.Config{Name: "openai", OpenAIBaseURL: "http://127.0.0.1:1",
		OpenAIModel: "text-embedding-3-small", OpenAIDims: 1536})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.(*openai.Embedder); !ok || e.Model() != "text-embedding-3-small" || e.Dims() != 1536 {
		t.Fatalf("got %T %s %d", e, e.Model(), e.Dims())
	}
	// Missing model is a configuration error, reported at construction.
	if _, err := embed.New(embed.Config{Name: "openai", OpenAIBaseURL: "http://x"}); err == nil {
		t.Error("openai without a model was accepted")
	}
}

func TestNewUnknown(t *testing.T) {
	if _, err := embed.New(embed.Config{Name: "word2vec"}); err == nil {
		t.Fatal("unknown name accepted")
	}
}

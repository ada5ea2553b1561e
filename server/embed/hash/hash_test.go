package hash_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/embedtest"
	"github.com/memoryd/memoryd/server/embed/hash"
)

func TestContract(t *testing.T) {
	for _, dims := range []int{512, 64} {
		t.Run(hash.New(dims).Model(), func(t *testing.T) { embedtest.Run(t, hash.New(dims)) })
	}
}

func TestModelAndDims(t *testing.T) {
	cases := []struct {
		in        int
		dims      int
		wantModel string
	}{{0, 512, "hash-512"}, {-3, 512, "hash-512"}, {512, 512, "hash-512"}, {128, 128, "hash-128"}}
	for _, c := range cases {
		e := hash.New(c.in)
		if e.Dims() != c.dims || e.Model() != c.wantModel {
			t.Errorf("New(%d): Dims %d Model %q, want %d %q", c.in, e.Dims(), e.Model(), c.dims, c.wantModel)
		}
	}
}

func embedOne(t *testing.T, e *hash.Embedder, text string) memoryd.Embedding {
	t.Helper()
	got, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatalf("Embed(%q): %v", text, err)
	}
	return got[0]
}

// Texts that share words must be closer than unrelated texts: that is what
// makes the hash embedder usable for search in tests.
func TestSharedWordsScoreHigher(t *testing.T) {
	e := hash.New(0)
	cases := []struct{ query, related, unrelated string }{
		{"dark mode preference", "The user prefers dark mode in every editor", "Meeting moved to Thursday afternoon"},
		{"Thursday meeting", "Meeting moved to Thursday afternoon", "The user prefers dark mode in every editor"},
		{"café in Zürich", "We met at a café near Zürich station", "Rust compiler error messages"},
		{"東京 タワー", "東京 タワー に 行った", "New York pizza"},
	}
	for _, c := range cases {
		q := embedOne(t, e, c.query).Vector
		rel := embedtest.Cosine(q, embedOne(t, e, c.related).Vector)
		unrel := embedtest.Cosine(q, embedOne(t, e, c.unrelated).Vector)
		if rel <= unrel {
			t.Errorf("%q: related %.3f <= unrelated %.3f", c.query, rel, unrel)
		}
		if rel < 0.2 {
			t.Errorf("%q: related cosine %.3f, want >= 0.2", c.query, rel)
		}
	}
}

// Case and punctuation are not features: these must embed identically.
func TestNormalisesCaseAndPunctuation(t *testing.T) {
	e := hash.New(0)
	a := embedOne(t, e, "Hello, WORLD! Straße")
	b := embedOne(t, e, "hello world ... straße")
	if d := embedtest.MaxDiff(a.Vector, b.Vector); d > 1e-7 {
		t.Errorf("vectors differ by %g", d)
	}
}

// Word order changes bigrams, so it must change the vector, but only a little.
func TestBigramsCarryOrder(t *testing.T) {
	e := hash.New(0)
	a := embedOne(t, e, "dog bites man").Vector
	b := embedOne(t, e, "man bites dog").Vector
	if c := embedtest.Cosine(a, b); c >= 0.999 || c < 0.5 {
		t.Errorf("cosine of reordered texts = %.4f, want in [0.5, 0.999)", c)
	}
}

func TestTokens(t *testing.T) {
	e := hash.New(0)
	cases := map[string]int{
		"one":                      1,
		"one two three":            3,
		"  spaced\tout\nwords  ":   3,
		"don't stop-believing 42x": 5, // don, t, stop, believing, 42x
		"naïve café 東京":            3,
	}
	for text, want := range cases {
		if got := embedOne(t, e, text).Tokens; got != want {
			t.Errorf("Tokens(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestNoWordsIsInvalid(t *testing.T) {
	e := hash.New(0)
	for _, text := range []string{"", "   ", "?!... ---", "\n\t"} {
		_, err := e.Embed(context.Background(), []string{"fine", text})
		var me *memoryd.Error
		if !errors.As(err, &me) || me.Code != memoryd.EINVALID {
			t.Errorf("Embed(%q) error = %v, want *memoryd.Error %s", text, err, memoryd.EINVALID)
			continue
		}
		if me.Details["index"] != 1 {
			t.Errorf("Embed(%q) details = %v, want index 1", text, me.Details)
		}
	}
}

func TestHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := hash.New(0).Embed(ctx, []string{"text"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func BenchmarkEmbed(b *testing.B) {
	e := hash.New(0)
	ctx := context.Background()
	short := "User prefers dark mode and concise answers"
	long := strings.Repeat("Memory services store facts for AI agents so they can recall them later. ", 14) // ~1 KB
	for _, bc := range []struct {
		name  string
		texts []string
	}{
		{"short", []string{short}},
		{"1KB", []string{long}},
		{"batch32x1KB", repeat(long, 32)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for _, t := range bc.texts {
				n += len(t)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Embed(ctx, bc.texts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

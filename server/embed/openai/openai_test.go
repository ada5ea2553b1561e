package openai_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/embedtest"
	"github.com/memoryd/memoryd/server/embed/hash"
	"github.com/memoryd/memoryd/server/embed/openai"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newEmbedder builds a client of the fake API with fast retries.
func newEmbedder(t *testing.T, base string, mod func(*openai.Config)) *openai.Embedder {
	t.Helper()
	cfg := openai.Config{BaseURL: base, Model: "text-embedding-test", RetryBase: time.Millisecond,
		MaxRetryWait: 5 * time.Millisecond, Logger: quiet}
	if mod != nil {
		mod(&cfg)
	}
	e, err := openai.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// hashUnit is what the fake server's vector for text must normalise to.
func hashUnit(t *testing.T, dims int, text string) []float32 {
	t.Helper()
	got, err := hash.New(dims).Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatal(err)
	}
	return got[0].Vector
}

func TestContract(t *testing.T) {
	_, base := newFakeAPI(t, &fakeAPI{Key: "sk-test"})
	embedtest.Run(t, newEmbedder(t, base, func(c *openai.Config) { c.APIKey = "sk-test"; c.Dims = 512 }))
}

func TestContractSmallBatches(t *testing.T) {
	_, base := newFakeAPI(t, &fakeAPI{MaxInputs: 2})
	embedtest.Run(t, newEmbedder(t, base, func(c *openai.Config) { c.MaxBatch = 2; c.Dims = 512 }))
}

// Inputs beyond MaxBatch are split into several requests, and the results
// come back in input order with each text's own vector.
func TestBatchSplitAndOrder(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{MaxInputs: 4})
	e := newEmbedder(t, base, func(c *openai.Config) { c.MaxBatch = 4 })
	texts := make([]string, 10)
	for i := range texts {
		texts[i] = fmt.Sprintf("memory number %d about topic %c", i, 'a'+i)
	}
	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range f.seen() {
		sizes = append(sizes, len(r.Inputs))
	}
	if fmt.Sprint(sizes) != "[4 4 2]" {
		t.Errorf("request sizes = %v, want [4 4 2]", sizes)
	}
	for i, text := range texts {
		if d := embedtest.MaxDiff(got[i].Vector, hashUnit(t, 512, text)); d > 1e-6 {
			t.Errorf("text %d: vector differs from its own by %g (wrong order?)", i, d)
		}
	}
}

// Without MaxBatch set, the upstream's own input limit must not be hit for
// ordinary batches (DefaultMaxBatch is below OpenAI's 2048).
func TestDefaultBatchFitsOpenAILimit(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{})
	e := newEmbedder(t, base, nil)
	texts := make([]string, openai.DefaultMaxBatch+1)
	for i := range texts {
		texts[i] = fmt.Sprintf("text %d", i)
	}
	if _, err := e.Embed(context.Background(), texts); err != nil {
		t.Fatal(err)
	}
	if n := len(f.seen()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestRetriesThenSucceeds(t *testing.T) {
	for _, status := range []int{429, 500, 502, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f, base := newFakeAPI(t, &fakeAPI{})
			f.failNext("", status, status)
			e := newEmbedder(t, base, func(c *openai.Config) { c.MaxRetries = 2 })
			got, err := e.Embed(context.Background(), []string{"retry me"})
			if err != nil {
				t.Fatalf("Embed: %v", err)
			}
			if n := len(f.seen()); n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
			if err := embedtest.CheckVector(got[0].Vector, 512); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{})
	f.failNext("0", 429, 429, 429, 429, 429, 429)
	e := newEmbedder(t, base, func(c *openai.Config) { c.MaxRetries = 3 })
	_, err := e.Embed(context.Background(), []string{"never"})
	var ue *openai.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 429 || ue.Attempts != 4 || !ue.Temporary() {
		t.Fatalf("err = %#v, want UpstreamError 429 after 4 attempts", err)
	}
	if n := len(f.seen()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	if memoryd.ErrorCode(err) != memoryd.EINTERNAL {
		t.Errorf("code %s, want internal", memoryd.ErrorCode(err))
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{MaxInputs: 1})
	e := newEmbedder(t, base, func(c *openai.Config) { c.MaxBatch = 5 })
	_, err := e.Embed(context.Background(), []string{"one", "two"})
	var ue *openai.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 400 || ue.Temporary() {
		t.Fatalf("err = %v, want UpstreamError 400", err)
	}
	if !strings.Contains(err.Error(), "at most 1 items") {
		t.Errorf("error %q lacks the upstream reason (needed in logs)", err)
	}
	if n := len(f.seen()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestAuthHeader(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{Key: "sk-right"})
	if _, err := newEmbedder(t, base, func(c *openai.Config) { c.APIKey = "sk-right" }).
		Embed(context.Background(), []string{"hello"}); err != nil {
		t.Fatalf("right key: %v", err)
	}
	if got := f.seen()[0].Auth; got != "Bearer sk-right" {
		t.Errorf("Authorization = %q", got)
	}
	_, err := newEmbedder(t, base, func(c *openai.Config) { c.APIKey = "sk-wrong-secret" }).
		Embed(context.Background(), []string{"hello"})
	var ue *openai.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 401 {
		t.Fatalf("wrong key: err = %v, want 401", err)
	}
	if len(f.seen()) != 2 {
		t.Errorf("401 was retried: %d requests", len(f.seen()))
	}
	// The fake echoes the rejected key in its body, as some servers do.
	if !strings.Contains(err.Error(), "Incorrect API key") || strings.Contains(err.Error(), "sk-wrong-secret") {
		t.Errorf("error %q: want the upstream reason without the key", err)
	}
	_, err = newEmbedder(t, base, nil).Embed(context.Background(), []string{"hello"})
	if got := f.seen()[2].Auth; got != "" || err == nil {
		t.Errorf("no key: Authorization = %q, err = %v", got, err)
	}
}

// Errors go to logs: they must not carry a password from the base URL,
// neither from a status error nor from a network error (*url.Error would
// print the whole URL).
func TestErrorsCarryNoURLPassword(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{})
	f.failNext("", 503)
	withUser := strings.Replace(base, "http://", "http://user:hunter2@", 1)
	e := newEmbedder(t, withUser, func(c *openai.Config) { c.MaxRetries = -1 })
	_, err := e.Embed(context.Background(), []string{"fails"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("status error %v: want one without the URL password", err)
	}
	l, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	closed := "http://user:hunter2@" + l.Addr().String()
	l.Close()
	_, err = newEmbedder(t, closed, func(c *openai.Config) { c.MaxRetries = -1 }).
		Embed(context.Background(), []string{"refused"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("network error %v: want one without the URL password", err)
	}
}

func TestDimensions(t *testing.T) {
	t.Run("learned from first response", func(t *testing.T) {
		_, base := newFakeAPI(t, &fakeAPI{Dims: 96})
		e := newEmbedder(t, base, nil)
		if e.Dims() != 0 {
			t.Fatalf("Dims before any call = %d", e.Dims())
		}
		if err := e.Probe(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e.Dims() != 96 {
			t.Fatalf("Dims = %d, want 96", e.Dims())
		}
	})
	t.Run("configured mismatch", func(t *testing.T) {
		_, base := newFakeAPI(t, &fakeAPI{Dims: 96})
		_, err := newEmbedder(t, base, func(c *openai.Config) { c.Dims = 64 }).
			Embed(context.Background(), []string{"x"})
		if err == nil || !strings.Contains(err.Error(), "96 dimensions, want 64") {
			t.Fatalf("err = %v, want dimension mismatch", err)
		}
		if memoryd.ErrorCode(err) != memoryd.EINTERNAL {
			t.Errorf("code %s, want internal", memoryd.ErrorCode(err))
		}
	})
	t.Run("learned then changed", func(t *testing.T) {
		_, base := newFakeAPI(t, &fakeAPI{Dims: 96, dimsAfter: 48})
		e := newEmbedder(t, base, nil)
		if _, err := e.Embed(context.Background(), []string{"first"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Embed(context.Background(), []string{"second"}); err == nil {
			t.Fatal("a changed dimension was accepted")
		}
		if e.Dims() != 96 {
			t.Errorf("Dims = %d after mismatch, want 96", e.Dims())
		}
	})
	t.Run("sent only when enabled", func(t *testing.T) {
		f, base := newFakeAPI(t, &fakeAPI{})
		got, err := newEmbedder(t, base, func(c *openai.Config) { c.Dims = 64; c.SendDimensions = true }).
			Embed(context.Background(), []string{"short vectors"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got[0].Vector) != 64 || f.seen()[0].Dimensions == nil || *f.seen()[0].Dimensions != 64 {
			t.Errorf("len %d, dimensions sent %v", len(got[0].Vector), f.seen()[0].Dimensions)
		}
		if _, err := newEmbedder(t, base, func(c *openai.Config) { c.Dims = 512 }).
			Embed(context.Background(), []string{"x"}); err != nil {
			t.Fatal(err)
		}
		if _, sent := f.seen()[1].Raw["dimensions"]; sent {
			t.Error(`"dimensions" sent although SendDimensions is off`)
		}
	})
}

func TestCancelDuringRequest(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{hang: true, arrived: make(chan struct{}, 1)})
	e := newEmbedder(t, base, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-f.arrived; cancel() }()
	_, err := e.Embed(ctx, []string{"slow"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(f.seen()); n != 1 {
		t.Errorf("%d requests after cancel, want 1", n)
	}
}

// A cancel during a long backoff must end the wait, not sit it out.
func TestCancelDuringBackoff(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{arrived: make(chan struct{}, 1)})
	f.failNext("3600", 503)
	e := newEmbedder(t, base, func(c *openai.Config) { c.MaxRetryWait = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-f.arrived; cancel() }()
	_, err := e.Embed(ctx, []string{"x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// Each attempt is bounded by Timeout; a timed-out attempt is retried.
func TestAttemptTimeout(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{hang: true})
	e := newEmbedder(t, base, func(c *openai.Config) { c.Timeout = 20 * time.Millisecond; c.MaxRetries = 1 })
	_, err := e.Embed(context.Background(), []string{"x"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if n := len(f.seen()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

func TestBlankTextIsInvalid(t *testing.T) {
	f, base := newFakeAPI(t, &fakeAPI{})
	_, err := newEmbedder(t, base, nil).Embed(context.Background(), []string{"ok", " \n"})
	var me *memoryd.Error
	if !errors.As(err, &me) || me.Code != memoryd.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	if len(f.seen()) != 0 {
		t.Error("a request was sent for an invalid input")
	}
}

func TestTokens(t *testing.T) {
	texts := []string{"one", "two words", "three words here", "and four more words"}
	_, base := newFakeAPI(t, &fakeAPI{})
	got, err := newEmbedder(t, base, nil).Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for i, g := range got {
		if g.Tokens < 1 {
			t.Errorf("text %d: Tokens %d", i, g.Tokens)
		}
		sum += g.Tokens
	}
	if sum != 10 { // the fake counts words: 1+2+3+4
		t.Errorf("tokens add up to %d, want the reported 10", sum)
	}
	if got[0].Tokens >= got[3].Tokens {
		t.Errorf("short text got %d tokens, long one %d", got[0].Tokens, got[3].Tokens)
	}
	_, base = newFakeAPI(t, &fakeAPI{OmitUsage: true})
	got, err = newEmbedder(t, base, nil).Embed(context.Background(), []string{"12345678"})
	if err != nil || got[0].Tokens != 2 {
		t.Fatalf("without usage: %v, %v; want estimate 2", got, err)
	}
}

func TestNewValidates(t *testing.T) {
	bad := []openai.Config{
		{BaseURL: "http://x", Model: ""},
		{BaseURL: "ftp://x", Model: "m"},
		{BaseURL: "not a url", Model: "m"},
		{BaseURL: "http://x", Model: "m", Dims: -1},
		{BaseURL: "http://x", Model: "m", SendDimensions: true},
	}
	for _, c := range bad {
		if _, err := openai.New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

// All the usual spellings of the base URL reach /v1/embeddings.
func TestBaseURLForms(t *testing.T) {
	_, base := newFakeAPI(t, &fakeAPI{})
	for _, b := range []string{base, base + "/", base + "/v1", base + "/v1/"} {
		if _, err := newEmbedder(t, b, nil).Embed(context.Background(), []string{"x"}); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
}

func TestUpstreamErrorIsPlain(t *testing.T) {
	var err error = &openai.UpstreamError{Status: http.StatusServiceUnavailable}
	var me *memoryd.Error
	if errors.As(err, &me) {
		t.Fatal("upstream errors must not be client-visible *memoryd.Error")
	}
}

// BenchmarkEmbedLoopback measures the client's own cost (JSON encode,
// decode, normalise) plus the fake server's, over loopback: 32 texts of
// ~100 bytes, 512 dims.
func BenchmarkEmbedLoopback(b *testing.B) {
	f := &fakeAPI{Dims: 512, MaxInputs: 2048}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", f.serve)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e, err := openai.New(openai.Config{BaseURL: srv.URL, Model: "m", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	texts := make([]string, 32)
	for i := range texts {
		texts[i] = fmt.Sprintf("memory %d: the user prefers dark mode, short answers and metric units", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
}

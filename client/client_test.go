package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryd/memoryd/client"
	"github.com/memoryd/memoryd/internal/sdkenv"
)

// testLimit only guards against a hung test; nothing asserts on time.
const testLimit = 2 * time.Minute

func start(t *testing.T, cutEvery int) *sdkenv.Env {
	t.Helper()
	e, err := sdkenv.Start(context.Background(), sdkenv.Options{CutEvery: cutEvery})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testLimit)
	t.Cleanup(cancel)
	return ctx
}

func TestCRUD(t *testing.T) {
	e := start(t, 0)
	ctx := ctxOf(t)
	c := client.New(e.BaseURL, e.APIKey)
	res, err := c.Upsert(ctx, client.MemoryInput{
		Text:     "Meeting notes from Q4 planning",
		Metadata: map[string]any{"type": "meeting", "tags": []string{"planning", "q4"}},
	})
	if err != nil || res.Status != "stored" || res.Id == "" {
		t.Fatalf("upsert new: %+v %v", res, err)
	}
	got, err := c.Get(ctx, res.Id)
	if err != nil || got.Text != "Meeting notes from Q4 planning" || got.Metadata["type"] != "meeting" {
		t.Fatalf("get: %+v %v", got, err)
	}
	again, err := c.Upsert(ctx, client.MemoryInput{ID: res.Id, Text: "replaced"})
	if err != nil || again.Status != "updated" {
		t.Fatalf("upsert existing: %+v %v", again, err)
	}
	text := "patched"
	if _, err := c.Update(ctx, res.Id, client.Patch{Text: &text}); err != nil {
		t.Fatal(err)
	}
	if got, err = c.Get(ctx, res.Id); err != nil || got.Text != "patched" {
		t.Fatalf("after update: %+v %v", got, err)
	}
	if err := c.Delete(ctx, res.Id); err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(ctx, res.Id)
	var apiErr *client.Error
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("get after delete: %v", err)
	}
	if err := c.Delete(ctx, res.Id); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := c.Upsert(ctx, client.MemoryInput{}); !errors.Is(err, client.ErrInvalidRequest) {
		t.Fatalf("empty text: %v", err)
	}
	if _, err := client.New(e.BaseURL, "mk_wrong").Get(ctx, "x"); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("bad key: %v", err)
	}
}

func TestListWalksEveryPage(t *testing.T) {
	e := start(t, 0)
	ctx := ctxOf(t)
	c := client.New(e.BaseURL, e.APIKey)
	const n = 23
	for i := range n {
		typ := "odd"
		if i%2 == 0 {
			typ = "even"
		}
		if _, err := c.Upsert(ctx, client.MemoryInput{ID: fmt.Sprintf("m%02d", i), Text: "note", Metadata: map[string]any{"type": typ}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for m, err := range c.List(ctx, client.ListOptions{PageSize: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[m.Id] {
			t.Fatalf("%s listed twice", m.Id)
		}
		seen[m.Id] = true
	}
	if len(seen) != n {
		t.Fatalf("listed %d memories over the pages, want %d", len(seen), n)
	}
	even := 0
	for _, err := range c.List(ctx, client.ListOptions{PageSize: 4, Type: "even"}) {
		if err != nil {
			t.Fatal(err)
		}
		even++
	}
	if even != 12 {
		t.Fatalf("listed %d even memories, want 12", even)
	}
	// Breaking out of the loop stops it.
	k := 0
	for range c.List(ctx, client.ListOptions{PageSize: 5}) {
		if k++; k == 7 {
			break
		}
	}
}

func TestSearch(t *testing.T) {
	e := start(t, 0)
	ctx := ctxOf(t)
	c := client.New(e.BaseURL, e.APIKey)
	for id, text := range map[string]string{"a": "the cat sat on the mat", "b": "quarterly revenue planning", "c": "dogs chase cats"} {
		if _, err := c.Upsert(ctx, client.MemoryInput{ID: id, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Search(ctx, client.SearchOptions{Query: "revenue planning", Limit: 2, Mode: client.Keyword})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || res.Results[0].Memory.Id != "b" {
		t.Fatalf("search: %+v", res.Results)
	}
	if _, err := c.Search(ctx, client.SearchOptions{Query: "x", Mode: "nope"}); !errors.Is(err, client.ErrInvalidRequest) {
		t.Fatalf("bad mode: %v", err)
	}
}

// statusCounter counts the answers of each status.
type statusCounter struct {
	next   http.RoundTripper
	status [600]atomic.Int32
}

func (s *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil {
		s.status[resp.StatusCode].Add(1)
	}
	return resp, err
}

// The limited key is refused with 429 on its first request; the client
// waits as asked and sends it again.
func TestRateLimitedRequestIsRetried(t *testing.T) {
	e := start(t, 0)
	ctx := ctxOf(t)
	counter := &statusCounter{next: http.DefaultTransport}
	c := client.New(e.BaseURL, e.LimitedAPIKey, client.WithHTTPClient(&http.Client{Transport: counter}))
	res, err := c.Upsert(ctx, client.MemoryInput{ID: "r1", Text: "after a 429"})
	if err != nil || res.Status != "stored" {
		t.Fatalf("upsert: %+v %v", res, err)
	}
	if n := counter.status[429].Load(); n < 1 {
		t.Fatalf("no 429 was met (%d), the retry was not exercised", n)
	}
	// Without retries the 429 is the caller's, typed, with its wait (a
	// fresh environment refuses the limited key's first request).
	e2 := start(t, 0)
	_, err = client.New(e2.BaseURL, e2.LimitedAPIKey, client.WithRetries(0, 0)).Get(ctx, "r1")
	var apiErr *client.Error
	if !errors.Is(err, client.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter <= 0 {
		t.Fatalf("without retries: %v", err)
	}
}

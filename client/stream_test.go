package client_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/memoryd/memoryd/client"
	ev "github.com/memoryd/memoryd/gen/events"
)

// collect follows the stream through the cut proxy until want
// memory.created events arrived, and returns their memory ids in order and
// how many connections it took.
func collect(t *testing.T, ctx context.Context, c *client.Client, o client.StreamOptions, want int, started chan<- string) ([]string, int) {
	t.Helper()
	var ids []string
	conns := 0
	for e, err := range c.Stream(ctx, o) {
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		switch p := e.Payload.(type) {
		case *ev.Welcome:
			if conns++; conns == 1 && started != nil {
				started <- e.ID
			}
		case *ev.Restart:
			t.Fatalf("restart (%s): the client resumed from an unusable position", p.Reason)
		case *ev.MemoryCreated:
			ids = append(ids, p.Id)
		}
		if len(ids) == want {
			break
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("gave up after %d of %d events: %v", len(ids), want, ctx.Err())
	}
	return ids, conns
}

// checkExact fails unless got is exactly m000, m001, ... in order.
func checkExact(t *testing.T, got []string, n int) {
	t.Helper()
	seen := map[string]bool{}
	dups := 0
	for _, id := range got {
		if seen[id] {
			dups++
		}
		seen[id] = true
	}
	for i := range n {
		if i >= len(got) || got[i] != fmt.Sprintf("m%03d", i) {
			t.Fatalf("event %d is %v, want m%03d (received %d, duplicates %d)", i, got[min(i, len(got)-1)], i, len(got), dups)
		}
	}
	if len(got) != n || dups != 0 {
		t.Fatalf("received %d, written %d, duplicates %d", len(got), n, dups)
	}
}

// A stream cut by the server every 7 events, mid-burst, is resumed by the
// client with every event written, in order, none twice: live (the writes
// start once the stream is open) and replayed (a later stream resuming
// from the first one's welcome gets the whole log as one cut burst).
func TestStreamResumesAcrossCuts(t *testing.T) {
	e := start(t, 7)
	ctx := ctxOf(t)
	c := client.New(e.CutBaseURL, e.APIKey)
	writer := client.New(e.BaseURL, e.APIKey)
	const n = 200
	started := make(chan string, 1)
	werr := make(chan error, 1)
	go func() {
		select {
		case <-started:
		case <-ctx.Done():
			werr <- ctx.Err()
			return
		}
		for i := range n {
			if _, err := writer.Upsert(ctx, client.MemoryInput{ID: fmt.Sprintf("m%03d", i), Text: "note"}); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	first := make(chan string, 1)
	live, conns := collect(t, ctx, c, client.StreamOptions{Events: []string{"memory.created"}}, n, tee(started, first))
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	checkExact(t, live, n)
	if conns < 2 {
		t.Fatalf("live: %d connection(s): the proxy never cut", conns)
	}
	t.Logf("live: written %d, received %d in order, 0 duplicates, over %d connections", n, len(live), conns)

	replay, conns := collect(t, ctx, c, client.StreamOptions{LastEventID: <-first}, n, nil)
	checkExact(t, replay, n)
	if conns < n/7 {
		t.Fatalf("replay: %d connections, want at least %d (one per 7 events)", conns, n/7)
	}
	t.Logf("replay: written %d, received %d in order, 0 duplicates, over %d connections", n, len(replay), conns)
}

// tee sends the first value it gets to both channels.
func tee(a, b chan<- string) chan<- string {
	in := make(chan string, 1)
	go func() { v := <-in; a <- v; b <- v }()
	return in
}

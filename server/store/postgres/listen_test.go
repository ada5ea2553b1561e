package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/memoryd/memoryd/internal/pgtest"
	memoryd "github.com/memoryd/memoryd/server"
)

// Another node's events reach this node's window through NOTIFY exactly
// as the log holds them; one too large for a NOTIFY breaks the window,
// which restarts after it; and every tailer of a node shares one LISTEN
// connection.
func TestNotifiedEventsAreTheLogs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := pgtest.DSN(t)
	a, b := openT(t, dsn), openT(t, dsn)
	for range 3 { // the stream hub, the vector index, the webhook fan-out
		if _, err := b.Listen(ctx); err != nil {
			t.Fatal(err)
		}
	}
	appendT := func(payload string) int64 {
		t.Helper()
		ev := &memoryd.Event{Workspace: "w-1.x", Type: memoryd.EventSearchPerformed, Payload: []byte(payload)}
		if err := a.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		return ev.Seq
	}
	// NOTIFY listeners attach asynchronously: append until one arrives.
	var first int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		first = appendT(`{"n":0}`)
		if _, ok := b.RecentEvents(first-1, 10); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification reached the other node within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	appendT(`{"n":1}`)
	appendT("{\"n\":2,\n\"text\":\"a line\\nbreak\"}") // the payload may hold newlines
	before := appendT(`{"n":2.5}`)
	waitRecent(t, b, before)
	large := appendT(`{"text":"` + strings.Repeat("x", notifyPayloadMax) + `"}`)
	// Its notification names it without it: the window must stop
	// answering for the position before it (not "nothing new").
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, ok := b.RecentEvents(before, 10); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("after the large event's notification the window still answers for the position before it")
		}
		time.Sleep(20 * time.Millisecond)
	}
	batch := make([]*memoryd.Event, 5) // one statement's events arrive in order
	for i := range batch {
		batch[i] = &memoryd.Event{Workspace: fmt.Sprint("w-", i%2), Type: memoryd.EventSearchPerformed, Payload: fmt.Appendf(nil, `{"n":%d}`, 3+i)}
	}
	if err := a.AppendEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	last := batch[len(batch)-1].Seq
	waitRecent(t, b, last)

	if _, ok := b.RecentEvents(first-1, 100); ok {
		t.Error("the window holds the events before the large one: it cannot have received that one")
	}
	want, err := a.ReadEvents(ctx, "", large, 100)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := b.RecentEvents(large, 100)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("events after the large one: ok %v\n got %s\nwant %s", ok, describe(got), describe(want))
	}
	if got, ok := b.RecentEvents(last, 100); !ok || len(got) != 0 {
		t.Errorf("at the newest event: %d events, ok %v; want none, ok", len(got), ok)
	}

	// Without the large one in between, the window spans the newlines.
	start := appendT(`{"n":8}`)
	appendT("{\"text\":\"two\nlines\"}")
	end := appendT(`{"n":9}`)
	waitRecent(t, b, end)
	want, _ = a.ReadEvents(ctx, "", start-1, 100)
	if got, ok := b.RecentEvents(start-1, 100); !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("events with a newline: ok %v\n got %s\nwant %s", ok, describe(got), describe(want))
	}

	var listeners int
	err = a.R.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&listeners)
	if err != nil {
		t.Fatal(err)
	}
	if listeners != 1 {
		t.Errorf("%d LISTEN connections for one node's three tailers, want 1", listeners)
	}
}

// waitRecent waits until s's window holds seq.
func waitRecent(t *testing.T, s *Store, seq int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if evs, ok := s.RecentEvents(seq-1, 1); ok && len(evs) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %d did not reach the other node's window within 30 s", seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describe(evs []*memoryd.Event) string {
	var b strings.Builder
	for _, e := range evs {
		p := string(e.Payload)
		if len(p) > 40 {
			p = p[:40] + "..."
		}
		fmt.Fprintf(&b, "[%d %s %s %q %s] ", e.Seq, e.Workspace, e.Type, p, e.CreatedAt.Format(time.RFC3339Nano))
	}
	return b.String()
}

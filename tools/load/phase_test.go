package main

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// The pacer hands out slots exactly one interval apart and never lets a
// request start before its slot.
func TestPacerSlots(t *testing.T) {
	next := pacer(context.Background(), 1000)
	var first time.Time
	for i := range 50 {
		at, ok := next()
		if !ok {
			t.Fatalf("slot %d refused", i)
		}
		if now := time.Now(); now.Before(at) {
			t.Fatalf("slot %d returned %s before its time", i, at.Sub(now))
		}
		if i == 0 {
			first = at
		} else if got, want := at.Sub(first), time.Duration(i)*time.Millisecond; got != want {
			t.Fatalf("slot %d is %s after the first, want %s", i, got, want)
		}
	}
}

// A paced phase starts no more requests than its schedule has slots.
func TestPacedPhaseKeepsToTheRate(t *testing.T) {
	o := options{clients: 4, rate: 200}
	r := phase(context.Background(), o, "paced", 500*time.Millisecond, func(context.Context, int, *rand.Rand) error { return nil })
	// 100 slots in 500 ms (a busy machine may start fewer, never more).
	if n := len(r.lat); n > 101 || n == 0 {
		t.Fatalf("%d requests at 200/s for 500 ms, want 1 to 101", n)
	}
}

// Latency runs from each request's slot, not from when a worker got to
// send it: the wait for a server that fell behind counts.
func TestLatencyCountsFromTheSlot(t *testing.T) {
	slot := time.Now().Add(-time.Second)
	calls := 0
	more := func() (time.Time, bool) { calls++; return slot, calls <= 3 }
	r := runWorkers(context.Background(), 1, more, func(context.Context, int, *rand.Rand) error { return nil })
	if len(r.lat) != 3 {
		t.Fatalf("%d requests, want 3", len(r.lat))
	}
	if got := pct(r.lat, 0.1); got < time.Second {
		t.Fatalf("min latency %v, want at least the 1 s since the slot", got)
	}
}

// Each request's own time counts too.
func TestLatencyCountsTheRequest(t *testing.T) {
	slow := func(context.Context, int, *rand.Rand) error { time.Sleep(5 * time.Millisecond); return nil }
	r := phaseN(context.Background(), 1, 3, slow)
	if len(r.lat) != 3 {
		t.Fatalf("%d requests, want 3", len(r.lat))
	}
	if got := pct(r.lat, 0.1); got < 5*time.Millisecond {
		t.Fatalf("min latency %v, want at least the 5 ms a request takes", got)
	}
}

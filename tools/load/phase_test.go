package main

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// A paced phase starts no more requests than its schedule has slots, and
// workers that keep up are not held beyond it.
func TestPacedPhaseKeepsToTheRate(t *testing.T) {
	o := options{clients: 4, rate: 200}
	r := phase(context.Background(), o, "paced", 500*time.Millisecond, func(context.Context, int, *rand.Rand) error { return nil })
	// 100 slots in 500 ms; the last ones may be cut off by the phase's end.
	if n := len(r.lat); n > 101 || n < 80 {
		t.Fatalf("%d requests at 200/s for 500 ms, want about 100", n)
	}
}

// When the server falls behind the schedule, the wait counts: latency runs
// from each request's slot, so it grows past the time a request takes.
func TestPacedLatencyCountsTheBacklog(t *testing.T) {
	o := options{clients: 1, rate: 1000}
	slow := func(context.Context, int, *rand.Rand) error { time.Sleep(5 * time.Millisecond); return nil }
	r := phase(context.Background(), o, "behind", 300*time.Millisecond, slow)
	if len(r.lat) == 0 {
		t.Fatal("no request completed")
	}
	// One worker at 5 ms a request falls 4 ms behind with each: by the
	// end, requests wait well over 100 ms for their turn.
	if got := pct(r.lat, 100); got < 100*time.Millisecond {
		t.Fatalf("max latency %v, want the backlog counted (over 100 ms)", got)
	}
	// Unpaced, the same requests take about 5 ms each.
	o.rate = 0
	r = phase(context.Background(), o, "unpaced", 100*time.Millisecond, slow)
	if got := pct(r.lat, 50); got > 50*time.Millisecond {
		t.Fatalf("unpaced p50 %v, want about 5 ms", got)
	}
}

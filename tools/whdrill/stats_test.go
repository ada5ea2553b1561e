package main

import (
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	s := sortDurations(lat)
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := pct(s, c.p); got != c.want {
			t.Errorf("pct(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if pct(nil, 50) != 0 {
		t.Error("pct of nothing should be 0")
	}
	if got := pct([]time.Duration{7}, 99); got != 7 {
		t.Errorf("pct of one = %v", got)
	}
}

func TestCount(t *testing.T) {
	acked := map[string]bool{"m1": true, "m2": true, "m3": true}
	ds := []delivery{
		{WebhookID: "a", Type: "memory.created", MemoryID: "m1"},
		{WebhookID: "a", Type: "memory.created", MemoryID: "m1"}, // retried after a lost answer
		{WebhookID: "b", Type: "memory.created", MemoryID: "m2"},
		{WebhookID: "c", Type: "memory.created", MemoryID: "m9"},      // committed, answer lost
		{WebhookID: "d", Type: "embedding.generated", MemoryID: "m3"}, // not counted
	}
	got := count(acked, ds)
	want := tally{Acked: 3, Deliveries: 4, Distinct: 2, Missing: 1, DupIDs: 1, DupMems: 1, Unacked: 1}
	if got != want {
		t.Fatalf("count = %+v, want %+v", got, want)
	}
	if c := count(map[string]bool{}, nil); c != (tally{}) {
		t.Fatalf("empty count = %+v", c)
	}
}

package events

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := newPacer(60, 2, t0) // 1 event/s, burst 2
	for i := 0; i < 2; i++ {
		if d := p.reserve(t0); d != 0 {
			t.Fatalf("burst event %d waits %v", i, d)
		}
	}
	if d := p.reserve(t0); d != time.Second {
		t.Fatalf("third event waits %v, want 1s", d)
	}
	if d := p.reserve(t0); d != 2*time.Second {
		t.Fatalf("fourth event waits %v, want 2s (reservations queue up)", d)
	}
	// After 10 s idle the bucket is full again, never beyond the burst.
	t1 := t0.Add(12 * time.Second)
	for i := 0; i < 2; i++ {
		if d := p.reserve(t1); d != 0 {
			t.Fatalf("refilled event %d waits %v", i, d)
		}
	}
	if d := p.reserve(t1); d <= 0 {
		t.Fatal("bucket exceeded its burst")
	}
}

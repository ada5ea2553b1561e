package indexer

import (
	"testing"
	"time"
)

// The rewrite after an outage starts where the consumer was RewriteSpan
// before the failure, and the marks it keeps for that stay bounded.
func TestAppliedAtLooksBackRewriteSpan(t *testing.T) {
	c := &Consumer{cfg: Config{RewriteSpan: time.Minute}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.appliedAt(t0); got != 0 {
		t.Fatalf("appliedAt without marks = %d, want the position 0", got)
	}
	// Position 10*s applied at second s, every half second for 5 minutes.
	for i := range 600 {
		at := t0.Add(time.Duration(i) * 500 * time.Millisecond)
		c.mark(at, int64(i)*5)
	}
	now := t0.Add(299500 * time.Millisecond)
	if n := len(c.marks); n < 60 || n > 62 {
		t.Fatalf("%d marks kept for a 60 s span at one per second, want 60-62", n)
	}
	from := c.appliedAt(now.Add(-time.Minute))
	// At 239.5 s position 2395 was applied; the marks are one a second,
	// so the rewrite may start up to a second earlier, never later.
	if from > 2395 || from < 2385 {
		t.Fatalf("rewrite from %d for the minute before 299.5 s, want 2385..2395", from)
	}
	// A failure soon after start rewrites from the oldest position known.
	c = &Consumer{cfg: Config{RewriteSpan: time.Minute}}
	c.mark(t0, 7)
	c.mark(t0.Add(2*time.Second), 9)
	if got := c.appliedAt(t0.Add(-58 * time.Second)); got != 7 {
		t.Fatalf("appliedAt before the first mark = %d, want 7 (the oldest known)", got)
	}
}

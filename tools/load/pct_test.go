package main

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := pct(lat, c.p); got != c.want {
			t.Errorf("pct(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if pct(nil, 50) != 0 {
		t.Error("pct of nothing should be 0")
	}
}

func TestSentence(t *testing.T) {
	s := sentence(rand.New(rand.NewPCG(1, 2)), 20)
	if n := len(strings.Fields(s)); n != 20 {
		t.Fatalf("%d words in %q", n, s)
	}
}

package memindex

import (
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// A search's breadth is the caller's: ExactEf ranks exactly even where the
// graph is in use, a wider ef finds more of the true neighbours, and the
// index-wide setting (WithHNSW) applies when a search names none.
func TestSearchEf(t *testing.T) {
	vecs := clustered(5, 3000, 64, 300, 1.6) // overlapping: a narrow search misses
	queries := clustered(6, 40, 64, 300, 1.6)
	x := New(WithExactBelow(0), WithHNSW(4, 8, 10))
	load(t, x, "w", vecs)
	if graphOf(x, "w") == nil {
		t.Fatal("no graph")
	}
	recall := func(ef int) float64 {
		var r float64
		for _, q := range queries {
			hits, err := x.SearchEf("w", q, 10, ef, nil)
			if err != nil {
				t.Fatal(err)
			}
			r += recallAt(hits, exactTopK(vecs, q, 10))
		}
		return r / float64(len(queries))
	}
	narrow, wide := recall(0), recall(300) // both graph searches (3000 > smallGraph*300)
	if narrow > 0.95 || wide <= narrow {
		t.Fatalf("recall at the default ef=10 %.3f, at ef=300 %.3f: want the wider search to find more", narrow, wide)
	}
	for _, q := range queries {
		hits, err := x.SearchEf("w", q, 10, ExactEf, nil)
		if err != nil {
			t.Fatal(err)
		}
		sameRanking(t, hits, exactTopK(vecs, q, 10))
	}
	if _, err := x.SearchEf("w", queries[0], 10, -2, nil); memoryd.ErrorCode(err) != memoryd.EINVALID {
		t.Fatalf("ef -2: %v, want EINVALID", err)
	}

	// ExactEf as the index's setting makes every search exact.
	ex := New(WithExactBelow(0), WithHNSW(4, 8, ExactEf))
	load(t, ex, "w", vecs)
	for _, q := range queries {
		sameRanking(t, mustSearch(t, ex, "w", q, 10, nil), exactTopK(vecs, q, 10))
	}
}

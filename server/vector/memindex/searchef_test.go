package memindex

import (
	"slices"
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

// At the index's setting an unfiltered search explores fewer candidates
// in a smaller graph (sizedEf); a filtered search and an explicit
// breadth are taken as given.
func TestSettingScalesWithWorkspaceSize(t *testing.T) {
	vecs := clustered(5, 3000, 64, 300, 1.6)
	queries := clustered(6, 40, 64, 300, 1.6)
	const setting = 300 // a graph search at 3,000 vectors (over smallGraph*setting)
	x := New(WithExactBelow(0), WithHNSW(4, 8, setting))
	load(t, x, "w", vecs)
	drained(t, x.space("w", false)) // an unlinked tail is scanned exactly at any breadth
	sized := sizedEf(setting, 10, int64(len(vecs)))
	if sized != minSizedEf {
		t.Fatalf("sizedEf(%d, 10, %d) = %d, want %d", setting, len(vecs), sized, minSizedEf)
	}
	all := func(string) bool { return true }
	differs := 0
	for _, q := range queries {
		atSetting := mustSearch(t, x, "w", q, 10, nil)
		sameRanking(t, atSetting, searchEf(t, x, q, sized, nil))
		full := searchEf(t, x, q, setting, nil)
		if !equalIDs(atSetting, full) {
			differs++
		}
		sameRanking(t, mustSearch(t, x, "w", q, 10, all), searchEf(t, x, q, setting, all))
	}
	if differs == 0 {
		t.Fatalf("every search at the setting ranked as one of breadth %d: want the breadth scaled to %d", setting, sized)
	}
}

func TestSizedEf(t *testing.T) {
	for _, c := range []struct {
		ef, k int
		live  int64
		want  int
	}{
		{768, 10, 200_000, 768}, {768, 10, 100_000, 768}, {768, 10, 50_000, 384},
		{768, 10, 20_000, 153}, {768, 10, 6_000, minSizedEf}, {32, 10, 50_000, 32},
		{768, 50, 6_000, rerankOf(50)}, {768, 50, 50_000, 384}, {100, 50, 6_000, 100},
	} {
		if got := sizedEf(c.ef, c.k, c.live); got != c.want {
			t.Errorf("sizedEf(%d, %d, %d) = %d, want %d", c.ef, c.k, c.live, got, c.want)
		}
	}
}

func searchEf(t *testing.T, x *Index, q []float32, ef int, allow func(string) bool) []memoryd.Scored {
	t.Helper()
	hits, err := x.SearchEf("w", q, 10, ef, allow)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func equalIDs(a, b []memoryd.Scored) bool {
	return slices.EqualFunc(a, b, func(x, y memoryd.Scored) bool { return x.ID == y.ID })
}

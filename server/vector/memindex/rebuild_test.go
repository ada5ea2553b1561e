package memindex

import (
	"sync"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// TestBackgroundRebuild crosses the threshold (a promotion, no rebuild),
// then sheds tombstones, while writers and readers keep going, so writes
// land in the journal of running rebuilds; after each phase the index
// must hold exactly what was written.
func TestBackgroundRebuild(t *testing.T) {
	x := New(WithExactBelow(inlineRebuildMax+100), WithHNSW(8, 40, 32))
	vecs := clustered(40, 3000, 16, 40, 0.6)
	repl := clustered(41, 3000, 16, 40, 0.6)
	want := make([][]float32, len(vecs)) // nil: deleted
	s := x.space("w", true)

	// Phase 1: two writers fill the workspace past the threshold.
	concurrently(t, x, repl[:200], 2, func(w int) error {
		for i := w; i < len(vecs); i += 2 {
			if err := x.Upsert("w", itoa(i), vecs[i]); err != nil {
				return err
			}
			want[i] = vecs[i]
		}
		return nil
	})
	checkContents(t, x, want)
	if s.graph == nil || s.stats.rebuilds.Load() != 0 || s.linked.Load() != s.n.Load() {
		t.Fatalf("phase 1: graph %v, %d rebuilds, %d of %d slots linked (want a graph, 0, all)",
			s.graph != nil, s.stats.rebuilds.Load(), s.linked.Load(), s.n.Load())
	}

	// Phase 2: delete a third and rewrite a third, piling up tombstones.
	// Upserts take microseconds, so the writers could be done before a
	// rebuild has even taken its snapshot: they go on rewriting until
	// some of their writes had to be replayed (bounded, in case of a bug).
	concurrently(t, x, repl[200:400], 2, func(w int) error {
		for pass := 0; pass == 0 || (s.stats.replayed.Load() == 0 && pass < 500); pass++ {
			for i := w; i < len(vecs); i += 2 {
				var err error
				switch {
				case i%3 == 0 && pass == 0:
					err = x.Delete("w", itoa(i))
					want[i] = nil
				case i%3 == 1:
					v := [][]float32{repl[i], vecs[i]}[pass%2]
					err = x.Upsert("w", itoa(i), v)
					want[i] = v
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	checkContents(t, x, want)
	if s.graph == nil || s.stats.rebuilds.Load() < 1 || s.stats.replayed.Load() == 0 || s.rebuilding || len(s.journal) != 0 {
		t.Fatalf("phase 2: graph %v, %d rebuilds, %d writes replayed, rebuilding %v, journal %d",
			s.graph != nil, s.stats.rebuilds.Load(), s.stats.replayed.Load(), s.rebuilding, len(s.journal))
	}
	if n, live := int(s.n.Load()), x.Len("w"); n > 2*live {
		t.Fatalf("%d slots for %d vectors: tombstones not shed", n, live)
	}
}

// concurrently runs writers (each given its number) alongside a reader
// searching queries, then waits for background rebuilds.
func concurrently(t *testing.T, x *Index, queries [][]float32, writers int, write func(w int) error) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			if err := write(w); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		for _, q := range queries {
			if _, err := x.Search("w", q, 10, nil); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	x.wait()
}

// checkContents asserts x's workspace "w" holds exactly want (by index).
func checkContents(t *testing.T, x *Index, want [][]float32) {
	t.Helper()
	live, missed := 0, 0
	probe := make([]float32, len(want[len(want)-1]))
	probe[0] = 1
	for i, v := range want {
		if v == nil {
			hits, err := x.SearchIDs("w", probe, 1, []string{itoa(i)})
			if err != nil || len(hits) != 0 {
				t.Fatalf("deleted %s: %v, %v", itoa(i), hits, err)
			}
			continue
		}
		live++
		if got, _ := x.SearchIDs("w", v, 1, []string{itoa(i)}); len(got) != 1 || got[0].Score < 0.9999 {
			t.Fatalf("%s holds another vector (or none): %v", itoa(i), got)
		}
		if hits := mustSearch(t, x, "w", v, 1, nil); hits[0].ID != itoa(i) && hits[0].Score < 0.9999 {
			missed++
		}
	}
	// The graph is approximate: allow a few vectors its search misses.
	if missed > live/200 {
		t.Fatalf("search missed %d of %d vectors queried with themselves", missed, live)
	}
	if n := x.Len("w"); n != live {
		t.Fatalf("Len = %d, want %d", n, live)
	}
}

// TestReplayIsOrdered: a journal replay ends in the state the writes
// describe, whatever the snapshot already held.
func TestReplayIsOrdered(t *testing.T) {
	x := New(WithExactBelow(0))
	a, b := []float32{1, 0}, []float32{0, 1}
	if err := x.Upsert("w", "id", a); err != nil {
		t.Fatal(err)
	}
	s := x.space("w", false)
	s.mu.Lock()
	ns := s.snapshot()
	s.mu.Unlock()
	ns.index()
	ns.replay([]op{{"id", a}, {"id", nil}, {"gone", nil}, {"id", b}, {"x", a}, {"x", nil}})
	s.mu.Lock()
	s.adopt(ns)
	s.mu.Unlock()
	hits, err := x.SearchIDs("w", b, 5, []string{"id", "x", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0] != (memoryd.Scored{ID: "id", Score: 1}) || x.Len("w") != 1 {
		t.Fatalf("after replay: %v, Len %d", hits, x.Len("w"))
	}
}

// TestReplayParallel: a long journal (replayed by several workers) with
// repeated ids ends in the state of the writes in order, including a
// dimension change that needs the workspace emptied first.
func TestReplayParallel(t *testing.T) {
	for _, redim := range []bool{false, true} {
		x := New(WithExactBelow(50))
		base := clustered(50, 100, 8, 5, 0.6)
		load(t, x, "w", base)
		want := map[string][]float32{}
		for i, v := range base {
			want[itoa(i)] = v
		}
		var ops []op
		if redim {
			for i := range base {
				ops = append(ops, op{itoa(i), nil})
			}
			want = map[string][]float32{}
		}
		dim := 8
		if redim {
			dim = 5
		}
		more := clustered(51, 1000, dim, 5, 0.6)
		for i, v := range more {
			id := itoa(i % 150)
			if i%7 == 3 {
				ops = append(ops, op{id, nil})
				delete(want, id)
				continue
			}
			ops = append(ops, op{id, unit(v)})
			want[id] = v
		}
		s := x.space("w", false)
		s.mu.Lock()
		ns := s.snapshot()
		ns.index()
		ns.replay(ops)
		s.adopt(ns)
		s.mu.Unlock()
		if x.Len("w") != len(want) {
			t.Fatalf("redim %v: Len %d, want %d", redim, x.Len("w"), len(want))
		}
		for id, v := range want {
			hits, err := x.SearchIDs("w", v, 1, []string{id})
			if err != nil || len(hits) != 1 || hits[0].Score < 0.9999 {
				t.Fatalf("redim %v: %s: %v %v", redim, id, hits, err)
			}
		}
	}
}

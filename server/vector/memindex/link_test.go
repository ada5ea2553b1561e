package memindex

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/vector/vectortest"
)

// resumeLinking lifts linkOff and starts the linkers it held back.
func resumeLinking(x *Index) {
	x.cfg.linkOff.Store(false)
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, s := range x.spaces {
		s.mu.RLock()
		s.meta.Lock()
		s.startLinker()
		s.meta.Unlock()
		s.mu.RUnlock()
	}
}

// tailOf returns workspace ws's unlinked slot count.
func tailOf(x *Index, ws string) int {
	t, _ := x.space(ws, false).tailState()
	return t
}

// TestTailFoundAtOnce: right after 5000 upserts, vectors still unlinked
// are found by their own vector. "paused" holds every new vector in the
// tail (all must be found: the tail is scanned exactly); "running"
// searches while the linker moves the boundary under the searches.
func TestTailFoundAtOnce(t *testing.T) {
	tailN := 5000
	if raceEnabled {
		tailN = 1500 // linking and scanning run ~10x slower under -race
	}
	for _, paused := range []bool{true, false} {
		name := map[bool]string{true: "paused", false: "running"}[paused]
		t.Run(name, func(t *testing.T) {
			x := New(WithExactBelow(500), WithHNSW(0, 0, 128))
			vecs := clustered(70, 1000+tailN, 64, 60, 0.6)
			load(t, x, "w", vecs[:1000])
			x.wait()
			if tailOf(x, "w") != 0 {
				t.Fatal("tail not empty after wait")
			}
			x.cfg.linkOff.Store(paused)
			for i := 1000; i < len(vecs); i++ {
				if err := x.Upsert("w", itoa(i), vecs[i]); err != nil {
					t.Fatal(err)
				}
			}
			if tail := tailOf(x, "w"); paused && tail != tailN {
				t.Fatalf("tail %d, want %d", tail, tailN)
			}
			missed := 0
			for i := 1000; i < len(vecs); i++ {
				hits := mustSearch(t, x, "w", vecs[i], 3, nil)
				if len(hits) != 3 || hits[0].ID != itoa(i) || hits[0].Score < 0.9999 {
					missed++
				}
			}
			// Once linked, a vector is subject to the graph's
			// approximation; the running case allows for that.
			if allowed := map[bool]int{true: 0, false: tailN / 200}[paused]; missed > allowed {
				t.Fatalf("%d of %d new vectors not the top hit for themselves", missed, tailN)
			}
			resumeLinking(x)
			x.wait()
			if tailOf(x, "w") != 0 || unreachable(x.space("w", false)) != 0 {
				t.Fatalf("after linking: tail %d, %d unreachable", tailOf(x, "w"), unreachable(x.space("w", false)))
			}
		})
	}
}

// TestTailDeleteReplace deletes and replaces vectors in the unlinked
// tail and in the graph, checks searches (plain, filtered, by ids) see
// exactly the live vectors, then again once the linker has linked the
// tail, which must skip the dead slots.
func TestTailDeleteReplace(t *testing.T) {
	x := New(WithExactBelow(200), WithHNSW(8, 48, 48))
	vecs := clustered(71, 2000, 32, 40, 0.6)
	repl := clustered(72, 2000, 32, 40, 0.6)
	load(t, x, "w", vecs[:1000])
	x.wait()
	x.cfg.linkOff.Store(true)
	load(t, x, "w", vecs) // ids 0-999 unchanged, 1000-1999 go to the tail
	want := map[string][]float32{}
	for i, v := range vecs {
		want[itoa(i)] = v
	}
	for i := 0; i < len(vecs); i += 5 {
		id := itoa(i)
		switch (i / 5) % 4 {
		case 0: // delete
			if err := x.Delete("w", id); err != nil {
				t.Fatal(err)
			}
			delete(want, id)
		case 1: // replace
			if err := x.Upsert("w", id, repl[i]); err != nil {
				t.Fatal(err)
			}
			want[id] = repl[i]
		case 2: // delete, then write again under the same id
			if err := x.Delete("w", id); err != nil {
				t.Fatal(err)
			}
			if err := x.Upsert("w", id, repl[i]); err != nil {
				t.Fatal(err)
			}
			want[id] = repl[i]
		}
	}
	s := x.space("w", false)
	if tail := tailOf(x, "w"); tail < 1000 || s.graph == nil {
		t.Fatalf("tail %d (want > 1000), graph %v", tail, s.graph != nil)
	}
	checkLive(t, x, want, vecs)
	resumeLinking(x)
	x.wait()
	if tailOf(x, "w") != 0 {
		t.Fatal("tail not linked")
	}
	checkLive(t, x, want, vecs)
}

// checkLive asserts searches of workspace "w" see exactly want: each
// live vector is the top hit for itself, no deleted or replaced vector
// comes back, Len and SearchIDs agree, and a filtered search over graph
// and tail together returns k allowed hits close to brute force.
func checkLive(t *testing.T, x *Index, want map[string][]float32, orig [][]float32) {
	t.Helper()
	if n := x.Len("w"); n != len(want) {
		t.Fatalf("Len %d, want %d", n, len(want))
	}
	missed := 0
	for i, v := range orig {
		id := itoa(i)
		cur, live := want[id]
		hits := mustSearch(t, x, "w", v, 5, nil)
		for _, h := range hits {
			if _, ok := want[h.ID]; !ok {
				t.Fatalf("deleted %s returned", h.ID)
			}
			if h.ID == id && math.Abs(float64(h.Score)-vectortest.Cosine(v, cur)) > 1e-4 {
				t.Fatalf("%s scored %v, its current vector gives %v", id, h.Score, vectortest.Cosine(v, cur))
			}
		}
		if !live {
			if got, _ := x.SearchIDs("w", v, 1, []string{id}); len(got) != 0 {
				t.Fatalf("deleted %s in SearchIDs: %v", id, got)
			}
			continue
		}
		if hits := mustSearch(t, x, "w", cur, 1, nil); hits[0].ID != id && hits[0].Score < 0.9999 {
			missed++
		}
	}
	// The graph part is approximate: allow it a rare miss.
	if missed > len(want)/200 {
		t.Fatalf("%d of %d live vectors not found by themselves", missed, len(want))
	}
	s := x.space("w", false)
	keep := func(id string) bool { return mustAtoi(id)%3 == 0 }
	kept := map[string][]float32{}
	for id, v := range want {
		if keep(id) {
			kept[id] = v
		}
	}
	var recall float64
	queries := clustered(73, 50, len(orig[0]), 40, 0.6)
	for _, q := range queries {
		s.mu.RLock()
		hits := s.graphSearch(unit(q), 10, s.cfg.efSearch, keep) // the merged path, whatever the planner says
		s.mu.RUnlock()
		if len(hits) != 10 || slices.ContainsFunc(hits, func(h memoryd.Scored) bool { return !keep(h.ID) }) {
			t.Fatalf("filtered: %v", hits)
		}
		recall += vectortest.Recall(hits, vectortest.BruteForce(kept, q, 10, nil))
	}
	if recall /= float64(len(queries)); recall < 0.95 {
		t.Fatalf("filtered recall@10 %.3f", recall)
	}
}

// TestPromotionLeavesTail: crossing the threshold switches to graph mode
// at once, with every vector in the tail; searches stay exact until the
// linker has linked them.
func TestPromotionLeavesTail(t *testing.T) {
	x := New(WithExactBelow(1000))
	x.cfg.linkOff.Store(true)
	vecs := clustered(74, 1200, 16, 20, 0.6)
	load(t, x, "w", vecs)
	s := x.space("w", false)
	if s.graph == nil || tailOf(x, "w") != 1200 {
		t.Fatalf("graph %v, tail %d: want graph mode, all 1200 unlinked", s.graph != nil, tailOf(x, "w"))
	}
	for _, q := range clustered(75, 10, 16, 20, 0.6) {
		sameRanking(t, mustSearch(t, x, "w", q, 10, nil), exactTopK(vecs, q, 10))
	}
	resumeLinking(x)
	x.wait()
	if tailOf(x, "w") != 0 || unreachable(s) != 0 {
		t.Fatal("promoted space not fully linked")
	}
}

// TestLinkerDrains: with its normal budget (no wait, which hurries it)
// the linker empties the tail, exits, and starts again for new writes;
// no goroutine stays behind for an idle workspace.
func TestLinkerDrains(t *testing.T) {
	x := New(WithExactBelow(100), WithLinking(0.5, 50, 400)) // flat out, ramp, duty-cycled
	x2 := New(WithExactBelow(100))                           // defaults: duty-cycled
	for _, x := range []*Index{x, x2} {
		vecs := clustered(76, 700, 16, 20, 0.6)
		load(t, x, "w", vecs[:600])
		s := x.space("w", false)
		drained(t, s)
		load(t, x, "w", vecs)
		drained(t, s)
		if unreachable(s) != 0 {
			t.Fatal("unreachable nodes after linking")
		}
	}
}

// drained polls until s's tail is empty and its linker has exited. The
// deadline only keeps a broken linker from hanging the test.
func drained(t *testing.T, s *space) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s.meta.Lock()
		linking := s.linking
		s.meta.Unlock()
		tail, _ := s.tailState()
		if tail == 0 && !linking {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("linker stuck: tail %d, running %v", tail, linking)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDuty(t *testing.T) {
	c := newConfig([]Option{WithLinking(0.2, 100, 300)})
	for _, tc := range []struct {
		tail int
		want float64
	}{{0, 0.2}, {100, 0.2}, {200, 0.6}, {299, 0.996}, {300, 1}, {5000, 1}} {
		if got := c.duty(tc.tail); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("duty(%d) = %v, want %v", tc.tail, got, tc.want)
		}
	}
	c.hurry.Add(1)
	if c.duty(0) != 1 {
		t.Error("hurry: want full speed")
	}
}

// The linker runs flat out only once both writes and searches have
// paused: a search keeps it to its duty as a write does.
func TestIdleNeedsNoWritesNorSearches(t *testing.T) {
	x := New()
	load(t, x, "w", clustered(3, 10, 8, 2, 0.6))
	s := x.space("w", false)
	long := time.Now().Add(-2 * writesPause).UnixNano()
	s.lastWrite.Store(long)
	s.lastSearch.Store(long)
	if !s.idle() {
		t.Fatal("no writes nor searches for 2 pauses: want idle")
	}
	mustSearch(t, x, "w", clustered(4, 1, 8, 2, 0.6)[0], 3, nil)
	if s.idle() {
		t.Fatal("just searched: want busy")
	}
	s.lastSearch.Store(long)
	if err := x.Upsert("w", "new", clustered(5, 1, 8, 2, 0.6)[0]); err != nil {
		t.Fatal(err)
	}
	if s.idle() {
		t.Fatal("just written: want busy")
	}
}

// TestConcurrentWithLinker runs upserts, replacements, deletes and
// (filtered) searches at once while the linker works in all its modes
// (duty-cycled, ramp, flat out on parallel workers) and tombstone
// rebuilds come and go; run it under -race. Every search must return k
// distinct, allowed ids (a slot counted in both the graph and the tail
// would show up twice), and the end state must be exactly what was
// written.
func TestConcurrentWithLinker(t *testing.T) {
	x := New(WithExactBelow(300), WithHNSW(8, 40, 32), WithLinking(0.5, 40, 200))
	const writers = 3
	vecs := clustered(77, 3000, 16, 40, 0.6)
	repl := clustered(78, 3000, 16, 40, 0.6)
	want := make([][]float32, len(vecs))
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(vecs); i += writers {
				if err := x.Upsert("w", itoa(i), vecs[i]); err != nil {
					t.Error(err)
					return
				}
				want[i] = vecs[i]
				if j := i - 300; j >= 0 && j%2 == 0 { // delete or replace an older one
					var err error
					if j%4 == 0 {
						err, want[j] = x.Delete("w", itoa(j)), nil
					} else {
						err, want[j] = x.Upsert("w", itoa(j), repl[j]), repl[j]
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	for r := range 2 {
		wg.Go(func() {
			keep := func(id string) bool { return mustAtoi(id)%2 == r }
			for _, q := range clustered(79, 300, 16, 40, 0.6) {
				allow := keep
				if r == 0 {
					allow = nil
				}
				before := x.Len("w")
				hits, err := x.Search("w", q, 10, allow)
				if err != nil {
					t.Error(err)
					return
				}
				seen := map[string]bool{}
				for _, h := range hits {
					if seen[h.ID] || (allow != nil && !allow(h.ID)) {
						t.Errorf("duplicate or disallowed hit %s in %v", h.ID, hits)
						return
					}
					seen[h.ID] = true
				}
				if len(hits) < 10 && before > 100 {
					t.Errorf("%d hits with %d vectors stored", len(hits), before)
					return
				}
			}
		})
	}
	wg.Wait()
	x.wait()
	checkContents(t, x, want)
	s := x.space("w", false)
	// (No connectivity check here: under this much churn HNSW pruning
	// may strand the odd node; checkContents bounds what searches miss.)
	if tailOf(x, "w") != 0 || s.graph == nil || s.stats.rebuilds.Load() == 0 {
		t.Fatalf("end: tail %d, graph %v, %d rebuilds (want 0, true, > 0)", tailOf(x, "w"), s.graph != nil, s.stats.rebuilds.Load())
	}
}

// TestLinkBoundary freezes the state a search meets while the linker is
// mid-way: slots past linked already have links in the graph. Each must
// still come back once, from the tail scan, not twice.
func TestLinkBoundary(t *testing.T) {
	x := New(WithExactBelow(100))
	vecs := clustered(80, 1200, 16, 20, 0.6)
	load(t, x, "w", vecs[:1000])
	x.wait()
	x.cfg.linkOff.Store(true)
	load(t, x, "w", vecs)
	s := x.space("w", false)
	s.mu.RLock()
	linked := s.linked.Load()
	s.graph.insertAll(s, linked, linked+100, 1) // in the graph, not yet counted
	s.mu.RUnlock()
	for i := 1000; i < 1100; i++ {
		hits := mustSearch(t, x, "w", vecs[i], 5, nil)
		seen := map[string]bool{}
		for _, h := range hits {
			if seen[h.ID] {
				t.Fatalf("%s twice in %v", h.ID, hits)
			}
			seen[h.ID] = true
		}
		if hits[0].ID != itoa(i) {
			t.Fatalf("%s: top hit %v", itoa(i), hits[0])
		}
	}
}

// Unlinked counts what waits for the linkers, over all workspaces, down
// to none once they have caught up.
func TestUnlinkedProgress(t *testing.T) {
	x := New(WithExactBelow(100))
	x.cfg.linkOff.Store(true)
	load(t, x, "big", clustered(7, 300, 16, 5, 0.5))
	load(t, x, "small", clustered(8, 50, 16, 5, 0.5)) // exact: nothing to link
	if un, total := x.Unlinked(); un != 300 || total != 350 {
		t.Fatalf("Unlinked() = %d of %d, want 300 of 350", un, total)
	}
	resumeLinking(x)
	x.wait()
	if un, total := x.Unlinked(); un != 0 || total != 350 {
		t.Fatalf("after linking: Unlinked() = %d of %d, want 0 of 350", un, total)
	}
}

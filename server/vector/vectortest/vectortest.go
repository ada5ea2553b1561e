// Package vectortest is the contract suite every memoryd.VectorIndex
// passes: call Run from the implementation's tests with a constructor of
// fresh, empty indexes.
//
// Approximate engines are allowed: rankings are checked by recall against
// a brute-force cosine ranking (>= MinRecall) rather than equality, while
// scores, filters, isolation, replacement and deletion are checked exactly.
package vectortest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// MinRecall is the recall@k every ranking must reach against brute force.
const MinRecall = 0.9

// Dims is the dimension the suite's vectors have.
const Dims = 32

// ID returns the suite's i-th id. Ids are UUID-shaped so engines that key
// objects by UUID can store them as given.
func ID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// Vectors returns n deterministic random vectors of dim dimensions.
func Vectors(seed uint64, n, dim int) [][]float32 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// Cosine is the reference similarity, in float64.
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// BruteForce ranks vecs (keyed by id) against q, best first, keeping the
// ids allow accepts (all when allow is nil), up to k.
func BruteForce(vecs map[string][]float32, q []float32, k int, allow func(string) bool) []memoryd.Scored {
	out := make([]memoryd.Scored, 0, len(vecs))
	for id, v := range vecs {
		if allow == nil || allow(id) {
			out = append(out, memoryd.Scored{ID: id, Score: float32(Cosine(q, v))})
		}
	}
	slices.SortFunc(out, func(a, b memoryd.Scored) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out[:min(k, len(out))]
}

// Recall is the share of want's ids found in got.
func Recall(got, want []memoryd.Scored) float64 {
	if len(want) == 0 {
		return 1
	}
	seen := map[string]bool{}
	for _, h := range got {
		seen[h.ID] = true
	}
	n := 0
	for _, h := range want {
		if seen[h.ID] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// Run runs the contract suite; newIndex returns a fresh, empty index.
func Run(t *testing.T, newIndex func(t *testing.T) memoryd.VectorIndex) {
	tests := []struct {
		name string
		fn   func(*testing.T, memoryd.VectorIndex)
	}{
		{"Empty", testEmpty},
		{"KNotPositive", testKNotPositive},
		{"MatchesBruteForce", testMatchesBruteForce},
		{"ScoresAreCosine", testScoresAreCosine},
		{"KAboveLen", testKAboveLen},
		{"Isolation", testIsolation},
		{"UpsertReplaces", testUpsertReplaces},
		{"Delete", testDelete},
		{"Allow", testAllow},
		{"Invalid", testInvalid},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newIndex(t)) })
	}
}

// load upserts vecs as ID(0..) into ws and returns them by id.
func load(t *testing.T, x memoryd.VectorIndex, ws string, vecs [][]float32) map[string][]float32 {
	t.Helper()
	m := make(map[string][]float32, len(vecs))
	for i, v := range vecs {
		if err := x.Upsert(ws, ID(i), v); err != nil {
			t.Fatalf("Upsert(%s, %s): %v", ws, ID(i), err)
		}
		m[ID(i)] = v
	}
	return m
}

func search(t *testing.T, x memoryd.VectorIndex, ws string, q []float32, k int, allow func(string) bool) []memoryd.Scored {
	t.Helper()
	hits, err := x.Search(ws, q, k, allow)
	if err != nil {
		t.Fatalf("Search(%s, k=%d): %v", ws, k, err)
	}
	return hits
}

// checkHits asserts hits are sorted, unique, known, and scored by cosine.
func checkHits(t *testing.T, hits []memoryd.Scored, vecs map[string][]float32, q []float32) {
	t.Helper()
	seen := map[string]bool{}
	for i, h := range hits {
		v, ok := vecs[h.ID]
		if !ok {
			t.Fatalf("hit %d: unknown id %q", i, h.ID)
		}
		if seen[h.ID] {
			t.Fatalf("hit %d: id %q returned twice", i, h.ID)
		}
		seen[h.ID] = true
		if want := Cosine(q, v); math.Abs(float64(h.Score)-want) > 1e-4 {
			t.Fatalf("hit %d (%s): score %v, cosine is %v", i, h.ID, h.Score, want)
		}
		if i > 0 && hits[i-1].Score < h.Score {
			t.Fatalf("hits not best first at %d: %v < %v", i, hits[i-1].Score, h.Score)
		}
	}
}

func testEmpty(t *testing.T, x memoryd.VectorIndex) {
	if n := x.Len("ws-none"); n != 0 {
		t.Fatalf("Len of unknown workspace = %d", n)
	}
	if hits := search(t, x, "ws-none", Vectors(1, 1, Dims)[0], 10, nil); len(hits) != 0 {
		t.Fatalf("unknown workspace returned %v", hits)
	}
}

func testKNotPositive(t *testing.T, x memoryd.VectorIndex) {
	load(t, x, "ws-a", Vectors(2, 20, Dims))
	for _, k := range []int{0, -1} {
		if hits := search(t, x, "ws-a", Vectors(3, 1, Dims)[0], k, nil); len(hits) != 0 {
			t.Fatalf("k=%d returned %d hits", k, len(hits))
		}
	}
}

func testMatchesBruteForce(t *testing.T, x memoryd.VectorIndex) {
	vecs := load(t, x, "ws-a", Vectors(4, 300, Dims))
	if n := x.Len("ws-a"); n != 300 {
		t.Fatalf("Len = %d, want 300", n)
	}
	var recall float64
	queries := Vectors(5, 20, Dims)
	for _, q := range queries {
		hits := search(t, x, "ws-a", q, 10, nil)
		if len(hits) != 10 {
			t.Fatalf("got %d hits, want 10", len(hits))
		}
		checkHits(t, hits, vecs, q)
		recall += Recall(hits, BruteForce(vecs, q, 10, nil))
	}
	if recall /= float64(len(queries)); recall < MinRecall {
		t.Fatalf("recall@10 = %.3f, want >= %v", recall, MinRecall)
	}
}

// testScoresAreCosine: a stored vector, scaled, finds itself at score 1.
func testScoresAreCosine(t *testing.T, x memoryd.VectorIndex) {
	vecs := Vectors(6, 100, Dims)
	load(t, x, "ws-a", vecs)
	for _, i := range []int{0, 17, 99} {
		q := slices.Clone(vecs[i])
		for j := range q {
			q[j] *= 2.5
		}
		hits := search(t, x, "ws-a", q, 3, nil)
		if len(hits) == 0 || hits[0].ID != ID(i) || math.Abs(float64(hits[0].Score)-1) > 1e-4 {
			t.Fatalf("query of vector %d scaled: got %v, want %s at score 1", i, hits, ID(i))
		}
	}
}

func testKAboveLen(t *testing.T, x memoryd.VectorIndex) {
	vecs := load(t, x, "ws-a", Vectors(7, 5, Dims))
	q := Vectors(8, 1, Dims)[0]
	hits := search(t, x, "ws-a", q, 10, nil)
	if len(hits) != 5 {
		t.Fatalf("got %d hits, want all 5", len(hits))
	}
	checkHits(t, hits, vecs, q)
}

func testIsolation(t *testing.T, x memoryd.VectorIndex) {
	a := load(t, x, "ws-a", Vectors(9, 50, Dims))
	b := load(t, x, "ws-b", Vectors(10, 60, Dims)) // same ids 0..49, other vectors
	for _, v := range b {
		// b's vectors, queried in a, score against a's vectors only.
		hits := search(t, x, "ws-a", v, 100, nil)
		if len(hits) != 50 {
			t.Fatalf("ws-a returned %d hits, has 50", len(hits))
		}
		checkHits(t, hits, a, v)
	}
	if x.Len("ws-a") != 50 || x.Len("ws-b") != 60 {
		t.Fatalf("Len a=%d b=%d, want 50 and 60", x.Len("ws-a"), x.Len("ws-b"))
	}
	if err := x.Delete("ws-a", ID(3)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	q := b[ID(3)]
	hits := search(t, x, "ws-b", q, 1, nil)
	if len(hits) != 1 || hits[0].ID != ID(3) || x.Len("ws-b") != 60 {
		t.Fatalf("delete in ws-a changed ws-b: hits %v, Len %d", hits, x.Len("ws-b"))
	}
	for _, h := range search(t, x, "ws-b", q, 100, nil) {
		if _, ok := b[h.ID]; !ok {
			t.Fatalf("ws-b returned foreign id %s", h.ID)
		}
	}
}

func testUpsertReplaces(t *testing.T, x memoryd.VectorIndex) {
	vecs := load(t, x, "ws-a", Vectors(11, 100, Dims))
	old := vecs[ID(7)]
	repl := Vectors(12, 1, Dims)[0]
	if err := x.Upsert("ws-a", ID(7), repl); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	vecs[ID(7)] = repl
	if n := x.Len("ws-a"); n != 100 {
		t.Fatalf("Len after replace = %d, want 100", n)
	}
	hits := search(t, x, "ws-a", repl, 1, nil)
	if len(hits) != 1 || hits[0].ID != ID(7) || math.Abs(float64(hits[0].Score)-1) > 1e-4 {
		t.Fatalf("query of the new vector: %v, want %s at 1", hits, ID(7))
	}
	all := search(t, x, "ws-a", old, 100, nil)
	if len(all) != 100 {
		t.Fatalf("k=100 returned %d", len(all))
	}
	checkHits(t, all, vecs, old) // ID(7) scores against the new vector
}

func testDelete(t *testing.T, x memoryd.VectorIndex) {
	vecs := load(t, x, "ws-a", Vectors(13, 100, Dims))
	for _, i := range []int{0, 42, 99} {
		if err := x.Delete("ws-a", ID(i)); err != nil {
			t.Fatalf("Delete(%s): %v", ID(i), err)
		}
		delete(vecs, ID(i))
	}
	if n := x.Len("ws-a"); n != 97 {
		t.Fatalf("Len = %d, want 97", n)
	}
	q := Vectors(13, 43, Dims)[42] // the deleted vector itself
	hits := search(t, x, "ws-a", q, 100, nil)
	if len(hits) != 97 {
		t.Fatalf("k=100 returned %d, want 97", len(hits))
	}
	checkHits(t, hits, vecs, q)
	for _, del := range []struct{ ws, id string }{{"ws-a", ID(42)}, {"ws-a", "missing"}, {"ws-none", ID(1)}} {
		if err := x.Delete(del.ws, del.id); err != nil && !errors.Is(err, memoryd.ErrNotFound) {
			t.Fatalf("Delete of absent %s/%s: %v, want nil or ErrNotFound", del.ws, del.id, err)
		}
	}
	if n := x.Len("ws-a"); n != 97 {
		t.Fatalf("Len after deleting absent ids = %d", n)
	}
}

func testAllow(t *testing.T, x memoryd.VectorIndex) {
	vecs := load(t, x, "ws-a", Vectors(14, 400, Dims))
	even := map[string]bool{}
	for i := 0; i < 400; i += 2 {
		even[ID(i)] = true
	}
	few := map[string]bool{ID(5): true, ID(77): true, ID(301): true}
	cases := []struct {
		name  string
		allow map[string]bool
		want  int
	}{{"half", even, 10}, {"three", few, 3}, {"none", map[string]bool{}, 0}}
	for _, c := range cases {
		allow := func(id string) bool { return c.allow[id] }
		var recall float64
		queries := Vectors(15, 10, Dims)
		for _, q := range queries {
			hits := search(t, x, "ws-a", q, 10, allow)
			if len(hits) != c.want {
				t.Fatalf("%s: got %d hits, want %d", c.name, len(hits), c.want)
			}
			checkHits(t, hits, vecs, q)
			for _, h := range hits {
				if !c.allow[h.ID] {
					t.Fatalf("%s: disallowed id %s returned", c.name, h.ID)
				}
			}
			recall += Recall(hits, BruteForce(vecs, q, 10, allow))
		}
		if recall /= float64(len(queries)); recall < MinRecall {
			t.Fatalf("%s: recall@10 = %.3f", c.name, recall)
		}
	}
}

func testInvalid(t *testing.T, x memoryd.VectorIndex) {
	load(t, x, "ws-a", Vectors(16, 10, Dims))
	bad := []struct {
		name string
		err  error
	}{
		{"upsert other dimension", x.Upsert("ws-a", "x", make([]float32, Dims+1))},
		{"upsert zero vector", x.Upsert("ws-a", "x", make([]float32, Dims))},
		{"upsert empty vector", x.Upsert("ws-b", "x", nil)},
		{"upsert NaN", x.Upsert("ws-b", "x", []float32{1, float32(math.NaN())})},
		{"query other dimension", searchErr(x, "ws-a", Vectors(17, 1, Dims-1)[0])},
		{"query zero vector", searchErr(x, "ws-a", make([]float32, Dims))},
		{"query empty vector", searchErr(x, "ws-a", nil)},
	}
	for _, b := range bad {
		if memoryd.ErrorCode(b.err) != memoryd.EINVALID {
			t.Errorf("%s: err %v, want code %s", b.name, b.err, memoryd.EINVALID)
		}
	}
	if n := x.Len("ws-a"); n != 10 {
		t.Fatalf("Len after rejected upserts = %d", n)
	}
}

func searchErr(x memoryd.VectorIndex, ws string, q []float32) error {
	_, err := x.Search(ws, q, 5, nil)
	return err
}

// testConcurrent mixes writers, a deleter and searchers, then checks the
// final state is exactly what the writes imply.
func testConcurrent(t *testing.T, x memoryd.VectorIndex) {
	const writers, per = 4, 100
	vecs := Vectors(18, writers*per, Dims)
	var wg sync.WaitGroup
	errs := make(chan error, writers+4)
	written := make(chan int, len(vecs)) // every 10th id, once upserted
	var writersWG sync.WaitGroup
	for w := range writers {
		writersWG.Go(func() {
			for i := w * per; i < (w+1)*per; i++ {
				if err := x.Upsert("ws-a", ID(i), vecs[i]); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					written <- i
				}
			}
		})
	}
	wg.Go(func() {
		writersWG.Wait()
		close(written)
	})
	wg.Go(func() { // deletes every 10th id once it is written
		for i := range written {
			if err := x.Delete("ws-a", ID(i)); err != nil {
				errs <- err
				return
			}
		}
	})
	for s := range 2 {
		wg.Go(func() {
			for _, q := range Vectors(19+uint64(s), 50, Dims) {
				hits, err := x.Search("ws-a", q, 5, nil)
				if err != nil {
					errs <- err
					return
				}
				for _, h := range hits {
					var i int
					if _, err := fmt.Sscanf(h.ID[24:], "%d", &i); err != nil || i >= writers*per {
						errs <- fmt.Errorf("unexpected id %q", h.ID)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := map[string][]float32{}
	for i, v := range vecs {
		if i%10 != 0 {
			want[ID(i)] = v
		}
	}
	if n := x.Len("ws-a"); n != len(want) {
		t.Fatalf("Len = %d, want %d", n, len(want))
	}
	var recall float64
	n := 0
	for i := 1; i < len(vecs); i += 37 {
		hits := search(t, x, "ws-a", vecs[i], 10, nil)
		checkHits(t, hits, want, vecs[i])
		recall += Recall(hits, BruteForce(want, vecs[i], 10, nil))
		n++
	}
	if recall /= float64(n); recall < MinRecall {
		t.Fatalf("recall@10 after concurrent writes = %.3f", recall)
	}
}

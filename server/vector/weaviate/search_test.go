package weaviate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/vector/vectortest"
)

// ids returns the suite ids 0..n-1.
func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = vectortest.ID(i)
	}
	return out
}

func sameRanking(t *testing.T, what string, got, want []memoryd.Scored) {
	t.Helper()
	g := make([]string, len(got))
	for i, h := range got {
		g[i] = h.ID
	}
	w := make([]string, len(want))
	for i, h := range want {
		w[i] = h.ID
	}
	if !slices.Equal(g, w) {
		t.Fatalf("%s: ranked %v, exact ranking is %v", what, g, w)
	}
}

// TestSearchIDs: an id list longer than one batch still gives the exact
// top k of the list (batches are ranked exactly and merged), whatever the
// list's duplicates and unknown ids.
func TestSearchIDs(t *testing.T) {
	x := newIndex(t, Config{})
	const n = 2600
	vecs := vectortest.Vectors(21, n, vectortest.Dims)
	all := ids(n)
	if err := x.UpsertBatch("ws-a", all, vecs); err != nil {
		t.Fatalf("UpsertBatch: %v", err)
	}
	if c, err := x.Count("ws-a"); err != nil || c != n {
		t.Fatalf("Count = %d, %v; want %d", c, err, n)
	}
	byID := map[string][]float32{}
	for i, v := range vecs {
		byID[all[i]] = v
	}
	r := rand.New(rand.NewPCG(1, 2))
	list := []string{"unknown", vectortest.ID(n + 5)}
	allowed := map[string]bool{}
	for _, i := range r.Perm(n)[:2300] { // three batches
		list = append(list, all[i], all[i]) // duplicates too
		allowed[all[i]] = true
	}
	allow := func(id string) bool { return allowed[id] }
	for qi, q := range vectortest.Vectors(22, 5, vectortest.Dims) {
		for _, k := range []int{1, 10, 50} {
			got, err := x.SearchIDs("ws-a", q, k, list)
			if err != nil {
				t.Fatalf("SearchIDs: %v", err)
			}
			sameRanking(t, "SearchIDs", got, vectortest.BruteForce(byID, q, k, allow))
			if qi == 0 && k == 10 { // the allow path lists the ids, then ranks the same way
				got, err := x.Search("ws-a", q, k, allow)
				if err != nil {
					t.Fatalf("Search with allow: %v", err)
				}
				sameRanking(t, "Search with allow", got, vectortest.BruteForce(byID, q, k, allow))
			}
		}
	}
	if hits, err := x.SearchIDs("ws-none", vecs[0], 5, all[:3]); err != nil || len(hits) != 0 {
		t.Fatalf("SearchIDs in an unknown workspace: %v, %v", hits, err)
	}
	listed, err := x.IDs("ws-a")
	if err != nil || len(listed) != n {
		t.Fatalf("IDs listed %d, %v; want %d", len(listed), err, n)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, all) {
		t.Fatal("IDs did not list every id once")
	}
}

// docs builds n docs whose attributes cycle, so filters of every kind
// select known subsets.
func docs(n int) []Doc {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vecs := vectortest.Vectors(31, n, vectortest.Dims)
	types := []string{"note", "task", "fact"}
	tagSets := [][]string{{"x"}, {"x", "y"}, {"y", "z"}, nil, {"x", "y", "z"}}
	out := make([]Doc, n)
	for i := range out {
		out[i] = Doc{
			ID: vectortest.ID(i), Vector: vecs[i], Type: types[i%3], Source: []string{"api", "import"}[i%2],
			Tags: tagSets[i%5],
			Metadata: map[string]any{"n": float64(i % 7), "flag": i%4 == 0, "s": []string{"a", "b", "c"}[i%3],
				"nested": map[string]any{"n": 1}, "rare": i == 77 || i == 301},
			CreatedAt: base.Add(time.Duration(i) * time.Minute),
		}
	}
	return out
}

// matches is filter f applied in Go, the stores' semantics.
func matches(d Doc, f memoryd.Filter) bool {
	if f.Type != "" && d.Type != f.Type || f.Source != "" && d.Source != f.Source {
		return false
	}
	for _, tag := range f.Tags {
		if !slices.Contains(d.Tags, tag) {
			return false
		}
	}
	for k, v := range f.Metadata {
		if n, ok := v.(int); ok {
			v = float64(n)
		}
		if d.Metadata[k] != v {
			return false
		}
	}
	if f.CreatedAfter != nil && d.CreatedAt.Before(*f.CreatedAfter) ||
		f.CreatedBefore != nil && !d.CreatedAt.Before(*f.CreatedBefore) {
		return false
	}
	return true
}

// TestSearchFilter: filters pushed into Weaviate as properties give the
// exact top k of the matching docs, down to a filter matching two of 600.
func TestSearchFilter(t *testing.T) {
	x := newIndex(t, Config{})
	ds := docs(600)
	if err := x.UpsertDocs("ws-a", ds); err != nil {
		t.Fatalf("UpsertDocs: %v", err)
	}
	// A doc without attributes matches only the empty filter.
	bare := vectortest.Vectors(32, 1, vectortest.Dims)[0]
	if err := x.Upsert("ws-a", "bare", bare); err != nil {
		t.Fatal(err)
	}
	byID := map[string]Doc{}
	vecs := map[string][]float32{"bare": bare}
	for _, d := range ds {
		byID[d.ID], vecs[d.ID] = d, d.Vector
	}
	t0 := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	t1 := t0.Add(90 * time.Minute)
	filters := []memoryd.Filter{
		{Type: "note"},
		{Source: "import", Tags: []string{"x", "y"}},
		{Metadata: map[string]any{"n": 3}},
		{Metadata: map[string]any{"flag": true, "s": "b"}},
		{CreatedAfter: &t0, CreatedBefore: &t1},
		{Type: "task", CreatedAfter: &t0},
		{Metadata: map[string]any{"rare": true}}, // two of 600
		{Tags: []string{"nope"}},
	}
	for fi, f := range filters {
		allow := func(id string) bool { d, ok := byID[id]; return ok && matches(d, f) }
		for _, q := range vectortest.Vectors(33, 3, vectortest.Dims) {
			got, err := x.SearchFilter("ws-a", q, 10, f)
			if err != nil {
				t.Fatalf("filter %d: %v", fi, err)
			}
			want := vectortest.BruteForce(vecs, q, 10, allow)
			sameRanking(t, fmt.Sprintf("filter %d (%+v)", fi, f), got, want)
		}
	}
	all, err := x.SearchFilter("ws-a", bare, 1, memoryd.Filter{})
	if err != nil || len(all) != 1 || all[0].ID != "bare" {
		t.Fatalf("empty filter: %v, %v; want the bare doc first", all, err)
	}
	_, err = x.SearchFilter("ws-a", bare, 5, memoryd.Filter{Metadata: map[string]any{"k": []any{1}}})
	if memoryd.ErrorCode(err) != memoryd.EINVALID {
		t.Fatalf("array metadata filter: %v, want %s", err, memoryd.EINVALID)
	}
}

// TestUpsertMemories: a memory's metadata (type, tags, other keys) and
// creation time become filterable through UpsertMemories.
func TestUpsertMemories(t *testing.T) {
	x := newIndex(t, Config{})
	vecs := vectortest.Vectors(34, 3, vectortest.Dims)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ms := []*memoryd.Memory{
		{ID: "m0", Embedding: vecs[0], CreatedAt: at,
			Metadata: map[string]any{"type": "note", "tags": []any{"a", "b"}, "source": "cli", "lang": "en"}},
		{ID: "m1", Embedding: vecs[1], CreatedAt: at.Add(time.Hour),
			Metadata: map[string]any{"type": "task", "tags": []any{"a"}, "lang": "de"}},
		{ID: "m2", Embedding: vecs[2], CreatedAt: at.Add(2 * time.Hour)},
	}
	if err := x.UpsertMemories("ws-a", ms); err != nil {
		t.Fatal(err)
	}
	later, hour := at.Add(30*time.Minute), at.Add(time.Hour)
	cases := []struct {
		f    memoryd.Filter
		want []string
	}{
		{memoryd.Filter{Type: "note"}, []string{"m0"}},
		{memoryd.Filter{Tags: []string{"a"}}, []string{"m0", "m1"}},
		{memoryd.Filter{Tags: []string{"a", "b"}, Source: "cli"}, []string{"m0"}},
		{memoryd.Filter{Metadata: map[string]any{"lang": "de"}}, []string{"m1"}},
		{memoryd.Filter{Metadata: map[string]any{"type": "task"}}, []string{"m1"}},
		{memoryd.Filter{CreatedAfter: &later}, []string{"m1", "m2"}},
		{memoryd.Filter{CreatedBefore: &later}, []string{"m0"}},
		{memoryd.Filter{CreatedAfter: &hour}, []string{"m1", "m2"}}, // inclusive
		{memoryd.Filter{CreatedBefore: &hour}, []string{"m0"}},      // exclusive
	}
	for _, c := range cases {
		hits, err := x.SearchFilter("ws-a", vecs[2], 10, c.f)
		if err != nil {
			t.Fatalf("%+v: %v", c.f, err)
		}
		got := make([]string, len(hits))
		for i, h := range hits {
			got[i] = h.ID
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("filter %+v matched %v, want %v", c.f, got, c.want)
		}
	}
}

// TestGRPCSearchMatchesGraphQL: an unfiltered search over gRPC returns
// what the same query returns over GraphQL, ids and scores, and a
// workspace without vectors (no tenant) returns nothing on both.
func TestGRPCSearchMatchesGraphQL(t *testing.T) {
	x := newIndex(t, Config{})
	if x.grpc == nil {
		t.Fatal("an index opened with a gRPC address has no gRPC searcher")
	}
	const n = 500
	vecs := vectortest.Vectors(23, n, vectortest.Dims)
	if err := x.UpsertBatch("ws-a", ids(n), vecs); err != nil {
		t.Fatalf("UpsertBatch: %v", err)
	}
	for q := range 20 {
		got, err := x.Search("ws-a", vecs[q*7], 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []memoryd.Scored
		err = x.do("search", func(ctx context.Context) error {
			var err error
			want, err = x.nearestGraphQL(ctx, "ws-a", vecs[q*7], 10, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		sortHits(want)
		sameRanking(t, fmt.Sprintf("query %d over gRPC", q), got, want)
		for i := range got {
			if d := math.Abs(float64(got[i].Score - want[i].Score)); d > 1e-5 {
				t.Fatalf("query %d, hit %d: score %v over gRPC, %v over GraphQL", q, i, got[i].Score, want[i].Score)
			}
		}
		if got[0].ID != vectortest.ID(q*7) || got[0].Score < 0.999 {
			t.Fatalf("query %d: best hit %+v, want %s itself at ~1", q, got[0], vectortest.ID(q*7))
		}
	}
	if hits, err := x.Search("ws-none", vecs[0], 10, nil); err != nil || len(hits) != 0 {
		t.Fatalf("a workspace without vectors: %v %v, want nothing", hits, err)
	}
}

package searcheval_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/memoryd/memoryd/internal/weaviatetest"
	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/uselite"
	"github.com/memoryd/memoryd/server/searcheval"
	"github.com/memoryd/memoryd/server/service"
	"github.com/memoryd/memoryd/server/store"
	"github.com/memoryd/memoryd/server/vector/memindex"
	"github.com/memoryd/memoryd/server/vector/weaviate"
)

var actor = service.Actor{Workspace: "eval", User: "eval"}

// env is the set stored in a service as memoryd runs by default (SQLite,
// the in-process index, the built-in use-lite model), built once per test
// binary.
type env struct {
	set *searcheval.Set
	svc *service.Service
}

var (
	envOnce sync.Once
	envVal  *env
	envErr  error
)

func setup(t *testing.T) *env {
	t.Helper()
	envOnce.Do(func() { envVal, envErr = build(t.TempDir(), memindex.New()) })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return envVal
}

func build(dir string, index memoryd.VectorIndex) (*env, error) {
	ctx := context.Background()
	set, err := searcheval.Load("testdata")
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "eval.db"))
	if err != nil {
		return nil, err
	}
	emb, err := uselite.New()
	if err != nil {
		return nil, err
	}
	svc, err := service.New(st, index, emb)
	if err != nil {
		return nil, err
	}
	for _, m := range set.Memories {
		if _, err := svc.Put(ctx, actor, service.PutInput{ID: m.ID, Text: m.Text}); err != nil {
			return nil, err
		}
	}
	return &env{set: set, svc: svc}, nil
}

// searcher searches in mode (with alpha when not nil), with the request's
// defaults otherwise.
func (e *env) searcher(mode string, alpha *float32) searcheval.Searcher {
	return func(ctx context.Context, query string) ([]string, error) {
		res, err := e.svc.Search(ctx, actor, service.SearchQuery{Query: query, Mode: mode, Limit: 10, Alpha: alpha})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.Memory.ID
		}
		return ids, nil
	}
}

// ranks runs every query of the set in mode (with alpha when not nil).
func (e *env) ranks(t *testing.T, mode string, alpha *float32) []int {
	t.Helper()
	r, err := searcheval.Ranks(context.Background(), e.set.Queries, e.searcher(mode, alpha))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// halves are the whole set and its two halves.
var halves = []struct {
	name string
	keep func(int) bool
}{{"all", nil}, {"tuning", searcheval.Tuning}, {"held-out", searcheval.HeldOut}}

// margin is how far hybrid may fall below the better of its parts, per
// measure and class: one query in about a hundred.
const margin = 0.02

// TestEval measures every mode on the whole set and on each half, prints
// the table, and fails when hybrid falls below the better of semantic and
// keyword by more than margin on either class.
func TestEval(t *testing.T) { evaluate(t, setup(t)) }

// TestEvalWeaviate does the same with Weaviate as the vector index: the
// fusion runs in the service, so hybrid must hold there too.
func TestEvalWeaviate(t *testing.T) {
	w := weaviatetest.Start(t)
	x, err := weaviate.Open(weaviate.Config{Host: w.Host(), GRPCHost: w.GRPCHost(), Dims: uselite.Dims})
	if err != nil {
		t.Fatal(err)
	}
	e, err := build(t.TempDir(), x)
	if err != nil {
		t.Fatal(err)
	}
	evaluate(t, e)
}

func evaluate(t *testing.T, e *env) {
	modes := []string{service.ModeSemantic, service.ModeKeyword, service.ModeHybrid}
	ranks := make([][]int, len(modes))
	for i, mode := range modes {
		ranks[i] = e.ranks(t, mode, nil)
	}
	for _, h := range halves {
		var rows []searcheval.Row
		for i, mode := range modes {
			rows = append(rows, searcheval.Row{Name: mode, Scores: searcheval.Summarise(e.set.Queries, ranks[i], h.keep)})
		}
		t.Logf("%s queries (%d memories):\n%s", h.name, len(e.set.Memories), searcheval.Table(rows))
		sem, kw, hyb := rows[0].Scores, rows[1].Scores, rows[2].Scores
		r1 := func(s searcheval.Score) float64 { return s.R1 }
		mrr := func(s searcheval.Score) float64 { return s.MRR }
		for _, class := range []string{searcheval.Paraphrase, searcheval.Keyword} {
			for _, m := range []struct {
				name string
				f    func(searcheval.Score) float64
			}{{"R@1", r1}, {"MRR", mrr}} {
				got, want := m.f(hyb[class]), max(m.f(sem[class]), m.f(kw[class]))
				if got < want-margin {
					t.Errorf("%s, %s queries: hybrid %s %.3f, below the better part's %.3f", h.name, class, m.name, got, want)
				}
			}
		}
	}
}

var sweep = flag.Bool("sweep", false, "TestAlphaSweep: print hybrid quality for alpha 0 to 1 on each half of the set")

// TestAlphaSweep prints hybrid's quality per alpha on the tuning and the
// held-out half (go test -run TestAlphaSweep -v ./server/searcheval -args
// -sweep): how DefaultAlpha was chosen and checked.
func TestAlphaSweep(t *testing.T) {
	if !*sweep {
		t.Skip("run with -args -sweep")
	}
	e := setup(t)
	rows := make([][]searcheval.Row, len(halves))
	for i := 0; i <= 10; i++ {
		a := float32(i) / 10
		r := e.ranks(t, service.ModeHybrid, &a)
		for j, h := range halves {
			rows[j] = append(rows[j], searcheval.Row{Name: fmt.Sprintf("hybrid alpha=%.1f", a), Scores: searcheval.Summarise(e.set.Queries, r, h.keep)})
		}
	}
	for j, h := range halves {
		t.Logf("%s queries:\n%s", h.name, searcheval.Table(rows[j]))
	}
}

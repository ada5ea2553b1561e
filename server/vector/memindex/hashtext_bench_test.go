package memindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
	"github.com/memoryd/memoryd/server/embed/hash"
)

// loadVocab is tools/load's vocabulary: its texts are 20 words drawn from
// these 60, so they overlap heavily, and its queries are 5 of them.
var loadVocab = strings.Fields(`agent memory planning meeting notes customer billing invoice
deploy release rollback database index vector search stream event latency budget
roadmap quarter review design document api client server cache queue retry
timeout error incident postmortem owner deadline priority feature request bug
user account password login session token workspace project team sprint backlog`)

func loadTexts(seed uint64, n, words int) []string {
	r := rand.New(rand.NewPCG(seed, 3))
	out := make([]string, n)
	for i := range out {
		w := make([]string, words)
		for j := range w {
			w[j] = loadVocab[r.IntN(len(loadVocab))]
		}
		out[i] = strings.Join(w, " ")
	}
	return out
}

func hashVecs(b testing.TB, texts []string) [][]float32 {
	es, err := hash.New(512).Embed(context.Background(), texts)
	if err != nil {
		b.Fatal(err)
	}
	out := make([][]float32, len(es))
	for i, e := range es {
		out[i] = e.Vector
	}
	return out
}

// BenchmarkHashTexts is the steady-load run's data (tools/load texts
// through the hash embedder) at 5k and 50k vectors, linked: the index's
// share of the search cost growing with the workspace, with the exact
// scan and at several breadths (MEMINDEX_EF), 2 clients, recall@10.
//
//	go test -run '^$' -bench HashTexts -benchtime 1x ./server/vector/memindex/
func BenchmarkHashTexts(b *testing.B) {
	vecs := hashVecs(b, loadTexts(1, 50_000, 20))
	queries := hashVecs(b, loadTexts(2, benchLatencyQ, 5))
	for _, n := range []int{5_000, 50_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			x := New()
			parallelLoad(b, x, vecs[:n])
			truth := make([][]memoryd.Scored, len(queries))
			b.Run("exact", func(b *testing.B) {
				for b.Loop() {
					reportClients(b, x, queries, ExactEf, truth)
				}
			})
			for _, ef := range envList(b, "MEMINDEX_EF", []int{128, DefaultEfSearch}) {
				b.Run(fmt.Sprintf("ef=%d", ef), func(b *testing.B) {
					for b.Loop() {
						reportClients(b, x, queries, ef, truth)
					}
				})
			}
			b.Run("setting", func(b *testing.B) { // as the server searches (sizedEf)
				for b.Loop() {
					reportClients(b, x, queries, 0, truth)
				}
			})
		})
	}
}

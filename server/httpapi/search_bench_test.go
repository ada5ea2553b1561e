package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/memoryd/memoryd/internal/apiclient"
	"github.com/memoryd/memoryd/internal/testenv"
	"github.com/memoryd/memoryd/internal/vecdata"
)

// BenchmarkSearchEmbedding is one semantic search with a 512-dimension
// client embedding through the whole HTTP stack (key, validation, the
// in-process index over 2,000 memories on SQLite, search.performed,
// response), from a client on the same machine: what memoryd adds to the
// index's own search. Profile it with
//
//	go test ./server/httpapi -run '^$' -bench SearchEmbedding -cpuprofile /tmp/search.prof
func BenchmarkSearchEmbedding(b *testing.B) {
	env := testenv.New(b)
	c := &apiclient.Client{HTTP: &http.Client{}, Key: env.KeyA, Workspace: "a"}
	vecs := vecdata.Clustered(7, 2100, 512, 100, 1.0)
	v := apiclient.Slice(vecs, func(i int) string { return fmt.Sprintf("m-%d", i) })
	ctx := context.Background()
	for from := 0; from < 2000; from += 50 { // 50 vectors: within the 1 MiB body limit
		if _, err := c.Create(ctx, env.URL, v, from, from+50, true); err != nil {
			b.Fatal(err)
		}
	}
	var res struct {
		Results []struct{ Memory struct{ ID string } } `json:"results"`
	}
	b.ResetTimer()
	for i := range b.N {
		q := map[string]any{"embedding": vecs[2000+i%100], "limit": 10, "mode": "semantic"}
		if err := c.Post(ctx, env.URL, "/memory/search", q, &res); err != nil {
			b.Fatal(err)
		}
		if len(res.Results) != 10 {
			b.Fatalf("%d results, want 10", len(res.Results))
		}
	}
}

package apiclient_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/memoryd/memoryd/internal/apiclient"
	"github.com/memoryd/memoryd/internal/testenv"
)

func unit(dims, i int) []float32 {
	v := make([]float32, dims)
	v[i%dims] = 1
	return v
}

// Vectors stored one at a time and in a batch are all there afterwards,
// under the workspace the client names; a batch with a bad item and a
// refused request are errors that say why.
func TestCreateStoresAndReportsFailures(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	c := &apiclient.Client{HTTP: http.DefaultClient, Key: env.KeyA, Workspace: "a2"}
	v := apiclient.Vectors{ID: func(i int) string { return fmt.Sprintf("m-%d", i) }, Vec: func(i int) []float32 { return unit(512, i) }}
	if n, err := c.Create(ctx, env.URL, v, 0, 3, false); err != nil || n != 3 {
		t.Fatalf("single creates: stored %d, err %v; want 3, nil", n, err)
	}
	if n, err := c.Create(ctx, env.URL, v, 3, 10, true); err != nil || n != 7 {
		t.Fatalf("batch: stored %d, err %v; want 7, nil", n, err)
	}
	var res struct {
		Results []struct{ Memory struct{ ID string } } `json:"results"`
	}
	if err := c.Post(ctx, env.URL, "/memory/search", map[string]any{"embedding": unit(512, 9), "limit": 1, "mode": "semantic"}, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 1 || res.Results[0].Memory.ID != "m-9" {
		t.Fatalf("search in a2 for vector 9 found %+v, want m-9", res.Results)
	}

	bad := apiclient.Vectors{ID: v.ID, Vec: func(i int) []float32 { return unit(3, i) }} // wrong dimensions
	if n, err := c.Create(ctx, env.URL, bad, 20, 22, true); err == nil || n != 0 || !strings.Contains(err.Error(), "2 failed") {
		t.Fatalf("batch of vectors with the wrong dimensions: stored %d, err %v; want 0 and an error naming 2 failures", n, err)
	}
	other := &apiclient.Client{HTTP: http.DefaultClient, Key: env.KeyB, Workspace: "a2"}
	if _, err := other.Create(ctx, env.URL, v, 30, 31, false); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("create in a workspace the key may not use: err %v, want a 403 error", err)
	}
}

package weaviate

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	memoryd "github.com/memoryd/memoryd/server"
)

// A restarting Weaviate serves requests before it is ready, and then
// before its collections' data is loaded ("tried to browse non-existing
// index"). A real one shows these states for about a second, too briefly
// to test against, so a stand-in answers as it does: searches and counts
// must say UNAVAILABLE, not "no vectors", and nothing but the readiness
// check may reach Weaviate until it says it is ready.
func TestStartingWeaviateIsUnavailable(t *testing.T) {
	var ready, queries atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/.well-known/ready":
			if ready.Load() == 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		case r.URL.Path == "/v1/graphql":
			queries.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"errors":[{"message":"explorer: get class: vector search: tried to browse non-existing index for Memory"}]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	x, err := Open(Config{Host: strings.TrimPrefix(srv.URL, "http://"), Dims: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.SearchFilter("w", []float32{1, 0}, 5, memoryd.Filter{}); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("search while Weaviate is not ready: %v, want UNAVAILABLE", err)
	}
	if n := queries.Load(); n != 0 {
		t.Fatalf("%d queries reached a Weaviate that is not ready", n)
	}
	ready.Store(1)
	hits, err := x.SearchFilter("w", []float32{1, 0}, 5, memoryd.Filter{})
	if memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("search while the collection's data is not loaded: %v (hits %v), want UNAVAILABLE", err, hits)
	}
	if n, err := x.Count("w"); memoryd.ErrorCode(err) != memoryd.EUNAVAILABLE {
		t.Fatalf("count while the collection's data is not loaded: %d, %v, want UNAVAILABLE", n, err)
	}
}

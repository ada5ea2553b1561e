package app

import (
	"strings"
	"testing"
	"time"
)

// --vectors (and MEMORYD_VECTORS) takes weaviate:// URLs; anything else is
// refused at start with the flag named, on serve and mcp alike.
func TestVectorsURL(t *testing.T) {
	for _, bad := range []string{"http://w:8080", "weaviate://w", "weaviate://w:8080/path", "weaviate://u:p@w:8080",
		"weaviate://w:8080?grpc=w", "weaviate://w:8080?timeout=0s", "weaviate://w:8080?colour=blue"} {
		if _, err := ParseServe([]string{"--vectors", bad}); err == nil || !strings.Contains(err.Error(), "--vectors") {
			t.Errorf("serve --vectors %s: %v, want an error naming --vectors", bad, err)
		}
		if _, err := ParseMCP([]string{"--vectors", bad}); err == nil {
			t.Errorf("mcp --vectors %s accepted", bad)
		}
	}
	t.Setenv("MEMORYD_VECTORS", "weaviates://w.example:443?grpc=w.example:50051&class=Mem&timeout=3s")
	c, err := ParseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	wc, err := c.Vectors.weaviate(512)
	if err != nil || wc.Host != "w.example:443" || wc.Scheme != "https" || wc.GRPCHost != "w.example:50051" ||
		wc.Class != "Mem" || wc.Timeout != 3*time.Second || wc.Dims != 512 {
		t.Fatalf("MEMORYD_VECTORS: %+v %v", wc, err)
	}
	if wc, err := (VectorsConfig{}).weaviate(512); wc != nil || err != nil {
		t.Fatalf("no --vectors: %+v %v, want the in-process index", wc, err)
	}
}

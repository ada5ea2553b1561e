package app

import (
	"strings"
	"testing"

	"github.com/memoryd/memoryd/server/vector/memindex"
)

// --search-ef (MEMORYD_SEARCH_EF) sets the in-process index's accuracy: a
// breadth in range or "exact"; anything else, or with Weaviate, stops the
// start with the flag named.
func TestSearchEf(t *testing.T) {
	for _, args := range [][]string{
		{"--search-ef", "9"}, {"--search-ef", "5001"}, {"--search-ef", "-1"}, {"--search-ef", "wide"},
		{"--search-ef", "200", "--vectors", "weaviate://w:8080"},
	} {
		if _, err := ParseServe(args); err == nil || !strings.Contains(err.Error(), "--search-ef") {
			t.Errorf("serve %v: %v, want an error naming --search-ef", args, err)
		}
	}
	for in, want := range map[string]int{"": 0, "10": 10, "300": 300, "exact": memindex.ExactEf} {
		c, err := ParseServe([]string{"--search-ef", in})
		if err != nil {
			t.Fatalf("--search-ef %q: %v", in, err)
		}
		if got, err := c.Vectors.searchEf(); got != want || err != nil {
			t.Errorf("--search-ef %q: %d %v, want %d", in, got, err, want)
		}
	}
	t.Setenv("MEMORYD_SEARCH_EF", "exact")
	c, err := ParseMCP(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Vectors.searchEf(); got != memindex.ExactEf {
		t.Errorf("MEMORYD_SEARCH_EF=exact: %d", got)
	}
}

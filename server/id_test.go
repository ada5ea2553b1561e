package memoryd

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The spec's id pattern (spec/openapi.yaml, MemoryID).
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

func TestIDsGrowWithTime(t *testing.T) {
	t0 := time.UnixMilli(1_780_000_000_000)
	prev := idAt("mem_", t0)
	for i := 1; i <= 1000; i++ {
		id := idAt("mem_", t0.Add(time.Duration(i)*time.Millisecond))
		if id <= prev {
			t.Fatalf("id %s of a later millisecond sorts before %s", id, prev)
		}
		prev = id
	}
}

func TestIDsAreUniqueWithinAMillisecond(t *testing.T) {
	t0 := time.Now()
	seen := map[string]bool{}
	for range 10_000 {
		id := idAt("mem_", t0)
		if seen[id] {
			t.Fatalf("id %s made twice", id)
		}
		seen[id] = true
		if !strings.HasPrefix(id, "mem_") || len(id) != 4+28 || !idPattern.MatchString(id) {
			t.Fatalf("id %q: want mem_ and 28 hex digits", id)
		}
	}
}

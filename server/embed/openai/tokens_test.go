package openai

import (
	"fmt"
	"testing"
)

func TestDistributeTokens(t *testing.T) {
	cases := []struct {
		texts []string
		total int
		want  string
	}{
		{[]string{"aaaa"}, 7, "[7]"},
		{[]string{"aa", "aa"}, 10, "[5 5]"},
		{[]string{"a", "aaaaaaaaa"}, 10, "[1 9]"},
		{[]string{"a", "b", "c"}, 1, "[1 1 1]"},        // fewer tokens than texts
		{[]string{"abc", "abc", "abc"}, 10, "[4 3 3]"}, // remainder to the first of equals
		{[]string{"aaaaaaaa", "a"}, 0, "[2 1]"},        // no usage: ~4 chars a token
		{[]string{"東京タワー"}, 0, "[2]"},                  // characters, not bytes
	}
	for _, c := range cases {
		if got := fmt.Sprint(distributeTokens(c.texts, c.total)); got != c.want {
			t.Errorf("distributeTokens(%q, %d) = %s, want %s", c.texts, c.total, got, c.want)
		}
	}
}

// The parts always add up to the reported total (when it covers 1 a text).
func TestDistributeTokensSums(t *testing.T) {
	texts := []string{"x", "hello there", "a much longer text with many words in it", "ü"}
	for total := len(texts); total < 200; total++ {
		sum := 0
		for _, n := range distributeTokens(texts, total) {
			if n < 1 {
				t.Fatalf("total %d: a text got %d", total, n)
			}
			sum += n
		}
		if sum != total {
			t.Fatalf("total %d: parts add up to %d", total, sum)
		}
	}
}

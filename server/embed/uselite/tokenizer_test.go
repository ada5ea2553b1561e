package uselite

import (
	"slices"
	"testing"
)

// TestTokenizeEdgeCases covers inputs golden.json does not: invalid
// UTF-8, only spaces, and runs of unknown characters.
func TestTokenizeEdgeCases(t *testing.T) {
	e := newEmbedder(t)
	for _, tc := range []struct {
		text string
		want []int // nil: only check it is non-empty and in range
	}{
		{text: "\xff\xfe broken \xc3"},
		{text: " ", want: []int{30, 30}},  // "▁▁": two word markers
		{text: "😀😀😀", want: []int{30, 0}}, // one unknown run merges into one id 0
		{text: "a😀b😀c"},
	} {
		got := e.Tokenize(tc.text)
		if len(got) == 0 {
			t.Errorf("%q: no tokens", tc.text)
		}
		for _, id := range got {
			if id < 0 || id >= vocabRows {
				t.Errorf("%q: id %d out of range", tc.text, id)
			}
		}
		if tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.text, got, tc.want)
		}
	}
	if got := e.Tokenize(""); len(got) != 0 {
		t.Errorf("empty text: got %v", got)
	}
}

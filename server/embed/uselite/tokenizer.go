package uselite

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// reservedPieces is the number of leading vocabulary entries (unknown,
// <s>, </s>, extra tokens) that the upstream tokenizer never emits from
// text; only the unknown id 0 appears, for characters no piece covers.
const reservedPieces = 6

// wordSep is the sentencepiece word-boundary marker (U+2581).
const wordSep = "\u2581"

// piece is one vocabulary entry usable by the tokenizer.
type piece struct {
	id    int32
	score float64
}

// tokenizer reproduces the upstream TF.js sentencepiece-style encoder:
// NFKC, word markers, then a Viterbi search over piece scores. It is
// read-only after construction, so it is safe for concurrent use.
type tokenizer struct {
	pieces  map[string]piece
	maxLen  int   // longest piece, in runes
	pieceRn []int // rune length of every vocabulary entry, by id
}

// newTokenizer parses vocab.json: [[piece, score], ...].
func newTokenizer(vocabJSON []byte) (*tokenizer, error) {
	var raw [][2]any
	if err := json.Unmarshal(vocabJSON, &raw); err != nil {
		return nil, fmt.Errorf("vocab: %w", err)
	}
	t := &tokenizer{pieces: make(map[string]piece, len(raw)), pieceRn: make([]int, len(raw))}
	for i, e := range raw {
		s, ok1 := e[0].(string)
		// A null score (":" has one) counts as 0, as null does in JS
		// arithmetic.
		sc, ok2 := e[1].(float64)
		if !ok1 || !ok2 && e[1] != nil {
			return nil, fmt.Errorf("vocab entry %d: want [string, number]", i)
		}
		n := utf8.RuneCountInString(s)
		t.pieceRn[i] = n
		if i < reservedPieces {
			continue
		}
		// A later duplicate replaces an earlier one, as the upstream trie does.
		t.pieces[s] = piece{id: int32(i), score: sc}
		t.maxLen = max(t.maxLen, n)
	}
	if len(raw) <= reservedPieces {
		return nil, fmt.Errorf("vocab: only %d entries", len(raw))
	}
	// The unknown id stands for exactly one character when walking back.
	t.pieceRn[0] = 1
	return t, nil
}

// prepare applies the upstream input processing: NFKC, then a leading word
// marker and every ASCII space replaced by one.
func prepare(text string) string {
	s := norm.NFKC.String(text)
	if s == "" {
		return ""
	}
	return wordSep + strings.ReplaceAll(s, " ", wordSep)
}

// encode returns the token ids of text, all of them (no truncation).
func (t *tokenizer) encode(text string) []int {
	s := prepare(text)
	if s == "" {
		return nil
	}
	// offs[i] is the byte offset of rune i; offs[n] = len(s).
	offs := make([]int, 0, len(s)+1)
	for i := range s {
		offs = append(offs, i)
	}
	n := len(offs)
	offs = append(offs, len(s))

	// Viterbi over the lattice of pieces. Upstream builds the lattice,
	// then visits each end position's candidates in the order it pushed
	// them: by start, ascending. Relaxing each piece as its start is
	// reached visits them in that same order, with best[start] already
	// final, so no lattice is stored. best == 0 means "unset" upstream,
	// even when a path really scores 0, and ties go to the later
	// candidate; both quirks are kept so ids match exactly. Scores are
	// float64, as in JS.
	best := make([]float64, n+1)
	words := make([]int32, n+1)
	relax := func(end int, id int32, score float64) {
		if best[end] == 0 || score >= best[end] {
			best[end] = score
			words[end] = id
		}
	}
	for i := range n {
		found := false
		for l := 1; l <= t.maxLen && i+l <= n; l++ {
			if p, ok := t.pieces[s[offs[i]:offs[i+l]]]; ok {
				relax(i+l, p.id, p.score+best[i])
				found = true
			}
		}
		if !found {
			// An unknown character: id 0, score 0.
			relax(i+1, 0, best[i])
		}
	}

	// Backward pass, then merge runs of unknown ids into one.
	var rev []int
	for i := n; i > 0; i -= t.pieceRn[words[i]] {
		rev = append(rev, int(words[i]))
	}
	out := make([]int, 0, len(rev))
	prevUnk := false
	for j := len(rev) - 1; j >= 0; j-- {
		id := rev[j]
		if !(prevUnk && id == 0) {
			out = append(out, id)
		}
		prevUnk = id == 0
	}
	return out
}

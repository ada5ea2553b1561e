package service

import (
	"sort"
	"strings"
	"unicode"

	memoryd "github.com/memoryd/memoryd/server"
)

// DefaultAlpha is the weight of the semantic ranking in a hybrid search
// when the request gives none (0 is keyword only, 1 semantic only),
// chosen by measurement on one half of the evaluation set in
// server/searcheval and checked on the other half (README, "Search
// quality"): lower values lose paraphrases, higher ones exact terms.
const DefaultAlpha float32 = 0.4

// fuse combines a semantic and a keyword ranking of the same query into
// one, best first, with scores in 0..1 (relative score fusion):
//
//   - semantic scores are rescaled to 0..1 over the candidates (min-max),
//     so the best semantic match counts 1 whatever the model's range;
//   - keyword scores are rescaled the same way, then multiplied by the
//     square of the share of the query's words the memory contains.
//
// The keyword list matches any word of the query, so for a question
// written in other words than the memory's its best hit often shares
// only "the" or "when"; min-max alone would still give that hit full
// weight and bury the semantic answer. Weighting by word coverage keeps
// a hit that contains the whole query (an id, a name) at full weight and
// shrinks one that shares a word or two.
func fuse(sem, kw []memoryd.Scored, texts map[string]string, query string, alpha float32, limit int) []memoryd.Scored {
	fused := map[string]float32{}
	for id, s := range rescale(sem) {
		fused[id] += alpha * s
	}
	qw := distinctWords(query)
	for id, s := range rescale(kw) {
		c := coverage(qw, texts[id])
		fused[id] += (1 - alpha) * s * c * c
	}
	out := make([]memoryd.Scored, 0, len(fused))
	for id, s := range fused {
		out = append(out, memoryd.Scored{ID: id, Score: min(max(s, 0), 1)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(len(out), limit)]
}

// rescale maps a ranking's scores onto 0..1 (best 1, worst 0); a single
// hit, or hits that all score the same, get 1.
func rescale(list []memoryd.Scored) map[string]float32 {
	out := make(map[string]float32, len(list))
	if len(list) == 0 {
		return out
	}
	hi, lo := list[0].Score, list[0].Score
	for _, h := range list {
		hi, lo = max(hi, h.Score), min(lo, h.Score)
	}
	for _, h := range list {
		if hi > lo {
			out[h.ID] = (h.Score - lo) / (hi - lo)
		} else {
			out[h.ID] = 1
		}
	}
	return out
}

// words splits text into lower-case words of letters and digits, as the
// stores' full-text search does.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func distinctWords(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words(text) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// coverage is the share of the query words qw that text contains.
func coverage(qw []string, text string) float32 {
	if len(qw) == 0 {
		return 0
	}
	has := map[string]bool{}
	for _, w := range words(text) {
		has[w] = true
	}
	n := 0
	for _, w := range qw {
		if has[w] {
			n++
		}
	}
	return float32(n) / float32(len(qw))
}

package openai

import "unicode/utf8"

// distributeTokens splits a request's prompt_tokens over its texts.
//
// The OpenAI API reports token usage per request only, so per-text counts
// are an ESTIMATE: the total is attributed in proportion to each text's
// length in characters (largest-remainder rounding, so the parts add up to
// the total, and every text gets at least 1). When the server reports no
// usage at all (some OpenAI-compatible servers omit it), each text is
// estimated at one token per 4 characters, the usual rule of thumb for
// English with BPE tokenisers.
func distributeTokens(texts []string, total int) []int {
	out := make([]int, len(texts))
	lens := make([]int, len(texts))
	sumLen := 0
	for i, t := range texts {
		lens[i] = max(utf8.RuneCountInString(t), 1)
		sumLen += lens[i]
	}
	if total <= 0 {
		for i, l := range lens {
			out[i] = (l + 3) / 4
		}
		return out
	}
	if total < len(texts) {
		// Fewer tokens than texts cannot be split with at least 1 each.
		total = len(texts)
	}
	// Largest-remainder apportionment: floor shares, then the leftover
	// tokens to the largest fractional parts (first wins ties).
	rem := make([]int, len(texts))
	given := 0
	for i, l := range lens {
		out[i] = total * l / sumLen
		rem[i] = total * l % sumLen
		given += out[i]
	}
	for left := total - given; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
	}
	// A text too short for a whole token still cost at least one: take it
	// from the largest count (which has >= 2, since total >= len(texts)).
	for i := range out {
		if out[i] == 0 {
			out[largest(out)]--
			out[i] = 1
		}
	}
	return out
}

func largest(xs []int) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

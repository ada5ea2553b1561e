// Package hash is a deterministic feature-hashing embedder. It needs no
// weights and no network, so tests and zero-weight builds use it; texts that
// share words land close together, which is all keyword-ish search needs.
package hash

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"

	memoryd "github.com/memoryd/memoryd/server"
)

// DefaultDims is the dimension New uses when given 0 or less.
const DefaultDims = 512

// FNV-1a 64-bit parameters.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Embedder hashes unigrams and bigrams into signed buckets. It holds no
// mutable state, so it is safe for concurrent use.
type Embedder struct {
	dims  int
	model string
}

var _ memoryd.Embedder = (*Embedder)(nil)

// New returns an embedder of dims dimensions (DefaultDims when dims <= 0).
func New(dims int) *Embedder {
	if dims <= 0 {
		dims = DefaultDims
	}
	return &Embedder{dims: dims, model: "hash-" + strconv.Itoa(dims)}
}

// Model returns "hash-<dims>", e.g. "hash-512".
func (e *Embedder) Model() string { return e.model }

// Dims returns the vector dimension.
func (e *Embedder) Dims() int { return e.dims }

// Embed returns one unit vector per text. A text without any letter or digit
// has no features and would give a zero vector, which cosine similarity
// cannot rank: that is an *memoryd.Error with code EINVALID.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([]memoryd.Embedding, error) {
	out := make([]memoryd.Embedding, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vec := make([]float32, e.dims)
		n := e.accumulate(t, vec)
		if n == 0 || !normalize(vec) {
			return nil, &memoryd.Error{
				Code:    memoryd.EINVALID,
				Message: fmt.Sprintf("text %d has no words to embed", i),
				Details: map[string]any{"index": i},
			}
		}
		out[i] = memoryd.Embedding{Vector: vec, Tokens: n}
	}
	return out, nil
}

// accumulate adds the features of text to vec and returns the number of
// word tokens. Tokens are maximal runs of letters and digits, lowercased;
// each is hashed on the fly (no token strings are allocated).
func (e *Embedder) accumulate(text string, vec []float32) int {
	var (
		n       int
		prev    uint64
		cur     uint64 = fnvOffset
		inToken bool
	)
	flush := func() {
		add(vec, cur, 1)
		if n > 0 {
			// Bigram feature: mix the previous token's hash with this one's,
			// weighted lower so shared words dominate shared phrases.
			add(vec, mix(prev, cur), 0.5)
		}
		prev, cur, inToken = cur, fnvOffset, false
		n++
	}
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		if !isWordRune(r) {
			if inToken {
				flush()
			}
			continue
		}
		inToken = true
		if r < utf8.RuneSelf {
			// ASCII fast path: lowercase and hash the byte directly.
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			cur = (cur ^ uint64(r)) * fnvPrime
			continue
		}
		cur = hashRune(cur, unicode.ToLower(r))
	}
	if inToken {
		flush()
	}
	return n
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// hashRune feeds the UTF-8 bytes of r into an FNV-1a state.
func hashRune(h uint64, r rune) uint64 {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	for _, b := range buf[:n] {
		h ^= uint64(b)
		h *= fnvPrime
	}
	return h
}

// mix combines two token hashes into a bigram hash, order-sensitive. It
// multiplies the first by an odd constant (so mix(a, b) != mix(b, a)) and
// runs the splitmix64 finaliser, which spreads every input bit over the
// bucket and sign bits; cheaper than feeding 16 more bytes through FNV-1a.
func mix(a, b uint64) uint64 {
	x := a*0x9e3779b97f4a7c15 ^ b
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// add puts weight w into the bucket chosen by h, with a sign taken from a
// high bit so collisions cancel on average instead of piling up.
func add(vec []float32, h uint64, w float32) {
	// Lemire's multiply-shift maps the low 32 bits onto [0, len) without a
	// division.
	idx := ((h & 0xffffffff) * uint64(len(vec))) >> 32
	if h>>63 == 1 {
		w = -w
	}
	vec[idx] += w
}

// normalize scales vec to unit length; false when it is all zeros (every
// feature cancelled out).
func normalize(vec []float32) bool {
	// Four independent accumulators break the add dependency chain, which
	// otherwise dominates short texts.
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(vec); i += 4 {
		v := vec[i : i+4 : i+4]
		s0 += float64(v[0]) * float64(v[0])
		s1 += float64(v[1]) * float64(v[1])
		s2 += float64(v[2]) * float64(v[2])
		s3 += float64(v[3]) * float64(v[3])
	}
	for ; i < len(vec); i++ {
		s0 += float64(vec[i]) * float64(vec[i])
	}
	sum := (s0 + s1) + (s2 + s3)
	if sum == 0 {
		return false
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range vec {
		vec[i] *= inv
	}
	return true
}

// Package vecdata makes the synthetic vector sets the index tests and the
// search benchmarks share: clusters shaped like text embeddings, hard on
// purpose when the noise is large.
package vecdata

import (
	"math"
	"math/rand/v2"
)

// Clustered returns n vectors around `clusters` random centres of expected
// norm 1 plus Gaussian noise of expected norm spread: related texts share
// a direction, unrelated ones are nearly orthogonal. 0.6 gives a typical
// cosine of ~0.75 to the centre; 1.6 with many clusters makes the true
// top 10 mix cluster mates with near-misses. The same seed gives the same
// vectors.
func Clustered(seed uint64, n, dim, clusters int, spread float64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, clusters)
	for c := range centres {
		centres[c] = Gaussian(r, dim, 1)
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(clusters)]
		noise := Gaussian(r, dim, spread)
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(c[j] + noise[j])
		}
		out[i] = v
	}
	return out
}

// Gaussian returns a random vector of expected norm `norm`.
func Gaussian(r *rand.Rand, dim int, norm float64) []float64 {
	v := make([]float64, dim)
	s := norm / math.Sqrt(float64(dim))
	for j := range v {
		v[j] = r.NormFloat64() * s
	}
	return v
}

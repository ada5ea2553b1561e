package memindex

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	memoryd "github.com/memoryd/memoryd/server"
)

// clustered returns n vectors around `clusters` random centres, like text
// embeddings: related texts share a direction, unrelated ones are nearly
// orthogonal. spread is the noise norm relative to the unit centre (0.6
// gives a typical cosine of ~0.75 to the centre).
func clustered(seed uint64, n, dim, clusters int, spread float64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, clusters)
	for c := range centres {
		centres[c] = gaussian(r, dim, 1)
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(clusters)]
		noise := gaussian(r, dim, spread)
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(c[j] + noise[j])
		}
		out[i] = v
	}
	return out
}

// gaussian returns a random vector of expected norm `norm`.
func gaussian(r *rand.Rand, dim int, norm float64) []float64 {
	v := make([]float64, dim)
	s := norm / math.Sqrt(float64(dim))
	for j := range v {
		v[j] = r.NormFloat64() * s
	}
	return v
}

// exactTopK is the brute-force reference: cosine over every vector.
func exactTopK(vecs [][]float32, q []float32, k int) []memoryd.Scored {
	qn := unit(q)
	out := make([]memoryd.Scored, len(vecs))
	for i, v := range vecs {
		out[i] = memoryd.Scored{ID: itoa(i), Score: dot(qn, unit(v))}
	}
	slices.SortFunc(out, func(a, b memoryd.Scored) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out[:min(k, len(out))]
}

func unit(v []float32) []float32 {
	u, err := normalized(v, "vector")
	if err != nil {
		panic(err)
	}
	return u
}

func itoa(i int) string { return "m" + strconv.Itoa(i) }

func recallAt(got, want []memoryd.Scored) float64 {
	seen := map[string]bool{}
	for _, h := range got {
		seen[h.ID] = true
	}
	n := 0
	for _, h := range want {
		if seen[h.ID] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

package memindex

import (
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/memoryd/memoryd/internal/vecdata"
	memoryd "github.com/memoryd/memoryd/server"
)

// clustered is vecdata.Clustered (the sets the search benchmarks use).
func clustered(seed uint64, n, dim, clusters int, spread float64) [][]float32 {
	return vecdata.Clustered(seed, n, dim, clusters, spread)
}

func gaussian(r *rand.Rand, dim int, norm float64) []float64 { return vecdata.Gaussian(r, dim, norm) }

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

// latentClusters is harder and closer to text embeddings than clustered:
// points live near a 48-dimensional subspace (text embeddings have a low
// intrinsic dimension), in 1000 overlapping clusters whose noise norms are
// drawn from [lo, hi) (unit-norm centres: above ~1 the clusters merge),
// spread into dim dimensions by a random linear map plus a little
// isotropic noise. Nearest neighbours then cross cluster borders and the
// top-10 is not simply "the cluster".
func latentClusters(seed uint64, n, dim int, lo, hi float64) [][]float32 {
	const latent, clusters = 48, 1000
	r := rand.New(rand.NewPCG(seed, 11))
	proj := make([][]float64, latent)
	for i := range proj {
		proj[i] = gaussian(r, dim, 1)
	}
	centres := make([][]float64, clusters)
	spreads := make([]float64, clusters)
	for c := range centres {
		centres[c] = gaussian(r, latent, 1)
		spreads[c] = lo + (hi-lo)*r.Float64()
	}
	out := make([][]float32, n)
	z := make([]float64, latent)
	for i := range out {
		c := r.IntN(clusters)
		noise := gaussian(r, latent, spreads[c])
		for j := range z {
			z[j] = centres[c][j] + noise[j]
		}
		v := gaussian(r, dim, 0.15)
		for j, zj := range z {
			for d, p := range proj[j] {
				v[d] += zj * p
			}
		}
		out[i] = make([]float32, dim)
		for d := range v {
			out[i][d] = float32(v[d])
		}
	}
	return out
}

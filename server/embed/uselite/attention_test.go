package uselite

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveAttention is the reference, per head, in float64.
func naiveAttention(qkv []float32, s seq, dim int, scale float32) []float32 {
	hd := dim / numHeads
	out := make([]float32, (s.off+s.n)*dim)
	for h := range numHeads {
		for i := range s.n {
			q := qkv[(s.off+i)*3*dim+h*hd:][:hd]
			p := make([]float64, s.n)
			mx := math.Inf(-1)
			for j := range s.n {
				k := qkv[(s.off+j)*3*dim+dim+h*hd:][:hd]
				var d float64
				for t := range hd {
					d += float64(q[t]*scale) * float64(k[t])
				}
				p[j] = d
				mx = max(mx, d)
			}
			var sum float64
			for j := range p {
				p[j] = math.Exp(p[j] - mx)
				sum += p[j]
			}
			for t := range hd {
				var o float64
				for j := range s.n {
					o += p[j] / sum * float64(qkv[(s.off+j)*3*dim+2*dim+h*hd+t])
				}
				out[(s.off+i)*dim+h*hd+t] = float32(o)
			}
		}
	}
	return out
}

func randQKV(r *rand.Rand, rows, dim int) []float32 {
	qkv := make([]float32, rows*3*dim)
	for i := range qkv {
		qkv[i] = 2*r.Float32() - 1
	}
	return qkv
}

func TestAttentionMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{embDims, hidDims} {
		// Two texts; check the second, which starts at a nonzero row.
		seqs := []seq{{0, 5}, {5, 21}}
		var toks []token
		for i, s := range seqs {
			for p := range s.n {
				toks = append(toks, token{pos: int32(p), seq: int32(i)})
			}
		}
		qkv := randQKV(r, len(toks), dim)
		scale := float32(1 / math.Sqrt(float64(dim/numHeads)))
		got := make([]float32, len(toks)*dim)
		attendRows(got, qkv, seqs, toks, 0, len(toks), dim, scale)
		want := naiveAttention(qkv, seqs[1], dim, scale)
		for i := seqs[1].off * dim; i < len(want); i++ {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Fatalf("dim %d: element %d = %v, want %v", dim, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkAttention is layer 1's attention for one 26-token text.
func BenchmarkAttention(b *testing.B) {
	const n = 26
	r := rand.New(rand.NewPCG(3, 4))
	qkv := randQKV(r, n, hidDims)
	seqs := []seq{{0, n}}
	toks := make([]token, n)
	dst := make([]float32, n*hidDims)
	for b.Loop() {
		attendRows(dst, qkv, seqs, toks, 0, n, hidDims, 0.088)
	}
}

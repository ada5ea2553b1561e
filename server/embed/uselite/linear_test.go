package uselite

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randLinear is a layer with random weights, for kernel tests.
func randLinear(r *rand.Rand, in, out int) *linear {
	w := make([]float32, in*out)
	b := make([]float32, out)
	for i := range w {
		w[i] = r.Float32() - 0.5
	}
	for i := range b {
		b[i] = r.Float32() - 0.5
	}
	return newLinear(w, b, in, out)
}

// naiveForward is the reference: a dot product per output, in float64.
func naiveForward(l *linear, src []float32, rows int, ep epilogue) []float32 {
	out := make([]float32, rows*l.out)
	for r := range rows {
		for j := range l.out {
			s := float64(l.b[j])
			for k := range l.in {
				s += float64(src[r*l.in+k]) * float64(l.w[k*l.out+j])
			}
			if ep.add != nil {
				s += float64(ep.add[r*l.out+j])
			}
			if ep.relu {
				s = max(s, 0)
			}
			out[r*l.out+j] = float32(s)
		}
	}
	return out
}

func TestLinearMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		in, out, rows, workers int
		sparse, relu, add      bool
	}{
		{256, 512, 7, 1, false, false, false},
		{256, 768, 26, 2, false, true, false},
		{512, 1536, 3, 3, false, false, true},
		{1536, 512, 26, 2, true, false, true},
		{1536, 512, 1, 1, true, false, false},
		{6, 32, 5, 2, false, true, true}, // in not a multiple of 4
		{7, 48, 4, 2, true, false, false},
	} {
		l := randLinear(r, tc.in, tc.out)
		src := make([]float32, tc.rows*tc.in)
		for i := range src {
			if !tc.sparse || r.IntN(10) == 0 {
				src[i] = r.Float32() - 0.5
			}
		}
		var ep epilogue
		ep.relu = tc.relu
		if tc.add {
			ep.add = make([]float32, tc.rows*tc.out)
			for i := range ep.add {
				ep.add[i] = r.Float32()
			}
		}
		want := naiveForward(l, src, tc.rows, ep)
		got := make([]float32, len(want))
		split(tc.rows, tc.workers, func(lo, hi int) {
			if tc.sparse {
				l.forwardSparse(got, src, lo, hi, ep)
			} else {
				l.forward(got, src, lo, hi, ep)
			}
		})
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-4 {
				t.Fatalf("%+v: element %d = %v, want %v", tc, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkLinearFF1 is the largest layer (512 -> 1536) on the rows of one
// 26-token text, on one goroutine: the kernel's raw speed.
func BenchmarkLinearFF1(b *testing.B) {
	const rows = 26
	r := rand.New(rand.NewPCG(1, 2))
	l := randLinear(r, hidDims, ffDims)
	src := make([]float32, rows*l.in)
	for i := range src {
		src[i] = r.Float32()
	}
	dst := make([]float32, rows*l.out)
	for b.Loop() {
		l.forward(dst, src, 0, rows, epilogue{relu: true})
	}
	b.ReportMetric(float64(b.N)*rows*float64(l.in*l.out)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

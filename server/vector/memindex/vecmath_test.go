package memindex

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDot checks the architecture's dot against a float64 reference at
// every length around the SIMD block sizes.
func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for n := 0; n <= 80; n++ {
		a, b := make([]float32, n), make([]float32, n+3) // b may be longer
		var want float64
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			want += float64(a[i]) * float64(b[i])
		}
		for _, f := range []func(a, b []float32) float32{dot, dotGeneric} {
			if got := f(a, b); math.Abs(float64(got)-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Fatalf("n=%d: dot = %v, want %v", n, got, want)
			}
		}
	}
}

// BenchmarkDot times 512-d dot products, the SIMD one (where the CPU has
// it) and the portable one, in ns per product; an iteration is 10k of
// them so -benchtime 1x still measures something.
func BenchmarkDot(b *testing.B) {
	x, y := make([]float32, 512), make([]float32, 512)
	for i := range x {
		x[i], y[i] = float32(i%7), float32(i%5)
	}
	for name, f := range map[string]func(a, b []float32) float32{"simd": dot, "generic": dotGeneric} {
		b.Run(name, func(b *testing.B) {
			const per = 10_000
			var s float32
			for b.Loop() {
				for range per {
					s += f(x, y)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*per), "ns/dot")
			b.ReportMetric(0, "ns/op")
			if s == 0 {
				b.Fatal("no work done")
			}
		})
	}
}

// TestDot8 checks the architecture's int8 dot against a plain loop at
// every length around the SIMD block sizes, extremes included.
func TestDot8(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for n := 0; n <= 80; n++ {
		a, b := make([]int8, n), make([]int8, n+5)
		var want int32
		for i := range a {
			a[i], b[i] = int8(r.IntN(256)-128), int8(r.IntN(256)-128)
			if n == 64 { // all extremes: the widest sums
				a[i], b[i] = -128, -128
			}
			want += int32(a[i]) * int32(b[i])
		}
		if got := dot8(a, b); got != want {
			t.Fatalf("n=%d: dot8 %d, want %d", n, got, want)
		}
	}
}

// TestQuantize checks that coded dot products of unit vectors stay within
// a small error of the exact ones.
func TestQuantize(t *testing.T) {
	vecs := clustered(9, 200, 512, 10, 1.6)
	codes := make([][]int8, len(vecs))
	scales := make([]float32, len(vecs))
	for i, v := range vecs {
		vecs[i] = unit(v)
		codes[i] = make([]int8, len(v))
		scales[i] = quantize(vecs[i], codes[i])
	}
	var worst float64
	for i := range vecs {
		for j := range i {
			got := float64(dot8(codes[i], codes[j])) * float64(scales[i]) * float64(scales[j])
			worst = max(worst, math.Abs(got-float64(dot(vecs[i], vecs[j]))))
		}
	}
	if worst > 0.01 {
		t.Fatalf("worst coded error %.4f", worst)
	}
}

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

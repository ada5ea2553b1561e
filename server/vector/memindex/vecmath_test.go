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

func BenchmarkDot512(b *testing.B) {
	x, y := make([]float32, 512), make([]float32, 512)
	for i := range x {
		x[i], y[i] = float32(i%7), float32(i%5)
	}
	var s float32
	for b.Loop() {
		s += dot(x, y)
	}
	_ = s
}

func BenchmarkDotGeneric512(b *testing.B) {
	x, y := make([]float32, 512), make([]float32, 512)
	var s float32
	for b.Loop() {
		s += dotGeneric(x, y)
	}
	_ = s
}

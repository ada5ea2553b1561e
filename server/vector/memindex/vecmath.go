package memindex

import (
	"math"

	memoryd "github.com/memoryd/memoryd/server"
)

// dotGeneric is the portable inner loop: four independent accumulators let
// the CPU overlap the multiply-adds, and the re-slice removes bounds checks.
// dot (per architecture) uses SIMD where the CPU has it.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		s0 += a[i]*b[i] + a[i+4]*b[i+4]
		s1 += a[i+1]*b[i+1] + a[i+5]*b[i+5]
		s2 += a[i+2]*b[i+2] + a[i+6]*b[i+6]
		s3 += a[i+3]*b[i+3] + a[i+7]*b[i+7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// normalized returns a unit-length copy of v, or an EINVALID error when v
// is empty, all zeros or not finite (cosine similarity is undefined then).
func normalized(v []float32, what string) ([]float32, error) {
	if len(v) == 0 {
		return nil, memoryd.Errorf(memoryd.EINVALID, "%s is empty", what)
	}
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return nil, memoryd.Errorf(memoryd.EINVALID, "%s must be finite and non-zero", what)
	}
	inv := 1 / math.Sqrt(sum)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out, nil
}

func equalVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package conformance

import (
	"context"
	"math"
)

// Dims returns the dimension of the workspace's vectors, learned once per
// run from a memory the server embeds itself.
func (t *T) Dims(ctx context.Context, c *Client) int {
	v, err := t.suite.fixture("dims-"+c.Name, func() (any, error) {
		sr := t.Create(ctx, c, map[string]any{"text": "dimension probe " + t.RunID})
		if sr.VectorDimensions <= 0 {
			t.Fatalf("vector_dimensions %d", sr.VectorDimensions)
		}
		return sr.VectorDimensions, nil
	})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return v.(int)
}

// unitVector returns a deterministic unit vector; different seeds give
// nearly orthogonal vectors.
func unitVector(dims int, seed uint64) []float64 {
	v := make([]float64, dims)
	x := seed*0x9E3779B97F4A7C15 + 1
	var norm float64
	for i := range v {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v[i] = float64(int64(x%2001)-1000) / 1000
		norm += v[i] * v[i]
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = float64(float32(v[i] / norm)) // representable as float32, as stored
	}
	return v
}

// sameVector compares vectors as float32 values, allowing a little for
// servers that normalise what they store.
func sameVector(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	var dot, ng, nw float64
	for i := range got {
		dot += got[i] * want[i]
		ng += got[i] * got[i]
		nw += want[i] * want[i]
	}
	return ng > 0 && dot/math.Sqrt(ng*nw) > 0.9999
}

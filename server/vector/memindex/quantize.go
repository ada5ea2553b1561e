package memindex

import (
	"math"
	"slices"
)

// Scans (the exact search and the unlinked tail) read every vector they
// score, so their cost is memory bandwidth: a 512-d float32 vector is 2 KiB
// and the dot product is done long before the next one arrives. Each
// vector therefore also keeps an int8 code (a quarter of the bytes) and a
// scale; scans and graph walks rank by the codes and re-rank the best few
// candidates with the float32 vectors, so what they return is scored
// exactly. A unit
// vector's components are coded to 1/127 of its largest one, which puts
// the error of a coded dot product in the thousandths, far below the
// margin of the re-ranked window (rerankOf).

// quantize writes v's code into code and returns its scale: v[i] is about
// code[i] * scale.
func quantize(v []float32, code []int8) float32 {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	if m == 0 {
		clear(code)
		return 0
	}
	inv := 127 / m
	for i, x := range v {
		code[i] = int8(math.Round(float64(x * inv)))
	}
	return m / 127
}

// rerankOf is how many code-ranked candidates a scan keeps for exact
// re-ranking when k are wanted: enough that a true top-k vector lost to
// coding error is vanishingly rare.
func rerankOf(k int) int { return 2*k + 32 }

func dot8Generic(a, b []int8) int32 {
	b = b[:len(a)]
	var s int32
	for i := range a {
		s += int32(a[i]) * int32(b[i])
	}
	return s
}

// coded is a vector's int8 code and scale.
type coded struct {
	code  []int8
	scale float32
}

// codeOf codes a query.
func codeOf(v []float32) coded {
	c := coded{code: make([]int8, len(v))}
	c.scale = quantize(v, c.code)
	return c
}

// code returns slot's stored code.
func (s *space) code(slot int32) coded { return coded{s.codes.row(slot), *s.scales.at(slot)} }

// sim8 is the coded similarity of v and slot's vector.
func (s *space) sim8(v coded, slot int32) float32 {
	return float32(dot8(v.code, s.codes.row(slot))) * v.scale * *s.scales.at(slot)
}

// rescore replaces the coded similarities of items by exact ones against
// v and sorts them best first.
func (s *space) rescore(v []float32, items []item) {
	for i := range items {
		items[i].sim = dot(v, s.vec(items[i].slot))
	}
	slices.SortFunc(items, byBest)
}

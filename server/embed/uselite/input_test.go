package uselite

import (
	"math"
	"testing"
)

// TestInputTableMatchesDirect: the table-based layer-0 projections equal
// the graph's direct computation (embedding lookup, position signal,
// layer norm, matrix products), for the first and a later use of an id.
func TestInputTableMatchesDirect(t *testing.T) {
	m := newEmbedder(t).m
	t.Cleanup(func() {
		for i := range m.input.rows {
			m.input.rows[i].Store(nil)
		}
	})
	bl := &m.blocks[0]
	ids := []int{0, 7, 34, 1275, 7999, 8001, 34} // unknown, pieces, OOV buckets, a repeat
	var toks []token
	for p, id := range ids {
		toks = append(toks, token{id: int32(id), pos: int32(p * 18)}) // spread positions up to 108
	}
	rows := len(toks)

	// Direct: x = e + (e + t); qkv = norm(x)·Wqkv + b; res = x·Wd + bd.
	x := make([]float32, rows*embDims)
	for r, tk := range toks {
		e := m.emb[int(tk.id)*embDims:][:embDims]
		ts := m.timing[int(tk.pos)*embDims:][:embDims]
		for j := range embDims {
			x[r*embDims+j] = e[j] + (e[j] + ts[j])
		}
	}
	h := make([]float32, rows*embDims)
	normRows(h, x, 0, rows, embDims, bl.attnNorm)
	wantQKV := make([]float32, rows*3*embDims)
	bl.qkv.forward(wantQKV, h, 0, rows, epilogue{})
	wantRes := make([]float32, rows*hidDims)
	bl.widen.forward(wantRes, x, 0, rows, epilogue{})

	for pass := range 2 { // first use fills the table, second reads it
		gotQKV := make([]float32, len(wantQKV))
		gotRes := make([]float32, len(wantRes))
		m.input.fill(toks, 2)
		m.input.apply(gotRes, gotQKV, toks, 0, rows)
		if d := maxRelDiff(gotQKV, wantQKV); d > 1e-5 {
			t.Errorf("pass %d: q, k, v differ by %g (relative to the largest value)", pass, d)
		}
		if d := maxRelDiff(gotRes, wantRes); d > 1e-5 {
			t.Errorf("pass %d: residual differs by %g (relative to the largest value)", pass, d)
		}
	}
}

// maxRelDiff is the largest absolute difference divided by the largest
// absolute value of want.
func maxRelDiff(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = max(m, math.Abs(float64(want[i])))
	}
	return d / m
}

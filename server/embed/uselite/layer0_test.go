package uselite

import (
	"math"
	"testing"
)

// TestLayer0MatchesDirect: the table-based layer 0 gives the graph's
// direct computation (embedding, position signal, norm, matrix products,
// attention, feed-forward, layer 1's q, k, v) to 1e-5 relative, for the
// first and a later use of the ids, and past the id cache's capacity.
func TestLayer0MatchesDirect(t *testing.T) {
	m := newEmbedder(t).m
	l0 := m.l0
	t.Cleanup(func() { resetIDCache(l0) })
	ids := []int{0, 7, 34, 1275, 7999, 8001, 34} // unknown, pieces, OOV buckets, a repeat
	seqs := []seq{{0, len(ids)}}
	var toks []token
	for p, id := range ids {
		toks = append(toks, token{id: int32(id), pos: int32(p * 18)}) // positions up to 108
	}
	want := directLayer0(m, toks, seqs)

	resetIDCache(l0)
	for _, pass := range []string{"first use", "cached", "cache full"} {
		if pass == "cache full" {
			resetIDCache(l0)
			l0.cached.Store(maxCachedIDs)
		}
		rows := len(toks)
		w := getWork(rows, 1)
		tab := l0.fill(toks, 2)
		l0.input(w.b, w.qkv0, toks, tab, 0, rows)
		if d := maxRelDiff(w.qkv0[:rows*3*embDims], want.qkv0); d > 1e-5 {
			t.Errorf("%s: layer 0 q, k, v differ by %g (relative)", pass, d)
		}
		attendRows(w.ctx, w.qkv0, seqs, toks, 0, rows, embDims, m.blocks[0].qScale)
		l0.rest(w, toks, tab, 0, rows)
		if d := maxRelDiff(w.b[:rows*hidDims], want.x2); d > 1e-5 {
			t.Errorf("%s: layer 0 output differs by %g (relative)", pass, d)
		}
		if d := maxRelDiff(w.qkv1[:rows*3*hidDims], want.qkv1); d > 1e-5 {
			t.Errorf("%s: layer 1 q, k, v differ by %g (relative)", pass, d)
		}
	}
	if n := l0.cached.Load(); n != maxCachedIDs {
		t.Errorf("cache grew past its capacity: %d ids", n)
	}
}

type layer0Out struct{ qkv0, x2, qkv1 []float32 }

// directLayer0 follows the graph op by op.
func directLayer0(m *model, toks []token, seqs []seq) layer0Out {
	b0, b1 := &m.blocks[0], &m.blocks[1]
	rows := len(toks)
	x0 := make([]float32, rows*embDims)
	for r, tk := range toks {
		e := m.emb[int(tk.id)*embDims:][:embDims]
		ts := m.timing[int(tk.pos)*embDims:][:embDims]
		for j := range embDims {
			x0[r*embDims+j] = e[j] + (e[j] + ts[j])
		}
	}
	out := layer0Out{
		qkv0: make([]float32, rows*3*embDims),
		x2:   make([]float32, rows*hidDims),
		qkv1: make([]float32, rows*3*hidDims),
	}
	h := make([]float32, rows*hidDims)
	normRows(h, x0, 0, rows, embDims, b0.attnNorm)
	b0.qkv.forward(out.qkv0, h, 0, rows, epilogue{})
	res := make([]float32, rows*hidDims)
	b0.widen.forward(res, x0, 0, rows, epilogue{})
	ctx := make([]float32, rows*embDims)
	attendRows(ctx, out.qkv0, seqs, toks, 0, rows, embDims, b0.qScale)
	x1 := make([]float32, rows*hidDims)
	b0.out.forward(x1, ctx, 0, rows, epilogue{add: res})
	normRows(h, x1, 0, rows, hidDims, b0.ffNorm)
	ff := make([]float32, rows*ffDims)
	b0.ff1.forward(ff, h, 0, rows, epilogue{relu: true})
	b0.ff2.forward(out.x2, ff, 0, rows, epilogue{add: x1})
	normRows(h, out.x2, 0, rows, hidDims, b1.attnNorm)
	b1.qkv.forward(out.qkv1, h, 0, rows, epilogue{})
	return out
}

func resetIDCache(l *layer0) {
	for i := range l.ids {
		l.ids[i].Store(nil)
	}
	l.cached.Store(0)
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

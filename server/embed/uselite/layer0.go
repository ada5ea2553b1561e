package uselite

import (
	"sync/atomic"
)

// layer0 runs the first transformer layer and layer 1's q, k, v
// projection with about half the multiply-adds of the plain graph, by
// moving everything that depends only on a token's id or position into
// tables.
//
// A layer norm followed by a matrix is linear but for two numbers per
// row: norm(x)·W + b = r·(x·W' − μ·colsum(W')) + β·W + b, with μ the
// mean of x, r its 1/deviation and W' = diag(g)·W (g, β the norm's scale
// and bias). So every norm-then-matrix step below needs only x·W'.
//
// Layer 0's input is x0 = 2e + t (the graph adds the embedding e twice,
// the position signal t once), so with Wd the residual widening:
//
//	res0   = x0·Wd + bd                      = 2·e·Wd + t·Wd + bd
//	x0·A'  (layer 0's q, k, v)               = 2·e·A' + t·A'
//	x1     = ctx0·Wo + bo + res0             (ctx0: attention output, 256 wide)
//	x1·F'  (layer 0's first FFN matrix)      = ctx0·(Wo·F') + 2·e·(Wd·F') + t·(Wd·F') + (bo+bd)·F'
//	f0     = ReLU(r1·(x1·F' − μ1·colsum F') + …)
//	x2     = f0·W2 + b2 + x1
//	x2·Q'  (layer 1's q, k, v)               = x1·Q' + f0·(W2·Q') + b2·Q'
//
// e·[Wd | A' | Wd·F' | Wd·Q'] is a table row per token id, t·[…] one per
// position; the remaining products take ctx0 (256 wide instead of 512)
// and f0 (over 90% zeros after the ReLU, so the sparse kernel skips
// most of W2 and W2·Q'). Per token that is about 1.17M multiply-adds
// where the graph does 2.82M for the same span (1.77M with the ReLU
// sparsity alone).
//
// Id rows are computed on first use and cached for up to maxCachedIDs
// ids (17 KB each, 71 MB at most); the position rows at load.
type layer0 struct {
	proj   *linear   // [embDims][tableWidth]: Wd | A' | Wd·F' | Wd·Q', no bias
	pos    []float32 // [maxTokens][tableWidth]: t·proj
	ids    []atomic.Pointer[[tableWidth]float32]
	cached atomic.Int64
	emb    []float32 // [vocabRows][embDims]
	timing []float32 // [maxTokens][embDims]

	resBias []float32 // bd
	qkv0    folded    // layer 0's attention norm into its q, k, v
	ctxProj *linear   // [embDims][ctxWidth]: Wo | Wo·F' | Wo·Q', bias bo | (bo+bd)·F' | (bo+bd+b2)·Q'
	ff1     folded    // layer 0's FFN norm into its first FFN matrix
	ff2     *linear   // layer 0's second FFN matrix W2, b2
	ff2Q    *linear   // [ffDims][3*hidDims]: W2·Q', no bias
	qkv1    folded    // layer 1's attention norm into its q, k, v
}

// folded is a layer norm folded into the matrix after it: colsum(W') and
// β·W + b.
type folded struct{ colSum, bias []float32 }

// maxCachedIDs bounds the id rows kept. Frequent ids come first, so a
// full cache still serves most tokens; the others are computed per call.
const maxCachedIDs = 4096

// Table row layout: the widened residual, layer 0's q, k, v, then the
// id's contributions to layer 0's first FFN matrix and to layer 1's q,
// k, v.
const (
	tabRes     = 0
	tabQKV0    = tabRes + hidDims
	tabFF      = tabQKV0 + 3*embDims
	tabQKV1    = tabFF + ffDims
	tableWidth = tabQKV1 + 3*hidDims
)

// ctxProj output layout: x1 without the residual, then ctx0's
// contributions to layer 0's first FFN matrix and to layer 1's q, k, v.
const (
	ctxX1    = 0
	ctxFF    = ctxX1 + hidDims
	ctxQKV1  = ctxFF + ffDims
	ctxWidth = ctxQKV1 + 3*hidDims
)

// newLayer0 derives the tables and fused matrices from layers 0 and 1.
func newLayer0(b0, b1 *block, emb, timing []float32) *layer0 {
	aW, qkv0 := fold(b0.qkv, b0.attnNorm)  // A'
	fW, ff1 := fold(b0.ff1, b0.ffNorm)     // F'
	qW, qkv1 := fold(b1.qkv, b1.attnNorm)  // Q'
	wdF := matmul(b0.widen.w, fW, embDims) // Wd·F'
	wdQ := matmul(b0.widen.w, qW, embDims) // Wd·Q'
	woF := matmul(b0.out.w, fW, embDims)   // Wo·F'
	woQ := matmul(b0.out.w, qW, embDims)   // Wo·Q'

	proj := make([]float32, embDims*tableWidth)
	ctx := make([]float32, embDims*ctxWidth)
	for k := range embDims {
		row := proj[k*tableWidth : (k+1)*tableWidth]
		copy(row[tabRes:], b0.widen.w[k*hidDims:(k+1)*hidDims])
		copy(row[tabQKV0:], aW[k*3*embDims:(k+1)*3*embDims])
		copy(row[tabFF:], wdF[k*ffDims:(k+1)*ffDims])
		copy(row[tabQKV1:], wdQ[k*3*hidDims:(k+1)*3*hidDims])
		row = ctx[k*ctxWidth : (k+1)*ctxWidth]
		copy(row[ctxX1:], b0.out.w[k*hidDims:(k+1)*hidDims])
		copy(row[ctxFF:], woF[k*ffDims:(k+1)*ffDims])
		copy(row[ctxQKV1:], woQ[k*3*hidDims:(k+1)*3*hidDims])
	}

	// Constant terms: (bo+bd)·F' and (bo+bd+b2)·Q'.
	bias := make([]float32, hidDims)
	for j := range bias {
		bias[j] = b0.out.b[j] + b0.widen.b[j]
	}
	ctxBias := make([]float32, ctxWidth)
	copy(ctxBias[ctxX1:], b0.out.b)
	copy(ctxBias[ctxFF:], vecmat(bias, fW, ffDims))
	for j := range bias {
		bias[j] += b0.ff2.b[j]
	}
	copy(ctxBias[ctxQKV1:], vecmat(bias, qW, 3*hidDims))

	l := &layer0{
		proj:    newLinear(proj, make([]float32, tableWidth), embDims, tableWidth),
		pos:     make([]float32, maxTokens*tableWidth),
		ids:     make([]atomic.Pointer[[tableWidth]float32], vocabRows),
		emb:     emb,
		timing:  timing,
		resBias: b0.widen.b,
		qkv0:    qkv0,
		ctxProj: newLinear(ctx, ctxBias, embDims, ctxWidth),
		ff1:     ff1,
		ff2:     b0.ff2,
		ff2Q:    newLinear(matmul(b0.ff2.w, qW, ffDims), make([]float32, 3*hidDims), ffDims, 3*hidDims),
		qkv1:    qkv1,
	}
	l.proj.forward(l.pos, timing, 0, maxTokens, epilogue{})
	return l
}

// fold returns W' = diag(g)·W for the norm ln before l, and its folded
// constants.
func fold(l *linear, ln layerNorm) ([]float32, folded) {
	w := make([]float32, len(l.w))
	sum := make([]float64, l.out)
	bias := make([]float64, l.out)
	for j := range bias {
		bias[j] = float64(l.b[j])
	}
	for k := range l.in {
		g, beta := ln.scale[k], float64(ln.bias[k])
		for j, v := range l.w[k*l.out : (k+1)*l.out] {
			w[k*l.out+j] = g * v
			sum[j] += float64(g * v)
			bias[j] += beta * float64(v)
		}
	}
	f := folded{colSum: make([]float32, l.out), bias: make([]float32, l.out)}
	for j := range sum {
		f.colSum[j], f.bias[j] = float32(sum[j]), float32(bias[j])
	}
	return w, f
}

// matmul returns a·b for a of rows rows and b of len(a)/rows rows, both
// row-major, with the float32 kernel on every core. (Summing in float64
// instead changes no result beyond 1e-7 and takes seconds.)
func matmul(a, b []float32, rows int) []float32 {
	inner := len(a) / rows
	l := newLinear(b, make([]float32, len(b)/inner), inner, len(b)/inner)
	out := make([]float32, rows*l.out)
	split(rows, maxProcs(), func(lo, hi int) { l.forward(out, a, lo, hi, epilogue{}) })
	return out
}

// vecmat returns v·w for w of len(v) rows, summed in float64: the
// constant terms are few and carry no rounding of their own this way.
func vecmat(v, w []float32, cols int) []float32 {
	acc := make([]float64, cols)
	for k, x := range v {
		for j, y := range w[k*cols : (k+1)*cols] {
			acc[j] += float64(x) * float64(y)
		}
	}
	out := make([]float32, cols)
	for j, a := range acc {
		out[j] = float32(a)
	}
	return out
}

// fill returns, for every token, its id's table row: from the cache, or
// computed now (in one batch for the call's missing ids) and cached while
// there is room.
func (l *layer0) fill(toks []token, workers int) []*[tableWidth]float32 {
	rows := make([]*[tableWidth]float32, len(toks))
	var missing []int // ids
	var at map[int]int
	for r, tk := range toks {
		if rows[r] = l.ids[tk.id].Load(); rows[r] != nil {
			continue
		}
		if at == nil {
			at = map[int]int{}
		}
		if _, ok := at[int(tk.id)]; !ok {
			at[int(tk.id)] = len(missing)
			missing = append(missing, int(tk.id))
		}
	}
	if len(missing) == 0 {
		return rows
	}
	src := make([]float32, len(missing)*embDims)
	for i, id := range missing {
		copy(src[i*embDims:(i+1)*embDims], l.emb[id*embDims:(id+1)*embDims])
	}
	dst := make([]float32, len(missing)*tableWidth)
	split(len(missing), workers, func(lo, hi int) { l.proj.forward(dst, src, lo, hi, epilogue{}) })
	for r, tk := range toks {
		if rows[r] == nil {
			rows[r] = (*[tableWidth]float32)(dst[at[int(tk.id)]*tableWidth:])
		}
	}
	for i, id := range missing {
		// A concurrent call may have stored the same (identical) row.
		if l.cached.Load() < maxCachedIDs && l.ids[id].CompareAndSwap(nil, (*[tableWidth]float32)(dst[i*tableWidth:])) {
			l.cached.Add(1)
		}
	}
	return rows
}

// input writes rows [lo, hi) of layer 0's widened residual into res
// ([rows][hidDims]) and its q, k, v into qkv ([rows][3*embDims]).
func (l *layer0) input(res, qkv []float32, toks []token, tab []*[tableWidth]float32, lo, hi int) {
	const q = 3 * embDims
	var x [embDims]float32
	for r := lo; r < hi; r++ {
		id, p := int(toks[r].id), int(toks[r].pos)
		e, t := tab[r], l.pos[p*tableWidth:(p+1)*tableWidth]
		// The norm statistics of the row the graph would build.
		emb, ts := l.emb[id*embDims:(id+1)*embDims], l.timing[p*embDims:(p+1)*embDims]
		for j := range x {
			x[j] = emb[j] + (emb[j] + ts[j])
		}
		mean, inv := normStats(x[:])

		rr := res[r*hidDims : (r+1)*hidDims]
		for j := range rr {
			rr[j] = 2*e[tabRes+j] + t[tabRes+j] + l.resBias[j]
		}
		l.qkv0.apply(qkv[r*q:(r+1)*q], e[tabQKV0:], t[tabQKV0:], nil, mean, inv)
	}
}

// rest runs rows [lo, hi) from layer 0's attention output (w.ctx) to
// layer 1's q, k, v (w.qkv1), given the residual (w.b, from input). It
// leaves x2, layer 1's residual, in w.b and uses w.a, w.ff, w.u and w.tq.
func (l *layer0) rest(w *work, toks []token, tab []*[tableWidth]float32, lo, hi int) {
	l.ctxProj.forward(w.u, w.ctx, lo, hi, epilogue{})
	for r := lo; r < hi; r++ {
		e, t := tab[r], l.pos[int(toks[r].pos)*tableWidth:][:tableWidth]
		u := w.u[r*ctxWidth : (r+1)*ctxWidth]
		x1, res := w.a[r*hidDims:(r+1)*hidDims], w.b[r*hidDims:(r+1)*hidDims]
		for j := range x1 {
			x1[j] = u[ctxX1+j] + res[j]
		}
		mean, inv := normStats(x1)
		f := w.ff[r*ffDims : (r+1)*ffDims]
		l.ff1.apply(f, e[tabFF:], t[tabFF:], u[ctxFF:], mean, inv)
		for j, v := range f {
			f[j] = max(v, 0)
		}
	}
	l.ff2.forwardSparse(w.b, w.ff, lo, hi, epilogue{add: w.a})
	l.ff2Q.forwardSparse(w.tq, w.ff, lo, hi, epilogue{})
	const q = 3 * hidDims
	for r := lo; r < hi; r++ {
		e, t := tab[r], l.pos[int(toks[r].pos)*tableWidth:][:tableWidth]
		u, tq := w.u[r*ctxWidth:(r+1)*ctxWidth], w.tq[r*q:(r+1)*q]
		for j, v := range u[ctxQKV1 : ctxQKV1+q] {
			tq[j] += v
		}
		mean, inv := normStats(w.b[r*hidDims : (r+1)*hidDims])
		l.qkv1.apply(w.qkv1[r*q:(r+1)*q], e[tabQKV1:], t[tabQKV1:], tq, mean, inv)
	}
}

// apply writes the output of a folded norm-then-matrix step: dst =
// inv·(2·e + t + other − mean·colSum) + bias, where 2·e + t (+ other)
// is x·W'. other may be nil.
func (f folded) apply(dst, e, t, other []float32, mean, inv float32) {
	e, t = e[:len(dst)], t[:len(dst)]
	cs, b := f.colSum[:len(dst)], f.bias[:len(dst)]
	if other == nil {
		for j := range dst {
			dst[j] = inv*(2*e[j]+t[j]-mean*cs[j]) + b[j]
		}
		return
	}
	other = other[:len(dst)]
	for j := range dst {
		dst[j] = inv*(2*e[j]+t[j]+other[j]-mean*cs[j]) + b[j]
	}
}

package uselite

import (
	"math"
	"sync/atomic"
)

// inputTable computes layer 0's query/key/value projection and widened
// residual from per-token and per-position tables instead of per-row
// matrix products.
//
// Layer 0's input is linear in the token's embedding e and the position
// signal t: x = 2e + t. The widened residual x·Wd + bd is then
// 2(e·Wd) + t·Wd + bd. The projection of the layer norm,
// norm(x)·Wqkv + b with norm(x) = g∘(x-μ)·r + β, is
// r·(x·W' - μ·colsum(W')) + β·Wqkv + b where W' = diag(g)·Wqkv, and
// x·W' = 2(e·W') + t·W'. Only μ and r depend on the whole row; they take
// 256 operations instead of 328k multiply-adds.
//
// The e·[Wd | W'] rows are computed on first use of each token id and
// kept (at most 8002 rows of 5 KB, 41 MB, in practice the ids a workload
// uses); the position rows are computed at load.
type inputTable struct {
	proj    *linear   // [embDims][hidDims + 3*embDims]: Wd | W', no bias
	pos     []float32 // [maxTokens][tableWidth]: t·[Wd | W']
	colSum  []float32 // [3*embDims]: colsum(W')
	qkvBias []float32 // [3*embDims]: β·Wqkv + b
	resBias []float32 // [hidDims]: bd
	emb     []float32 // [vocabRows][embDims]
	timing  []float32 // [maxTokens][embDims]
	rows    []atomic.Pointer[[tableWidth]float32]
}

// tableWidth is the width of one table row: the widened residual, then
// q, k and v.
const tableWidth = hidDims + 3*embDims

// newInputTable derives the tables from layer 0's weights.
func newInputTable(bl *block, emb, timing []float32) *inputTable {
	in, q := bl.dim, bl.qkv.out
	w := make([]float32, in*tableWidth)
	sum := make([]float64, q)  // colsum(W')
	bias := make([]float64, q) // β·Wqkv + b
	for j := range bias {
		bias[j] = float64(bl.qkv.b[j])
	}
	for k := range in {
		row := w[k*tableWidth : (k+1)*tableWidth]
		copy(row, bl.widen.w[k*hidDims:(k+1)*hidDims])
		g, beta := bl.attnNorm.scale[k], float64(bl.attnNorm.bias[k])
		for j, v := range bl.qkv.w[k*q : (k+1)*q] {
			row[hidDims+j] = g * v
			sum[j] += float64(g * v)
			bias[j] += beta * float64(v)
		}
	}
	colSum := make([]float32, q)
	qkvBias := make([]float32, q)
	for j := range q {
		colSum[j], qkvBias[j] = float32(sum[j]), float32(bias[j])
	}
	t := &inputTable{
		proj:    newLinear(w, make([]float32, tableWidth), in, tableWidth),
		pos:     make([]float32, maxTokens*tableWidth),
		colSum:  colSum,
		qkvBias: qkvBias,
		resBias: bl.widen.b,
		emb:     emb,
		timing:  timing,
		rows:    make([]atomic.Pointer[[tableWidth]float32], vocabRows),
	}
	t.proj.forward(t.pos, timing, 0, maxTokens, epilogue{})
	return t
}

// fill makes sure every id in toks has its table row, computing the
// missing ones in one batch.
func (t *inputTable) fill(toks []token, workers int) {
	var missing []int
	var seen map[int]bool
	for _, tk := range toks {
		if id := int(tk.id); t.rows[id].Load() == nil && !seen[id] {
			if seen == nil {
				seen = map[int]bool{}
			}
			seen[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return
	}
	src := make([]float32, len(missing)*embDims)
	for i, id := range missing {
		copy(src[i*embDims:(i+1)*embDims], t.emb[id*embDims:(id+1)*embDims])
	}
	dst := make([]float32, len(missing)*tableWidth)
	split(len(missing), workers, func(lo, hi int) { t.proj.forward(dst, src, lo, hi, epilogue{}) })
	for i, id := range missing {
		// A concurrent call may have stored the same (identical) row.
		t.rows[id].CompareAndSwap(nil, (*[tableWidth]float32)(dst[i*tableWidth:]))
	}
}

// apply writes rows [lo, hi) of layer 0's widened residual
// ([rows][hidDims]) and q, k, v ([rows][3*embDims]) for the tokens, whose
// table rows fill has computed.
func (t *inputTable) apply(res, qkv []float32, toks []token, lo, hi int) {
	const q = 3 * embDims
	var x [embDims]float32
	for r := lo; r < hi; r++ {
		id, p := int(toks[r].id), int(toks[r].pos)
		er, pr := t.rows[id].Load(), t.pos[p*tableWidth:(p+1)*tableWidth]
		// Layer-norm statistics of the row the graph would build.
		e, ts := t.emb[id*embDims:(id+1)*embDims], t.timing[p*embDims:(p+1)*embDims]
		for j := range x {
			x[j] = e[j] + (e[j] + ts[j])
		}
		mean, inv := normStats(x[:])

		rr := res[r*hidDims : (r+1)*hidDims]
		for j := range rr {
			rr[j] = 2*er[j] + pr[j] + t.resBias[j]
		}
		qr := qkv[r*q : (r+1)*q]
		eq, pq := er[hidDims:], pr[hidDims:]
		for j := range qr {
			qr[j] = inv*(2*eq[j]+pq[j]-mean*t.colSum[j]) + t.qkvBias[j]
		}
	}
}

// normStats returns the mean of x and 1/sqrt(variance + epsilon), as
// layer norm computes them.
func normStats(x []float32) (mean, inv float32) {
	var sum float32
	for _, v := range x {
		sum += v
	}
	mean = sum / float32(len(x))
	var sq float32
	for _, v := range x {
		d := v - mean
		sq += d * d
	}
	return mean, float32(1 / math.Sqrt(float64(sq/float32(len(x))+lnEpsilon)))
}

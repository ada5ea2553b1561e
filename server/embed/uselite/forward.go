package uselite

import (
	"math"
	"sync"
)

// seq locates one text's rows in the batch matrices.
type seq struct{ off, n int }

// token is one row of the batch: its id, its position in its text and
// the text's index.
type token struct{ id, pos, seq int32 }

// work holds the activations of one forward pass. Every token of every
// text is one row, so the dense layers run once over the whole batch and
// only attention and pooling look at text boundaries.
type work struct {
	a, b   []float32 // residual stream, [rows][hidDims], used alternately
	h      []float32 // layer-norm output, [rows][hidDims]
	qkv0   []float32 // layer 0 q, k, v: [rows][3*embDims]
	qkv1   []float32 // layer 1 q, k, v: [rows][3*hidDims]
	ctx    []float32 // attention output, [rows][hidDims]
	u      []float32 // layer 0's attention output projected, [rows][ctxWidth]
	tq     []float32 // layer 1's q, k, v in the making, [rows][3*hidDims]
	ff     []float32 // [rows][ffDims]
	ffMean []float32 // [texts][ffDims]
	pooled []float32 // [texts][hidDims]
	out    []float32 // [texts][hidDims]
}

var workPool sync.Pool

// getWork returns a work sized for rows tokens and texts texts, reusing
// a pooled one when it is large enough.
func getWork(rows, texts int) *work {
	w, _ := workPool.Get().(*work)
	if w == nil {
		w = &work{}
	}
	w.a = grow(w.a, rows*hidDims)
	w.b = grow(w.b, rows*hidDims)
	w.h = grow(w.h, rows*hidDims)
	w.qkv0 = grow(w.qkv0, rows*3*embDims)
	w.qkv1 = grow(w.qkv1, rows*3*hidDims)
	w.ctx = grow(w.ctx, rows*hidDims)
	w.u = grow(w.u, rows*ctxWidth)
	w.tq = grow(w.tq, rows*3*hidDims)
	w.ff = grow(w.ff, rows*ffDims)
	w.ffMean = grow(w.ffMean, texts*ffDims)
	w.pooled = grow(w.pooled, texts*hidDims)
	w.out = grow(w.out, texts*hidDims)
	return w
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// embedBatch runs the encoder on token lists (each 1..maxTokens long) and
// writes one unit vector per list into out.
//
// Work is split across goroutines by rows (tokens): a goroutine runs a
// whole chain of layers on its rows, from attention (for its rows as
// queries) to the next layer's q, k, v, without waiting for the others.
// They meet only where a row needs other rows' keys and values, before
// each attention, and before pooling. Layers 0 and 1 have their own q, k,
// v buffers, so one goroutine can write layer 1's while another still
// reads layer 0's.
func (m *model) embedBatch(ids [][]int, out [][]float32, workers int) {
	seqs := make([]seq, len(ids))
	var toks []token
	for i, t := range ids {
		seqs[i] = seq{off: len(toks), n: len(t)}
		for p, id := range t {
			toks = append(toks, token{id: int32(id), pos: int32(p), seq: int32(i)})
		}
	}
	rows := len(toks)
	w := getWork(rows, len(ids))
	defer workPool.Put(w)
	b0, b1 := &m.blocks[0], &m.blocks[1]

	// Layer 0 and layer 1's q, k, v come from the tables of m.l0.
	tab := m.l0.fill(toks, workers)
	split(rows, workers, func(lo, hi int) { m.l0.input(w.b, w.qkv0, toks, tab, lo, hi) })
	split(rows, workers, func(lo, hi int) {
		attendRows(w.ctx, w.qkv0, seqs, toks, lo, hi, b0.dim, b0.qScale)
		m.l0.rest(w, toks, tab, lo, hi)
	})
	split(rows, workers, func(lo, hi int) {
		attendRows(w.ctx, w.qkv1, seqs, toks, lo, hi, b1.dim, b1.qScale)
		b1.out.forward(w.a, w.ctx, lo, hi, epilogue{add: w.b})
		b1.feedForward1(w, w.a, lo, hi)
	})
	each(len(seqs), workers, func(i int) { m.pool(w, seqs, i, out[i]) })
}

// pool finishes text i: the mean of layer 1's output over the text's rows,
// the tanh layer and the normalisation. Layer 1's second feed-forward
// layer is linear, so it commutes with the mean: it runs once per text,
// on the mean ReLU activation, instead of once per token.
func (m *model) pool(w *work, seqs []seq, i int, out []float32) {
	s := seqs[i : i+1]
	ffMean := w.ffMean[i*ffDims : (i+1)*ffDims]
	xMean := w.pooled[i*hidDims : (i+1)*hidDims]
	enc := w.out[i*hidDims : (i+1)*hidDims]
	meanPool(ffMean, w.ff, s, ffDims)
	meanPool(xMean, w.a, s, hidDims)
	m.blocks[1].ff2.forward(enc, ffMean, 0, 1, epilogue{add: xMean})
	hid := xMean // free again: reuse it for the tanh layer
	m.hidden.forward(hid, enc, 0, 1, epilogue{})
	for j, v := range hid {
		hid[j] = float32(math.Tanh(float64(v)))
	}
	l2Normalize(out, hid)
}

// feedForward1 leaves ReLU(norm(x)·W1 + b1) in rows [lo, hi) of w.ff.
func (bl *block) feedForward1(w *work, x []float32, lo, hi int) {
	normRows(w.h, x, lo, hi, hidDims, bl.ffNorm)
	bl.ff1.forward(w.ff, w.h, lo, hi, epilogue{relu: true})
}

// normRows applies layer norm to rows [lo, hi) of src (width dim).
func normRows(dst, src []float32, lo, hi, dim int, ln layerNorm) {
	for r := lo; r < hi; r++ {
		x := src[r*dim : (r+1)*dim]
		y := dst[r*dim : (r+1)*dim]
		mean, inv := normStats(x)
		for j, v := range x {
			y[j] = ln.scale[j]*inv*(v-mean) + ln.bias[j]
		}
	}
}

// attendRows is multi-head self-attention for query rows [lo, hi):
// each row attends to every row of its own text. qkv rows hold q, k and
// v side by side, each dim wide and split into numHeads heads; the
// output rows are dim wide.
func attendRows(dst, qkv []float32, seqs []seq, toks []token, lo, hi, dim int, scale float32) {
	for r := lo; r < hi; r++ {
		s := seqs[toks[r].seq]
		for h := range numHeads {
			attendHead(dst, qkv, s, r, h, dim, scale)
		}
	}
}

// attendHead computes head h of query row r of text s:
// softmax(q·kᵀ)·v. The graph scales q before the dot product, and so
// does this.
func attendHead(dst, qkv []float32, s seq, r, h, dim int, scale float32) {
	hd := dim / numHeads
	stride := 3 * dim
	var qbuf [hidDims / numHeads]float32
	var scores [maxTokens]float32
	q := qbuf[:hd]
	for t, v := range qkv[r*stride+h*hd:][:hd] {
		q[t] = v * scale
	}
	p := scores[:s.n]
	maxv := float32(math.Inf(-1))
	for j := range p {
		d := dot(q, qkv[(s.off+j)*stride+dim+h*hd:][:hd])
		p[j] = d
		maxv = max(maxv, d)
	}
	var sum float32
	for j, v := range p {
		e := float32(math.Exp(float64(v - maxv)))
		p[j] = e
		sum += e
	}
	for j := range p {
		p[j] /= sum
	}
	// o = Σ p[j]·v[j], four rows of v per pass over o, as in accum.
	o := dst[r*dim+h*hd:][:hd]
	clear(o)
	v := func(j int) []float32 { return qkv[(s.off+j)*stride+2*dim+h*hd:][:len(o)] }
	j := 0
	for ; j+4 <= len(p); j += 4 {
		p0, p1, p2, p3 := p[j], p[j+1], p[j+2], p[j+3]
		v0, v1, v2, v3 := v(j), v(j+1), v(j+2), v(j+3)
		for t := range o {
			o[t] += p0*v0[t] + p1*v1[t] + p2*v2[t] + p3*v3[t]
		}
	}
	for ; j < len(p); j++ {
		axpy(o, p[j], v(j))
	}
}

// dot is the dot product of a and b (len(b) >= len(a)), summed in four
// interleaved partial sums: one running sum would make every addition
// wait for the previous one.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// meanPool writes the mean of each text's rows (of width dim) of x.
func meanPool(dst, x []float32, seqs []seq, dim int) {
	for i, s := range seqs {
		y := dst[i*dim : (i+1)*dim]
		clear(y)
		for r := s.off; r < s.off+s.n; r++ {
			row := x[r*dim : (r+1)*dim]
			for j, v := range row {
				y[j] += v
			}
		}
		n := float32(s.n)
		for j := range y {
			y[j] /= n
		}
	}
}

// l2Normalize writes src scaled to unit length into dst, as the graph's
// l2_normalize does (with its 1e-12 floor on the squared norm).
func l2Normalize(dst, src []float32) {
	var sq float64
	for _, v := range src {
		sq += float64(v) * float64(v)
	}
	inv := 1 / math.Sqrt(max(sq, 1e-12))
	for j, v := range src {
		dst[j] = float32(float64(v) * inv)
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

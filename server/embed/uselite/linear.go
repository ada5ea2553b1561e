package uselite

// linear is a dense layer y = x·W + b with W of shape [in][out].
type linear struct {
	in, out int
	w       []float32 // row-major [in][out], as stored
	b       []float32
}

func newLinear(w, b []float32, in, out int) *linear {
	return &linear{in: in, out: out, w: w, b: b}
}

// tileBytes bounds the slice of W one pass over the rows reads, so it
// stays in the core's L2 cache (1 MB here) while every row streams
// through it, instead of coming from L3 once per row.
const tileBytes = 256 << 10

// epilogue is what forward does to each output row after x·W + b.
type epilogue struct {
	add  []float32 // added row by row when non-nil (a residual), [rows][out]
	relu bool
}

// forward computes rows [lo, hi) of dst = src·W + b, then applies ep.
// dst, src and ep.add are whole matrices ([rows][out], [rows][in]); ep.add
// must not alias dst. It runs on the calling goroutine: callers split
// rows across goroutines (see split), so that consecutive layers need no
// synchronisation between them.
func (l *linear) forward(dst, src []float32, lo, hi int, ep epilogue) {
	l.rows(dst, src, lo, hi, ep, false)
}

// forwardSparse is forward for inputs that are mostly zero (the output
// of a ReLU): it skips the rows of W whose input is zero, which after the
// feed-forward ReLU is over 90% of them.
func (l *linear) forwardSparse(dst, src []float32, lo, hi int, ep epilogue) {
	l.rows(dst, src, lo, hi, ep, true)
}

func (l *linear) rows(dst, src []float32, lo, hi int, ep epilogue, sparse bool) {
	in, out := l.in, l.out
	tile := max(16, tileBytes/4/in/16*16)
	if sparse || hi-lo <= 2 {
		// Nothing to reuse from L2: a sparse row touches only the few rows
		// of W its nonzero inputs select, and one or two rows read W once.
		tile = out
	}
	var buf [ffDims]int32 // nonzero inputs of a row, for sparse
	idx := buf[:min(in, len(buf))]
	for t0 := 0; t0 < out; t0 += tile {
		t1 := min(t0+tile, out)
		r := lo
		if !sparse {
			// Two rows at a time: each load of W feeds both.
			for ; r+2 <= hi; r += 2 {
				y0 := dst[r*out+t0 : r*out+t1]
				y1 := dst[(r+1)*out+t0 : (r+1)*out+t1]
				copy(y0, l.b[t0:t1])
				copy(y1, l.b[t0:t1])
				l.accum2(y0, y1, src[r*in:(r+1)*in], src[(r+1)*in:(r+2)*in], t0)
				ep.apply(y0, r*out+t0)
				ep.apply(y1, (r+1)*out+t0)
			}
		}
		for ; r < hi; r++ {
			y := dst[r*out+t0 : r*out+t1]
			x := src[r*in : (r+1)*in]
			copy(y, l.b[t0:t1])
			if sparse {
				l.accumSparse(y, x, t0, idx)
			} else {
				l.accum(y, x, t0)
			}
			ep.apply(y, r*out+t0)
		}
	}
}

// accum adds x·W[:, c0:c0+len(y)] to y.
//
// The loop order is input, then columns, four inputs at a time: the
// innermost loop streams four rows of W and y contiguously and does four
// multiply-adds per load and store of y, which the Go compiler turns into
// a tight scalar loop without bounds checks. Of the plain-Go kernels
// tried this was the fastest; register-blocked micro-kernels spill, as
// Go keeps few floats in registers.
func (l *linear) accum(y, x []float32, c0 int) {
	out, w := l.out, l.w
	k := 0
	for ; k+4 <= len(x); k += 4 {
		a0, a1, a2, a3 := x[k], x[k+1], x[k+2], x[k+3]
		w0 := w[k*out+c0:][:len(y)]
		w1 := w[(k+1)*out+c0:][:len(y)]
		w2 := w[(k+2)*out+c0:][:len(y)]
		w3 := w[(k+3)*out+c0:][:len(y)]
		for j := range y {
			y[j] += a0*w0[j] + a1*w1[j] + a2*w2[j] + a3*w3[j]
		}
	}
	for ; k < len(x); k++ {
		axpy(y, x[k], w[k*out+c0:][:len(y)])
	}
}

// accum2 is accum for two rows at once. Each element adds up in the same
// order as in accum, so a row's result does not depend on its neighbour.
func (l *linear) accum2(y0, y1, x0, x1 []float32, c0 int) {
	out, w := l.out, l.w
	x1 = x1[:len(x0)]
	y1 = y1[:len(y0)]
	k := 0
	for ; k+4 <= len(x0); k += 4 {
		a0, a1, a2, a3 := x0[k], x0[k+1], x0[k+2], x0[k+3]
		b0, b1, b2, b3 := x1[k], x1[k+1], x1[k+2], x1[k+3]
		w0 := w[k*out+c0:][:len(y0)]
		w1 := w[(k+1)*out+c0:][:len(y0)]
		w2 := w[(k+2)*out+c0:][:len(y0)]
		w3 := w[(k+3)*out+c0:][:len(y0)]
		for j := range y0 {
			v0, v1, v2, v3 := w0[j], w1[j], w2[j], w3[j]
			y0[j] += a0*v0 + a1*v1 + a2*v2 + a3*v3
			y1[j] += b0*v0 + b1*v1 + b2*v2 + b3*v3
		}
	}
	for ; k < len(x0); k++ {
		axpy(y0, x0[k], w[k*out+c0:][:len(y0)])
		axpy(y1, x1[k], w[k*out+c0:][:len(y0)])
	}
}

// accumSparse is accum over the nonzero inputs only; idx is scratch of
// len(x). Zero inputs add exact zeros in accum, so skipping them changes
// nothing but the grouping of the sums.
func (l *linear) accumSparse(y, x []float32, c0 int, idx []int32) {
	out, w := l.out, l.w
	nz := idx[:0]
	for k, v := range x {
		if v != 0 {
			nz = append(nz, int32(k))
		}
	}
	i := 0
	for ; i+4 <= len(nz); i += 4 {
		k0, k1, k2, k3 := int(nz[i]), int(nz[i+1]), int(nz[i+2]), int(nz[i+3])
		a0, a1, a2, a3 := x[k0], x[k1], x[k2], x[k3]
		w0 := w[k0*out+c0:][:len(y)]
		w1 := w[k1*out+c0:][:len(y)]
		w2 := w[k2*out+c0:][:len(y)]
		w3 := w[k3*out+c0:][:len(y)]
		for j := range y {
			y[j] += a0*w0[j] + a1*w1[j] + a2*w2[j] + a3*w3[j]
		}
	}
	for ; i < len(nz); i++ {
		k := int(nz[i])
		axpy(y, x[k], w[k*out+c0:][:len(y)])
	}
}

// axpy adds a·w to y.
func axpy(y []float32, a float32, w []float32) {
	w = w[:len(y)]
	for j := range y {
		y[j] += a * w[j]
	}
}

// apply finishes one output row segment y, which starts at offset off of
// the output matrix.
func (ep epilogue) apply(y []float32, off int) {
	if ep.add != nil {
		ar := ep.add[off:][:len(y)]
		for j := range y {
			y[j] += ar[j]
		}
	}
	if ep.relu {
		for j, v := range y {
			y[j] = max(v, 0)
		}
	}
}

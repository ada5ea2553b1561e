package uselite

import (
	"fmt"
	"io/fs"
	"math"
)

// Model dimensions (checked against the weights at load).
const (
	vocabRows = 8002 // embedding rows: 8000 pieces + 2 out-of-vocabulary buckets
	embDims   = 256  // token embedding and layer-0 width
	hidDims   = 512  // layer-1 width and output dimension
	ffDims    = 1536 // feed-forward inner width
	numHeads  = 4
	maxTokens = 128 // the graph's ClipToMaxLength
	lnEpsilon = 1e-6
)

// layerNorm is TF's layer_norm over the last dimension.
type layerNorm struct{ scale, bias []float32 }

// block is one Kona transformer layer: pre-norm multi-head self-attention
// and a ReLU feed-forward, each with a residual connection. Layer 0 also
// widens its residual from 256 to 512 with a dense projection. (The
// forward pass uses layer 0 only through the tables derived from it, see
// layer0; the weights stay here for deriving them and for tests.)
type block struct {
	dim      int // input width
	attnNorm layerNorm
	qkv      *linear // dim -> 3*dim: q, k, v side by side
	qScale   float32 // 1/sqrt(head size), applied to q before the dot product
	out      *linear // dim -> hidDims
	widen    *linear // layer 0 only: residual dim -> hidDims
	ffNorm   layerNorm
	ff1, ff2 *linear
}

// model is the whole encoder. It is read-only after load, but for the
// input table's cache, which fills atomically.
type model struct {
	emb    []float32 // [vocabRows][embDims]
	timing []float32 // [maxTokens][embDims]: sin then cos of position*inv timescale
	blocks [2]block
	hidden *linear // tanh layer on the mean-pooled sequence
	l0     *layer0 // layer 0 and layer 1's q, k, v, rewritten around tables
	tok    *tokenizer
}

// loadModel builds the model from the embedded files.
func loadModel(fsys fs.FS) (*model, error) {
	ts, err := readTensors(fsys)
	if err != nil {
		return nil, err
	}
	vocab, err := fs.ReadFile(fsys, "model/vocab.json")
	if err != nil {
		return nil, err
	}
	m := &model{}
	if m.tok, err = newTokenizer(vocab); err != nil {
		return nil, err
	}
	l := loader{ts: ts}
	m.emb = l.get("module/Embeddings_en", vocabRows, embDims)
	inv := l.get(pTS+"Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 1, embDims/2)
	for i := range m.blocks {
		m.blocks[i] = l.block(i)
	}
	m.hidden = l.linear("module/Encoder_en/hidden_layers/tanh_layer_0/weights",
		"module/Encoder_en/hidden_layers/tanh_layer_0/bias", hidDims, hidDims)
	if l.err != nil {
		return nil, l.err
	}
	m.timing = timingSignal(inv)
	if m.blocks[0].widen == nil || m.blocks[1].widen != nil {
		return nil, fmt.Errorf("layer widths: want 256 then 512")
	}
	m.l0 = newLayer0(&m.blocks[0], &m.blocks[1], m.emb, m.timing)
	return m, nil
}

// timingSignal precomputes the sinusoidal position signal for every
// position: the graph computes sin and cos of float32(pos)*inv[i].
func timingSignal(inv []float32) []float32 {
	half := len(inv)
	t := make([]float32, maxTokens*2*half)
	for p := range maxTokens {
		row := t[p*2*half : (p+1)*2*half]
		for i, f := range inv {
			x := float64(float32(p) * f)
			row[i] = float32(math.Sin(x))
			row[half+i] = float32(math.Cos(x))
		}
	}
	return t
}

// loader keeps the first error so building the model reads straight.
type loader struct {
	ts  tensors
	err error
}

func (l *loader) get(name string, dims ...int) []float32 {
	if l.err != nil {
		return nil
	}
	d, err := l.ts.get(name, dims...)
	if err != nil {
		l.err = err
		return make([]float32, prod(dims))
	}
	return d
}

func (l *loader) scalar(name string) float32 {
	if l.err != nil {
		return 0
	}
	v, err := l.ts.scalar(name)
	if err != nil {
		l.err = err
	}
	return v
}

func (l *loader) linear(w, b string, in, out int) *linear {
	return newLinear(l.get(w, in, out), l.get(b, out), in, out)
}

func (l *loader) norm(prefix string, dim int) layerNorm {
	return layerNorm{
		scale: l.get(prefix+"layer_norm/layer_norm_scale/ConcatPartitions/concat", dim),
		bias:  l.get(prefix+"layer_norm/layer_norm_bias/ConcatPartitions/concat", dim),
	}
}

// block reads layer i. Variables live under three prefixes: the
// partitioned ones under Encode/Layer_i, the Conv2D kernels under the
// module's variables and the constant-folded FFN kernels under the stack.
func (l *loader) block(i int) block {
	dim := embDims
	if i == 1 {
		dim = hidDims
	}
	enc := fmt.Sprintf("%sLayer_%d/TransformerLayer/", pEnc, i)
	vars := fmt.Sprintf("%sLayer_%d/TransformerLayer/", pVars, i)
	ts := fmt.Sprintf("%sLayer_%d/TransformerLayer/", pTS, i)
	b := block{
		dim:      dim,
		attnNorm: l.norm(enc+"layer_prepostprocess/", dim),
		qkv: l.linear(vars+"MultiheadAttention/qkv_transform_single/kernel/part_0",
			enc+"MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", dim, 3*dim),
		qScale: l.scalar(ts + "MultiheadAttention/mul/y"),
		out: l.linear(vars+"MultiheadAttention/output_transform_single/kernel/part_0",
			enc+"MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", dim, hidDims),
		ffNorm: l.norm(enc+"FFN/layer_prepostprocess/", hidDims),
		ff1: l.linear(ts+"FFN/conv1/Tensordot/Reshape_1",
			enc+"FFN/conv1/bias/ConcatPartitions/concat", hidDims, ffDims),
		ff2: l.linear(ts+"FFN/conv2/Tensordot/Reshape_1",
			enc+"FFN/conv2/bias/ConcatPartitions/concat", ffDims, hidDims),
	}
	if dim != hidDims {
		b.widen = l.linear(enc+"dense/kernel/ConcatPartitions/concat",
			enc+"dense/bias/ConcatPartitions/concat", dim, hidDims)
	}
	if want := 1 / math.Sqrt(float64(dim/numHeads)); l.err == nil && math.Abs(float64(b.qScale)-want) > 1e-6 {
		l.err = fmt.Errorf("layer %d: query scale %v does not match %d heads", i, b.qScale, numHeads)
	}
	return b
}

func prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

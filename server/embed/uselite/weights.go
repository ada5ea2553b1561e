package uselite

import (
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"slices"
)

// modelFS holds the TF.js model exactly as published (Apache-2.0, see
// model/LICENSE): the graph's weightsManifest tells the tensor names,
// shapes and order inside the concatenated shards.
//
//go:embed model/model.json model/vocab.json model/group1-shard*of7 model/LICENSE
var modelFS embed.FS

// Tensor-name prefixes used in the manifest.
const (
	pTS   = "module_apply_default/Encoder_en/KonaTransformer/Encode/TransformerStack/"
	pEnc  = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
	pVars = "module/Encoder_en/KonaTransformer/Encode/"
)

type manifestWeight struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Dtype string `json:"dtype"`
}

type manifestGroup struct {
	Paths   []string         `json:"paths"`
	Weights []manifestWeight `json:"weights"`
}

// tensors maps a float32 tensor name to its values and shape.
type tensors map[string]tensor

type tensor struct {
	shape []int
	data  []float32
}

// readTensors decodes every float32 tensor listed in model.json's
// weightsManifest from the embedded shards.
func readTensors(fsys fs.FS) (tensors, error) {
	raw, err := fs.ReadFile(fsys, "model/model.json")
	if err != nil {
		return nil, err
	}
	var m struct {
		WeightsManifest []manifestGroup `json:"weightsManifest"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("model.json: %w", err)
	}
	out := tensors{}
	for _, g := range m.WeightsManifest {
		var buf []byte
		for _, p := range g.Paths {
			b, err := fs.ReadFile(fsys, "model/"+p)
			if err != nil {
				return nil, err
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			n := 1
			for _, d := range w.Shape {
				n *= d
			}
			if w.Dtype != "float32" && w.Dtype != "int32" {
				return nil, fmt.Errorf("tensor %s: unsupported dtype %s", w.Name, w.Dtype)
			}
			if off+4*n > len(buf) {
				return nil, fmt.Errorf("tensor %s: shards too short", w.Name)
			}
			if w.Dtype == "float32" {
				data := make([]float32, n)
				for i := range data {
					data[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[off+4*i:]))
				}
				out[w.Name] = tensor{shape: w.Shape, data: data}
			}
			off += 4 * n
		}
		if off != len(buf) {
			return nil, fmt.Errorf("shards hold %d bytes, manifest %d", len(buf), off)
		}
	}
	return out, nil
}

// get returns the named tensor, checking its size (the manifest's shape
// may carry leading 1s, as the 1x1 convolution kernels do).
func (ts tensors) get(name string, dims ...int) ([]float32, error) {
	t, ok := ts[name]
	if !ok {
		return nil, fmt.Errorf("tensor %s missing", name)
	}
	shape := slices.DeleteFunc(slices.Clone(t.shape), func(d int) bool { return d == 1 })
	want := slices.DeleteFunc(slices.Clone(dims), func(d int) bool { return d == 1 })
	if !slices.Equal(shape, want) {
		return nil, fmt.Errorf("tensor %s: shape %v, want %v", name, t.shape, dims)
	}
	return t.data, nil
}

// scalar returns a one-element tensor's value.
func (ts tensors) scalar(name string) (float32, error) {
	d, err := ts.get(name)
	if err != nil {
		return 0, err
	}
	return d[0], nil
}

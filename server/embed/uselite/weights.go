package uselite

import (
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
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
// weightsManifest from the embedded shards. All tensors share one
// allocation, filled straight from the shards through a small buffer:
// on a VM first-touch page faults dominate loading, so no intermediate
// copy of the 28 MB is made.
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
	total := 0
	for _, g := range m.WeightsManifest {
		for _, w := range g.Weights {
			if w.Dtype != "float32" && w.Dtype != "int32" {
				return nil, fmt.Errorf("tensor %s: unsupported dtype %s", w.Name, w.Dtype)
			}
			total += prod(w.Shape)
		}
	}
	// int32 tensors (shape constants of the graph) are decoded too but
	// never looked up.
	all := make([]float32, total)
	out := tensors{}
	off := 0
	for _, g := range m.WeightsManifest {
		n := 0
		for _, w := range g.Weights {
			n += prod(w.Shape)
		}
		if err := readGroup(fsys, g.Paths, all[off:off+n]); err != nil {
			return nil, err
		}
		for _, w := range g.Weights {
			n := prod(w.Shape)
			if w.Dtype == "float32" {
				out[w.Name] = tensor{shape: w.Shape, data: all[off : off+n : off+n]}
			}
			off += n
		}
	}
	return out, nil
}

// readGroup fills dst from the concatenated files, which must hold
// exactly len(dst) little-endian 32-bit values.
func readGroup(fsys fs.FS, paths []string, dst []float32) error {
	var files []io.Reader
	for _, p := range paths {
		f, err := fsys.Open("model/" + p)
		if err != nil {
			return err
		}
		defer f.Close()
		files = append(files, f)
	}
	r := io.MultiReader(files...)
	buf := make([]byte, 64<<10)
	for len(dst) > 0 {
		n := min(len(buf), 4*len(dst))
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return fmt.Errorf("shards %v: %w", paths, err)
		}
		for i := range n / 4 {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		dst = dst[n/4:]
	}
	if n, _ := r.Read(buf[:1]); n != 0 {
		return fmt.Errorf("shards %v: longer than the manifest says", paths)
	}
	return nil
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

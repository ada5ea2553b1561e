package weaviate

import (
	"encoding/json"
	"testing"
)

func TestMetaEntry(t *testing.T) {
	same := [][2]any{
		{float64(1), int(1)}, {float64(1), json.Number("1.0")}, {float64(2.5), float32(2.5)}, {int64(7), float64(7)},
	}
	for _, p := range same {
		a, _ := metaEntry("k", p[0])
		b, _ := metaEntry("k", p[1])
		if a != b {
			t.Errorf("%#v and %#v encode as %q and %q, want equal (numbers compare by value)", p[0], p[1], a, b)
		}
	}
	distinct := []struct {
		k string
		v any
	}{{"k", "1"}, {"k", float64(1)}, {"k", true}, {"k", "true"}, {"k", nil}, {"k", "null"},
		{`k"=`, "x"}, {"k", `"=x`}, {"k=", "x"}, {"k", "=x"}}
	seen := map[string]int{}
	for i, d := range distinct {
		e, ok := metaEntry(d.k, d.v)
		if !ok {
			t.Fatalf("metaEntry(%q, %#v) refused", d.k, d.v)
		}
		if j, dup := seen[e]; dup {
			t.Errorf("pairs %d and %d both encode as %q", j, i, e)
		}
		seen[e] = i
	}
	for _, v := range []any{map[string]any{}, []any{1}, struct{}{}} {
		if _, ok := metaEntry("k", v); ok {
			t.Errorf("metaEntry accepted %#v, which no filter can equal", v)
		}
	}
}

func TestLastOfEach(t *testing.T) {
	in := []Doc{{ID: "a", Type: "1"}, {ID: "b"}, {ID: "a", Type: "2"}, {ID: "c"}}
	out := lastOfEach(in)
	if len(out) != 3 || out[0].ID != "b" || out[1].ID != "a" || out[1].Type != "2" || out[2].ID != "c" {
		t.Fatalf("lastOfEach = %+v", out)
	}
}

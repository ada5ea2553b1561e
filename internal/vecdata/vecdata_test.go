package vecdata

import (
	"math"
	"slices"
	"testing"
)

// The same seed gives the same set; vectors are near their centres'
// norm (1 + spread², in expectation, squared).
func TestClustered(t *testing.T) {
	a, b := Clustered(1, 50, 64, 5, 0.6), Clustered(1, 50, 64, 5, 0.6)
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("vector %d differs between two runs with one seed", i)
		}
	}
	if c := Clustered(2, 50, 64, 5, 0.6); slices.Equal(a[0], c[0]) {
		t.Fatal("another seed gave the same first vector")
	}
	var sum float64
	for _, v := range a {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		sum += n
	}
	if mean := sum / float64(len(a)); math.Abs(mean-1.36) > 0.3 {
		t.Fatalf("mean squared norm %.2f, want about 1.36", mean)
	}
}

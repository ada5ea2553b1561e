package service

import (
	"slices"
	"testing"
)

// differ finds what a workspace's sync must apply: ids stored but not
// indexed (to upsert) and indexed but not stored (to delete), each once.
func TestDiffer(t *testing.T) {
	for _, tc := range []struct {
		stored, indexed, want []string
	}{
		{nil, nil, nil},
		{[]string{"a", "b"}, []string{"a", "b"}, nil},
		{[]string{"a", "b", "c"}, nil, []string{"a", "b", "c"}},
		{nil, []string{"x"}, []string{"x"}},
		{[]string{"a", "b", "c"}, []string{"b", "x", "y"}, []string{"a", "c", "x", "y"}},
	} {
		got := differ(tc.stored, tc.indexed)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("differ(%v, %v) = %v, want %v", tc.stored, tc.indexed, got, tc.want)
		}
	}
}

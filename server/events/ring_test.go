package events

import (
	"testing"
)

func seqs(es []*entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.seq
	}
	return out
}

func TestRingAfter(t *testing.T) {
	r := newRing(4, 10)
	if _, ok := r.after(nil, 9, 10); ok {
		t.Fatal("cursor below the floor must miss the ring")
	}
	if got, ok := r.after(nil, 10, 10); !ok || len(got) != 0 {
		t.Fatalf("empty ring at head: %v %v", seqs(got), ok)
	}
	// Gaps in seq (rolled-back transactions) are normal.
	for _, s := range []int64{11, 13, 14, 17} {
		r.push(&entry{seq: s})
	}
	check := func(cursor int64, max int, want []int64, wantOK bool) {
		t.Helper()
		got, ok := r.after(nil, cursor, max)
		if ok != wantOK || !equal(seqs(got), want) {
			t.Fatalf("after(%d, %d) = %v %v, want %v %v", cursor, max, seqs(got), ok, want, wantOK)
		}
	}
	check(10, 10, []int64{11, 13, 14, 17}, true)
	check(12, 10, []int64{13, 14, 17}, true)
	check(13, 1, []int64{14}, true)
	check(17, 10, nil, true)
	check(20, 10, nil, true)
	// Full: pushing evicts the oldest and raises the floor.
	r.push(&entry{seq: 18})
	if r.floor != 11 || r.head != 18 {
		t.Fatalf("floor, head = %d, %d; want 11, 18", r.floor, r.head)
	}
	check(10, 10, nil, false)
	check(11, 10, []int64{13, 14, 17, 18}, true)
	for s := int64(19); s < 30; s++ {
		r.push(&entry{seq: s})
	}
	check(25, 10, []int64{26, 27, 28, 29}, true)
	check(24, 10, nil, false)
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
